"""Events of the enrolment service: cohorts open and close, participants opt in and out.

``ParticipantEnrolled`` is the only event that carries a person's name and e-mail address: the
notifications service needs them to send invitations. Every consumer must erase what it kept of a
participant when it sees ``ParticipantWithdrawn`` (GDPR, see docs/architecture.md).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from contracts.base import Event, Identifier, ReasonCode, Timestamp
from contracts.policy import (  # re-exported: the policy is part of CohortOpened's contract
    CrossDepartment,
    MatchingMode,
    MatchingPolicy,
    Objective,
    ScoringWeights,
)

__all__ = [
    "Actor",
    "CloseReason",
    "CohortClosed",
    "CohortOpened",
    "CrossDepartment",
    "MatchingMode",
    "MatchingPolicy",
    "Objective",
    "ParticipantEnrolled",
    "ParticipantWithdrawn",
    "PreferredFormat",
    "Role",
    "ScoringWeights",
]

_PRODUCER = "enrolment"

LanguageCode = Annotated[
    str,
    Field(
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        max_length=35,
        description="BCP 47 tag, e.g. de.",
    ),
]
Topic = Annotated[str, Field(min_length=1, max_length=80, description="Topic label, e.g. genai.")]
TOPICS_MAX = 50
"""Topics one person may offer or want (the enrolment API allows fewer)."""
COUNT_MAX = 10_000_000
"""Upper bound of any head count in an event: far above any cohort, far below BSON's int64."""


