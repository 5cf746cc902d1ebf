"""CloudEvents 1.0 structured-mode envelope: the only wire format revmentor speaks.

``encode`` turns an event into a Kafka record (topic, key, value, headers); ``decode`` turns bytes
back into a typed event or raises one ``ContractError`` whose ``reason`` says why the message can
never be processed. Consumers dead-letter exactly these errors.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from contracts.base import Event
from contracts.catalogue import EVENT_TYPES
from contracts.topics import record_key, topic_of

SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
DATA_CONTENT_TYPE = "application/json"
REQUIRED_ATTRIBUTES = (
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "data",
    "tenantid",
    "cohortid",
)
STRING_ATTRIBUTES = (
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "datacontenttype",
    "tenantid",
    "cohortid",
    "correlationid",
    "causationid",
)
ATTRIBUTE_MAX_LENGTH = 512


class ContractError(ValueError):
    """A message that does not honour the contract; retrying it can never succeed.

    ``reason`` is one of ``not_json``, ``not_an_object``, ``missing_attribute``,
    ``invalid_attribute`` (not a string, or too long), ``unsupported_specversion``,
    ``unknown_type``, ``invalid_data``, ``invalid_key`` (a profile record whose key is not
    the one its data names), or ``undecodable`` for anything else decoding raised.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Envelope:
    """A decoded CloudEvent with its typed ``event``."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str | None
    tenant_id: str
    cohort_id: str
    event: Event
    correlation_id: str | None = None
    causation_id: str | None = None


@dataclass(frozen=True)
class Record:
    """A Kafka record ready to publish: what the outbox stores and the relay sends."""

    topic: str
    key: bytes
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    event_id: str = ""


def encode(
    event: Event,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Record:
    """Wrap ``event`` in a CloudEvents envelope addressed to its topic, keyed by its cohort."""
    return encode_as(event, topic=topic_of(type(event)), key=record_key(event), source=source,
                     event_id=event_id, time=time, correlation_id=correlation_id,
                     causation_id=causation_id)


def encode_as(
    event: Event,
    *,
    topic: str,
    key: bytes,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Record:
    """The CloudEvents record of ``event`` for ``topic`` under ``key`` (a compacted topic's
    records are keyed by what they describe, not by cohort)."""
    event_id = event_id or str(uuid.uuid4())
    body: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": event_id,
        "source": source,
        "type": event.event_type(),
        "time": (time or datetime.now(UTC)).isoformat(),
        "subject": event.subject(),
        "datacontenttype": DATA_CONTENT_TYPE,
        "tenantid": event.tenant_id,
        "cohortid": event.cohort_id,
        "data": event.model_dump(mode="json"),
    }
    if correlation_id:
        body["correlationid"] = correlation_id
    if causation_id:
        body["causationid"] = causation_id
    headers = {"content-type": CONTENT_TYPE, "ce_id": event_id, "ce_type": body["type"]}
    value = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Record(topic, key, value, headers, event_id)


def decode(
    value: bytes | str | None, types: Mapping[str, type[Event]] = EVENT_TYPES
) -> Envelope:
    """Parse a structured-mode CloudEvent of one of ``types`` (by default every event of the
    append-only streams); raise ``ContractError`` for anything malformed.

    Whatever ``value`` holds, nothing but a ``ContractError`` escapes: a consumer dead-letters
    exactly these, and any other exception would stop it at this record for good.
    """
    try:
        return _decode(value, types)
    except ContractError:
        raise
    except Exception as exc:  # a case the checks below missed must still not stop a consumer
        raise ContractError("undecodable", f"{type(exc).__name__}: {exc}"[:500]) from None


def _decode(value: bytes | str | None, types: Mapping[str, type[Event]]) -> Envelope:
    try:
        body = json.loads(value) if value is not None else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError("not_json", str(exc)[:500]) from None
    except RecursionError:
        raise ContractError("not_json", "nested too deeply") from None
    if not isinstance(body, dict):
        raise ContractError("not_an_object", f"expected a JSON object, got {type(body).__name__}")
    missing = [name for name in REQUIRED_ATTRIBUTES if body.get(name) in (None, "")]
    if missing:
        raise ContractError("missing_attribute", ", ".join(missing))
    _check_attribute_types(body)
    if body["specversion"] != SPECVERSION:
        raise ContractError("unsupported_specversion", body["specversion"][:100])
    event_cls = types.get(body["type"])
    if event_cls is None:
        raise ContractError("unknown_type", body["type"])
    try:
        time = datetime.fromisoformat(body["time"])
    except ValueError as exc:
        raise ContractError("invalid_data", f"time: {exc}") from None
    try:
        event = event_cls.model_validate(body["data"])
    except ValidationError as exc:
        raise ContractError("invalid_data", _summarise(exc)) from None
    if event.tenant_id != body["tenantid"] or event.cohort_id != body["cohortid"]:
        raise ContractError("invalid_data", "tenantid/cohortid differ from the data")
    return Envelope(
        id=body["id"],
        source=body["source"],
        type=body["type"],
        time=time,
        subject=body.get("subject"),
        tenant_id=event.tenant_id,
        cohort_id=event.cohort_id,
        event=event,
        correlation_id=body.get("correlationid"),
        causation_id=body.get("causationid"),
    )


def _check_attribute_types(body: dict[str, Any]) -> None:
    """Context attributes are bounded strings; a list or an object where one belongs is refused.

    They end up in log lines, inbox rows and the correlation of every event caused by this one.
    """
    for name in STRING_ATTRIBUTES:
        value = body.get(name)
        if value is None and name not in REQUIRED_ATTRIBUTES:
            continue
        if not isinstance(value, str):
            raise ContractError("invalid_attribute", f"{name}: expected a string")
        if len(value) > ATTRIBUTE_MAX_LENGTH:
            raise ContractError(
                "invalid_attribute", f"{name}: longer than {ATTRIBUTE_MAX_LENGTH} characters"
            )


def _summarise(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'data'}: {err['msg']}" for err in exc.errors()
    )[:500]
