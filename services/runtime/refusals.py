"""Which outbox records the broker can never take, so the relay parks them instead of retrying.

Only failures that belong to the record itself count: its size, its topic name, a broker refusing
its content. Everything else (broker down, timeouts, leadership changes, authorisation, a stopped
producer) would fail every record alike and is retried, so no record is parked for an outage.
"""

from __future__ import annotations

import re
from typing import Any

from aiokafka import errors

TOPIC_MAX_LENGTH = 249
LEGAL_TOPIC = re.compile(rf"^[A-Za-z0-9._-]{{1,{TOPIC_MAX_LENGTH}}}$")
"""Kafka's rule for topic names; the client would wait for metadata of any other name for
its whole request timeout and then report it as an unknown, retriable topic."""

_REFUSED_BY_THE_BROKER: tuple[tuple[type[BaseException], str], ...] = (
    (errors.MessageSizeTooLargeError, "too_large"),
    (errors.RecordListTooLargeError, "too_large"),
    (errors.RecordTooLargeError, "too_large"),
    (errors.InvalidTopicError, "invalid_topic"),
    (errors.CorruptRecordException, "invalid_record"),
    (errors.InvalidTimestampError, "invalid_record"),
    (errors.UnsupportedForMessageFormatError, "invalid_record"),
    (errors.PolicyViolationError, "refused_by_policy"),
)


class Unsendable(Exception):
    """An outbox document that is no Kafka record at all (bad topic name, value not bytes…)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def refused_before_sending(doc: dict[str, Any]) -> Unsendable | None:
    """Why ``doc`` cannot be sent as it is, checked before the producer sees it."""
    topic = doc.get("topic")
    if not isinstance(topic, str) or LEGAL_TOPIC.match(topic) is None or topic in {".", ".."}:
        return Unsendable("invalid_topic", "not a legal Kafka topic name")
    key, value = doc.get("key"), doc.get("value")
    if not isinstance(key, bytes | None) or not (
        isinstance(value, bytes) or (value is None and isinstance(key, bytes))
    ):
        return Unsendable("invalid_record",
                          "key and value must be bytes (a tombstone: a key and no value)")
    headers = doc.get("headers")
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        return Unsendable("invalid_record", "headers must map text to text")
    return None


def never_accepted(error: BaseException) -> str | None:
    """The reason the broker will never take the record that failed with ``error``, or None
    when sending it again may succeed."""
    if isinstance(error, Unsendable):
        return error.reason
    for kind, reason in _REFUSED_BY_THE_BROKER:
        if isinstance(error, kind):
            return reason
    return None