class Role(StrEnum):
    """Which side of the mentorship a participant is on (the mentor is the junior one)."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class PreferredFormat(StrEnum):
    """How a participant wants to meet; ``either`` matches any partner."""

    IN_PERSON = "in_person"
    VIDEO = "video"
    EITHER = "either"


class Actor(StrEnum):
    """Who performed an enrolment change: the person themself or a programme admin."""

    SELF = "self"
    ADMIN = "admin"


class CloseReason(StrEnum):
    """Why enrolment ended: an admin closed it early, or the window ran out."""

    ADMIN = "admin"
    WINDOW_ENDED = "window_ended"


class CohortOpened(Event):
    """A programme admin opened a cohort for enrolment under a fixed matching policy."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": "bu-retail-banking",
                    "cohort_id": "coh-2025-autumn",
                    "name": "Reverse Mentoring Autumn 2025: AI at work",
                    "languages": ["de", "en"],
                    "opens_at": "2025-09-01T08:00:00+02:00",
                    "closes_at": "2025-09-30T18:00:00+02:00",
                    "session_target": 6,
                    "matching_policy": {
                        "mode": "batch",
                        "mentor_capacity": 2,
                        "min_level_gap": 3,
                        "cross_department": "preferred",
                        "max_timezone_gap_hours": 4,
                        "exclude_reporting_line": True,
                        "objective": "max_score",
                        "weights": {
                            "topic_fit": 1.0,
                            "reverse_topic_fit": 0.4,
                            "format": 0.2,
                            "cross_department": 0.3,
                            "goal_similarity": 0.2,
                        },
                    },
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200, description="Display name of the cohort.")
    languages: list[LanguageCode] = Field(
        min_length=1, max_length=32, description="Languages sessions of this cohort may be held in."
    )
    opens_at: Timestamp = Field(description="Start of the enrolment window.")
    closes_at: Timestamp = Field(description="End of the enrolment window (after opens_at).")
    session_target: int = Field(
        6, ge=1, le=52, description="Sessions a mentorship should hold to count as completed."
    )
    matching_policy: MatchingPolicy = Field(
        MatchingPolicy(), description="Rules every matching round of this cohort follows."
    )

    @model_validator(mode="after")
    def _window_is_ordered(self) -> CohortOpened:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class CohortClosed(Event):
    """Enrolment ended; in batch mode this triggers the matching round."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": "bu-retail-banking",
                    "cohort_id": "coh-2025-autumn",
                    "closed_at": "2025-09-30T18:00:00+02:00",
                    "reason": "window_ended",
                    "enrolled_mentors": 212,
                    "enrolled_mentees": 187,
                }
            ]
        }
    )

    closed_at: Timestamp = Field(description="When enrolment ended.")
    reason: CloseReason = Field(description="Why enrolment ended.")
    enrolled_mentors: int = Field(
        ge=0, le=COUNT_MAX, description="Mentors enrolled (not withdrawn) at close."
    )
    enrolled_mentees: int = Field(
        ge=0, le=COUNT_MAX, description="Mentees enrolled (not withdrawn) at close."
    )


class ParticipantEnrolled(Event):
    """A person opted in to a cohort, stating role, wishes and expectations up front."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": "bu-retail-banking",
                    "cohort_id": "coh-2025-autumn",
                    "participant_id": "p-4f1c9e2a",
                    "role": "mentor",
                    "name": "Lea Schneider",
                    "email": "lea.schneider@example.com",
                    "department": "Digital Channels",
                    "manager_id": "e-30817",
                    "manager_chain": ["e-30817", "e-11204", "e-00042"],
                    "career_level": 2,
                    "topics_offered": ["genai", "social-media", "collaboration-tools"],
                    "topics_wanted": ["stakeholder-management", "negotiation"],
                    "languages": ["de", "en"],
                    "time_zone": "Europe/Berlin",
                    "utc_offset_hours": 2,
                    "preferred_format": "either",
                    "goals": "Show how we use AI assistants daily; learn how decisions get made.",
                    "consent_given_at": "2025-09-03T10:15:00+02:00",
                    "enrolled_by": "self",
                }
            ]
        }
    )

    participant_id: Identifier = Field(description="Stable pseudonymous participant id.")
    role: Role = Field(description="Side of the mentorship the participant enrolled for.")
    name: str = Field(
        min_length=1,
        max_length=200,
        description="Display name. PERSONAL DATA: erased by every service on withdrawal.",
    )
    email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+$",
        max_length=320,
        description="E-mail address for invitations. PERSONAL DATA: erased on withdrawal; "
        "never logged and never copied into another event.",
    )
    department: str = Field(
        min_length=1, max_length=200, description="Department, for cross-department pairing."
    )
    manager_id: Identifier | None = Field(None, description="Employee id of the direct manager.")
    manager_chain: list[Identifier] = Field(
        default_factory=list,
        max_length=50,
        description="Employee ids of the reporting line, direct manager first, upwards.",
    )
    career_level: int = Field(
        ge=1, le=10, description="Career level, 1 = entry; the mentor must be below the mentee."
    )
    topics_offered: list[Topic] = Field(
        default_factory=list, max_length=TOPICS_MAX, description="Topics this person can teach."
    )
    topics_wanted: list[Topic] = Field(
        default_factory=list,
        max_length=TOPICS_MAX,
        description="Topics this person wants to learn.",
    )
    languages: list[LanguageCode] = Field(
        min_length=1, max_length=32, description="Languages spoken."
    )
    time_zone: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$",
        max_length=64,
        description="IANA time zone name, e.g. Europe/Berlin.",
    )
    utc_offset_hours: float = Field(
        ge=-12, le=14, description="Current UTC offset in hours, for time-zone compatibility."
    )
    preferred_format: PreferredFormat = Field(description="How the person prefers to meet.")
    goals: str = Field(
        "",
        max_length=2000,
        description="Goals and expectations in free text. PERSONAL DATA: erased on withdrawal.",
    )
    consent_given_at: Timestamp = Field(
        description="When the person explicitly opted in (participation is voluntary)."
    )
    enrolled_by: Actor = Field(Actor.SELF, description="Who submitted the enrolment.")

    def subject(self) -> str:
        """The participant the fact is about."""
        return self.participant_id


class ParticipantWithdrawn(Event):
    """A participant left; every service must erase the person's personal data."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": "bu-retail-banking",
                    "cohort_id": "coh-2025-autumn",
                    "participant_id": "p-4f1c9e2a",
                    "role": "mentor",
                    "withdrawn_at": "2025-10-14T09:30:00+02:00",
                    "withdrawn_by": "self",
                    "reason": "moved_role",
                }
            ]
        }
    )

    participant_id: Identifier = Field(description="The participant who left.")
    role: Role = Field(description="Side the participant had enrolled for.")
    withdrawn_at: Timestamp = Field(description="When the withdrawal took effect.")
    withdrawn_by: Actor = Field(description="Who withdrew the participant.")
    reason: ReasonCode | None = Field(None, description="Optional reason code, e.g. moved_role.")

    def subject(self) -> str:
        """The participant the fact is about."""
        return self.participant_id
