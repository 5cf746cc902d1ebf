"""Events of the sessions service: a mentorship's sessions, both sides' feedback, its end.

A mentorship is identified by the id of the confirmed pair, so ``pair_id`` links every session
back to the matching that created it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import Event, Identifier, ReasonCode, Timestamp
from contracts.enrolment import Topic

_PRODUCER = "sessions"
_TENANT = "bu-retail-banking"
_COHORT = "coh-2025-autumn"
_PAIR = "pair-9d2e41b7"
_SESSION = "sess-9d2e41b7-03"


class SessionFormat(StrEnum):
    """How a session is held; video sessions carry a link."""

    IN_PERSON = "in_person"
    VIDEO = "video"


class CancelledBy(StrEnum):
    """Who cancelled a session; ``system`` when the platform did (e.g. on a withdrawal)."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    ADMIN = "admin"
    SYSTEM = "system"


class CancellationReason(StrEnum):
    """Why a session was cancelled; a closed list, so no free text with personal data travels."""

    RESCHEDULED = "rescheduled"
    PARTICIPANT_UNAVAILABLE = "participant_unavailable"
    PARTICIPANT_WITHDRAWN = "participant_withdrawn"
    MENTORSHIP_ENDED = "mentorship_ended"
    OTHER = "other"


class MentorshipOutcome(StrEnum):
    """``completed``: the session target was reached; ``ended_early``: it was not."""

    COMPLETED = "completed"
    ENDED_EARLY = "ended_early"


class SessionFeedback(BaseModel):
    """One side's feedback on a session; both sides give it because learning is mutual."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    rating: int = Field(ge=1, le=5, description="Satisfaction, 1 (poor) to 5 (excellent).")
    learned_something: bool = Field(description="Whether this side learned something new.")
    topics: list[Topic] = Field(
        default_factory=list, max_length=10,
        description="Topics the session covered, from the enrolment topic vocabulary.",
    )
    comment: str | None = Field(
        None, max_length=1000,
        description="Never filled by the sessions service: free text on an append-only topic "
        "is out of erasure's reach. Kept for compatibility; private notes stay in the service.",
    )


class SessionScheduled(Event):
    """A session of a mentorship was put in both calendars (invitations carry an .ics file).

    A reschedule publishes it again with the same ``session_id`` and the next ``revision`` (the
    invitation's iCalendar UID and SEQUENCE). The sessions service leaves ``video_link`` and
    ``location`` empty: a meeting link may open someone's personal meeting room and a place is
    free text, and neither can be erased from an append-only topic. Both stay in the service.
    """

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": _TENANT,
                    "cohort_id": _COHORT,
                    "session_id": _SESSION,
                    "pair_id": _PAIR,
                    "mentor_id": "p-4f1c9e2a",
                    "mentee_id": "p-b83a0c55",
                    "sequence": 3,
                    "revision": 1,
                    "starts_at": "2025-11-12T16:00:00+01:00",
                    "duration_minutes": 60,
                    "format": "video",
                    "video_link": None,
                    "location": None,
                }
            ]
        }
    )

    session_id: Identifier = Field(description="Id of the session.")
    pair_id: Identifier = Field(description="The mentorship (confirmed pair) it belongs to.")
    mentor_id: Identifier = Field(description="Participant id of the mentor.")
    mentee_id: Identifier = Field(description="Participant id of the mentee.")
    sequence: int = Field(
        ge=1, le=1000, description="Number of the session within the mentorship, from 1."
    )
    revision: int = Field(
        0, ge=0, le=1000,
        description="iCalendar SEQUENCE: 0 when first scheduled, +1 on every reschedule.",
    )
    starts_at: Timestamp = Field(description="Start of the session.")
    duration_minutes: int = Field(ge=5, le=480, description="Planned length in minutes.")
    format: SessionFormat = Field(description="How the session is held.")
    video_link: str | None = Field(
        None,
        pattern=r"^https://\S+$",
        max_length=2000,
        description="Meeting link; left empty by the sessions service (see above).",
    )
    location: str | None = Field(
        None, max_length=300, description="Meeting place; left empty by the sessions service."
    )

    def subject(self) -> str:
        """The session the fact is about."""
        return self.session_id


class SessionCompleted(Event):
    """A session took place and its feedback is in.

    Published once per session: when both sides have given feedback, or when the feedback window
    after the session closed, so feedback of either side may be missing. Carries ratings, learned
    flags and topics only; private notes never leave the sessions service.
    """

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": _TENANT,
                    "cohort_id": _COHORT,
                    "session_id": _SESSION,
                    "pair_id": _PAIR,
                    "held_at": "2025-11-12T16:00:00+01:00",
                    "mentor_feedback": {
                        "rating": 5, "learned_something": True, "topics": ["negotiation"],
                    },
                    "mentee_feedback": {
                        "rating": 4, "learned_something": True, "topics": ["genai", "prompting"],
                    },
                }
            ]
        }
    )

    session_id: Identifier = Field(description="Id of the session.")
    pair_id: Identifier = Field(description="The mentorship it belongs to.")
    held_at: Timestamp = Field(description="When the session actually took place.")
    mentor_feedback: SessionFeedback | None = Field(None, description="The mentor's feedback.")
    mentee_feedback: SessionFeedback | None = Field(None, description="The mentee's feedback.")

    def subject(self) -> str:
        """The session the fact is about."""
        return self.session_id


class SessionCancelled(Event):
    """A scheduled session will not take place."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": _TENANT,
                    "cohort_id": _COHORT,
                    "session_id": _SESSION,
                    "pair_id": _PAIR,
                    "cancelled_by": "mentee",
                    "cancelled_by_id": "p-b83a0c55",
                    "reason": "rescheduled",
                    "cancelled_at": "2025-11-10T09:12:00+01:00",
                }
            ]
        }
    )

    session_id: Identifier = Field(description="Id of the cancelled session.")
    pair_id: Identifier = Field(description="The mentorship it belongs to.")
    cancelled_by: CancelledBy = Field(description="Who cancelled.")
    cancelled_by_id: Identifier | None = Field(
        None, description="Participant or admin id of who cancelled; none for the system."
    )
    reason: CancellationReason = Field(description="Why the session was cancelled.")
    cancelled_at: Timestamp = Field(description="When it was cancelled.")

    def subject(self) -> str:
        """The session the fact is about."""
        return self.session_id


class MentorshipCompleted(Event):
    """A mentorship ended, either after reaching the cohort's session target or early."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": _TENANT,
                    "cohort_id": _COHORT,
                    "pair_id": _PAIR,
                    "mentor_id": "p-4f1c9e2a",
                    "mentee_id": "p-b83a0c55",
                    "sessions_held": 6,
                    "completed_at": "2026-02-18T17:05:00+01:00",
                    "outcome": "completed",
                    "reason": None,
                }
            ]
        }
    )

    pair_id: Identifier = Field(description="The mentorship (confirmed pair).")
    mentor_id: Identifier = Field(description="Participant id of the mentor.")
    mentee_id: Identifier = Field(description="Participant id of the mentee.")
    sessions_held: int = Field(ge=0, le=1000, description="Sessions that took place.")
    completed_at: Timestamp = Field(description="When the mentorship ended.")
    outcome: MentorshipOutcome = Field(description="Whether the session target was reached.")
    reason: ReasonCode | None = Field(
        None, description="Why it ended early, e.g. participant_withdrawn or an admin's code; "
        "none when the target was reached.",
    )

    def subject(self) -> str:
        """The mentorship the fact is about."""
        return self.pair_id
