"""Topic names and the keying rule, in one place for producers and subscribers alike.

One topic per producing service and major version; the record key is the cohort id so that every
event of a cohort lands on one partition and keeps its order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.base import Event

PREFIX = "revmentor"
DLQ_SUFFIX = ".dlq"

ENROLMENT = f"{PREFIX}.enrolment.v1"
MATCHING = f"{PREFIX}.matching.v1"
SESSIONS = f"{PREFIX}.sessions.v1"
NOTIFICATIONS = f"{PREFIX}.notifications.v1"

ALL_TOPICS = (ENROLMENT, MATCHING, SESSIONS, NOTIFICATIONS)


def topic_of(event_cls: type[Event]) -> str:
    """The topic an event class is published on."""
    return f"{PREFIX}.{event_cls.producer}.v{event_cls.version}"


def dead_letter_topic(topic: str) -> str:
    """Where messages of ``topic`` that can never be processed are parked."""
    return f"{topic}{DLQ_SUFFIX}"


def record_key(event: Event) -> bytes:
    """The Kafka record key: the cohort id, so per-cohort order is kept."""
    return event.cohort_id.encode()
