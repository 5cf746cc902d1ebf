"""Topic names, their configuration and the keying rule, in one place for every service.

Two kinds of topic. The **event streams** (one per producing service and major version) are
append-only and kept forever: consumers rebuild their projections from offset 0, so nothing
that must ever be erased may be written to them (no name, e-mail address or free text). Their
record key is the cohort id, so every event of a cohort lands on one partition and keeps its
order. The **profile topic** is compacted: it holds contact details and free text keyed per
enrolment, and a withdrawal writes a tombstone (a record with a null value) for the key, which
consumers obey at once and the broker's log cleaner follows within ``max.compaction.lag.ms``.

Each topic's configuration is declared here (:data:`TOPIC_SPECS`) and applied by the runtime at
every service start (``services.runtime.topic_setup``), which creates missing topics with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.base import Event

PREFIX = "revmentor"
DLQ_SUFFIX = ".dlq"

ENROLMENT = f"{PREFIX}.enrolment.v1"
MATCHING = f"{PREFIX}.matching.v1"
SESSIONS = f"{PREFIX}.sessions.v1"
NOTIFICATIONS = f"{PREFIX}.notifications.v1"
PROFILES = f"{PREFIX}.enrolment.profiles.v1"
"""Compacted: one ``ParticipantProfile`` per enrolment, a tombstone once it is withdrawn."""

EVENT_STREAMS = (ENROLMENT, MATCHING, SESSIONS, NOTIFICATIONS)
"""The append-only topics: pseudonymous ids and matching attributes only."""
ALL_TOPICS = (*EVENT_STREAMS, PROFILES)

DAY_MS = 24 * 60 * 60 * 1000
MAX_COMPACTION_LAG_MS = 7 * DAY_MS
"""A profile value superseded by a tombstone is erased from the log within this bound (on
Apache Kafka; see docs/events.md for what each tier does)."""
DELETE_RETENTION_MS = 7 * DAY_MS
"""How long a tombstone stays readable after compaction: a consumer that is down for less than
this still sees it. One that is down longer still erases on ``ParticipantWithdrawn``, which the
append-only enrolment stream keeps forever."""
KEEP_FOREVER = "-1"


@dataclass(frozen=True)
class TopicSpec:
    """A topic as the platform creates it: name, partitions and topic-level configuration."""

    name: str
    partitions: int
    config: Mapping[str, str] = field(default_factory=dict)

    @property
    def compacted(self) -> bool:
        return "compact" in self.config.get("cleanup.policy", "")


def _frozen(config: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(config)


STREAM_PARTITIONS = 6
"""Per-cohort order needs one partition per cohort, not one topic partition overall; six let
six replicas of a consumer share the load."""

EVENT_STREAM_CONFIG = _frozen({"cleanup.policy": "delete", "retention.ms": KEEP_FOREVER})
PROFILE_CONFIG = _frozen({
    "cleanup.policy": "compact",
    "max.compaction.lag.ms": str(MAX_COMPACTION_LAG_MS),
    "delete.retention.ms": str(DELETE_RETENTION_MS),
})
DEAD_LETTER_CONFIG = _frozen({"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)})
"""An operator has a month to fix and replay a dead letter."""
PROFILE_DEAD_LETTER_CONFIG = _frozen(
    {"cleanup.policy": "delete", "retention.ms": str(MAX_COMPACTION_LAG_MS)})
"""A malformed profile may still hold personal data: it expires within the erasure bound."""


def dead_letter_topic(topic: str) -> str:
    """Where messages of ``topic`` that can never be processed are parked."""
    return f"{topic}{DLQ_SUFFIX}"


TOPIC_SPECS: tuple[TopicSpec, ...] = (
    *(TopicSpec(name, STREAM_PARTITIONS, EVENT_STREAM_CONFIG) for name in EVENT_STREAMS),
    TopicSpec(PROFILES, STREAM_PARTITIONS, PROFILE_CONFIG),
    *(TopicSpec(dead_letter_topic(name), 1, DEAD_LETTER_CONFIG) for name in EVENT_STREAMS),
    TopicSpec(dead_letter_topic(PROFILES), 1, PROFILE_DEAD_LETTER_CONFIG),
)
SPEC_OF: Mapping[str, TopicSpec] = MappingProxyType({s.name: s for s in TOPIC_SPECS})


def topic_of(event_cls: type[Event]) -> str:
    """The topic an event class is published on."""
    return f"{PREFIX}.{event_cls.producer}.v{event_cls.version}"


def record_key(event: Event) -> bytes:
    """The Kafka record key: the cohort id, so per-cohort order is kept."""
    return event.cohort_id.encode()
