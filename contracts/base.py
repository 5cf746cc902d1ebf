"""The base every revmentor event is built on.

An event is a past-tense fact owned by one producing service. Its CloudEvents ``type`` and its
topic are derived from the class, so a name can never drift between producer and consumer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

ID_MAX_LENGTH = 128
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _within_the_window(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
    return value


Identifier = Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]
"""An id of a tenant, cohort, participant, pair, round, session or notification."""
Timestamp = Annotated[AwareDatetime, AfterValidator(_within_the_window)]
"""An instant with its UTC offset, 1970 to 2200: every store and every consumer can hold it
(BSON dates end in the year 9999 after conversion to UTC, Python's before any offset)."""

REASON_CODE_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,63}$"
ReasonCode = Annotated[
    str,
    Field(
        pattern=REASON_CODE_PATTERN,
        max_length=64,
        description="A short code such as moved_role; never free text, which could hold personal "
        "data that no erasure reaches once it is on an append-only topic.",
    ),
]
"""Why something ended (a withdrawal, a decline, a cancellation), as a code, in every event."""


class Event(BaseModel):
    """A fact published by one service; every event belongs to a tenant and a cohort.

    Unknown fields are ignored on decode so that a v1 consumer keeps working when a producer adds
    an optional field (BACKWARD compatibility within a major version; docs/architecture.md).
    Every string, list and date is bounded, so no event can outgrow what the broker takes (1 MB).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    producer: ClassVar[str]
    """The producing service, e.g. ``enrolment``; it names the topic."""
    version: ClassVar[int] = 1
    """Major version of this event's contract; a breaking change is a new version."""

    tenant_id: Identifier = Field(description="Business unit (tenant) that runs the cohort.")
    cohort_id: Identifier = Field(
        description="Cohort the fact belongs to; also the Kafka record key."
    )

    @classmethod
    def event_type(cls) -> str:
        """The versioned CloudEvents type, e.g. ``revmentor.enrolment.ParticipantEnrolled.v1``."""
        return f"revmentor.{cls.producer}.{cls.__name__}.v{cls.version}"

    def subject(self) -> str:
        """The CloudEvents ``subject``: the entity the fact is about (defaults to the cohort)."""
        return self.cohort_id
