"""The profile topic: contact details and free text of one enrolment, erasable by a tombstone.

Nothing personal travels on the append-only event streams. What a service needs to reach or
understand a person (name, e-mail address, locale for notifications, the goals text for
matching's similarity factor) is published on ``revmentor.enrolment.profiles.v1``, a compacted
topic, as a :class:`ParticipantProfile` in the usual CloudEvents envelope, keyed per enrolment by
:func:`profile_key`. Withdrawal publishes a **tombstone**: a record with that key and a null
value. Every consumer erases its copy when it sees the tombstone; the broker's log cleaner erases
the superseded value within ``max.compaction.lag.ms`` (see ``contracts.topics``).

The key is per enrolment, not per person: a participant id is a directory id, the same in
several cohorts and not unique across business units, and a withdrawal erases one enrolment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import ConfigDict, Field

from contracts.base import Event, Identifier, Timestamp
from contracts.enrolment import LanguageCode
from contracts.envelope import ContractError, Envelope, Record, decode, encode_as
from contracts.topics import PROFILES

KEY_SEPARATOR = "/"
KEY_MAX_BYTES = 1024

ParticipantKeyId = Annotated[
    Identifier, Field(pattern=r"^[^/]+$", description="Stable pseudonymous participant id.")]
"""A participant id never holds the key separator, so a profile key splits back unambiguously."""


class ParticipantProfile(Event):
    """How to address one enrolled person, and what they wrote; erased on withdrawal.

    PERSONAL DATA: published only on the compacted profile topic, never on an event stream.
    """

    producer = "enrolment"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": "bu-retail-banking",
                    "cohort_id": "coh-2025-autumn",
                    "participant_id": "p-4f1c9e2a",
                    "name": "Lea Schneider",
                    "email": "lea.schneider@example.com",
                    "locale": "de",
                    "goals": "Show how we use AI assistants daily; learn how decisions get made.",
                    "enrolled_at": "2025-09-03T10:15:00+02:00",
                }
            ]
        }
    )

    participant_id: ParticipantKeyId
    name: str = Field(min_length=1, max_length=200, description="Display name.")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320,
                       description="E-mail address for invitations; never logged.")
    locale: LanguageCode = Field(description="Language of notifications (BCP 47), e.g. de.")
    goals: str = Field("", max_length=2000,
                       description="Goals and expectations in free text, for matching.")
    enrolled_at: Timestamp | None = Field(
        None, description="When the enrolment was made: a consumer can tell a late copy of an "
        "earlier, withdrawn enrolment of the same person from a new one.")

    def subject(self) -> str:
        """The participant the profile is about."""
        return self.participant_id

    @property
    def key(self) -> str:
        return profile_key(self.cohort_id, self.participant_id)


PROFILE_TYPES: dict[str, type[Event]] = {ParticipantProfile.event_type(): ParticipantProfile}


def profile_key(cohort_id: str, participant_id: str) -> str:
    """The record key of one enrolment's profile: ``<cohort_id>/<participant_id>``."""
    return f"{cohort_id}{KEY_SEPARATOR}{participant_id}"


def parse_profile_key(key: bytes | None) -> tuple[str, str]:
    """``(cohort_id, participant_id)`` of a profile record's key; ``ContractError`` otherwise."""
    if key is None or len(key) > KEY_MAX_BYTES:
        raise ContractError("invalid_key", "a profile record needs a key of at most 1 KiB")
    try:
        text = key.decode()
    except UnicodeDecodeError:
        raise ContractError("invalid_key", "the key is not UTF-8") from None
    cohort_id, _, participant_id = text.rpartition(KEY_SEPARATOR)
    if not cohort_id or not participant_id:
        raise ContractError("invalid_key", "expected <cohort_id>/<participant_id>")
    return cohort_id, participant_id


def encode_profile(profile: ParticipantProfile, *, source: str, event_id: str | None = None,
                   correlation_id: str | None = None, causation_id: str | None = None
                   ) -> Record:
    """The profile record: its CloudEvent on the profile topic, keyed by the enrolment."""
    return encode_as(profile, topic=PROFILES, key=profile.key.encode(), source=source,
                     event_id=event_id, correlation_id=correlation_id,
                     causation_id=causation_id)


@dataclass(frozen=True)
class Tombstone:
    """A record with a key and a null value: on a compacted topic, the erasure of the key."""

    topic: str
    key: bytes
    event_id: str = ""
    """Not a CloudEvent id (a tombstone has no body); an id for the outbox and its logs."""
    value: None = None
    headers: dict[str, str] = field(default_factory=dict)


def encode_tombstone(cohort_id: str, participant_id: str, *, event_id: str = "") -> Tombstone:
    """The tombstone of one enrolment's profile: its key and a null value."""
    return Tombstone(PROFILES, profile_key(cohort_id, participant_id).encode(), event_id)


def decode_profile(key: bytes | None, value: bytes | str) -> Envelope:
    """The profile a record holds; ``ContractError`` if malformed or keyed by another enrolment
    (a tombstone for its key would not erase it)."""
    envelope = decode(value, PROFILE_TYPES)
    profile = envelope.event
    assert isinstance(profile, ParticipantProfile)
    if parse_profile_key(key) != (profile.cohort_id, profile.participant_id):
        raise ContractError("invalid_key", "the key names another enrolment than the data")
    return envelope


def decode_tombstone(key: bytes | None) -> tuple[str, str]:
    """``(cohort_id, participant_id)`` of the enrolment a tombstone erases."""
    return parse_profile_key(key)
