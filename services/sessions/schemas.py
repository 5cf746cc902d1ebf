"""What the sessions HTTP API takes and returns: plans, feedback, and mentorship, session,
feedback and KPI views.

Requests bound every size (strings, lists, integers to 32 bits, dates to what a UTC instant can
hold); the domain judges the values and names the rule a value breaks, with its allowed range.
Meeting details are shown to the two members only; a private note only to its author.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from contracts.base import ReasonCode
from contracts.enrolment import Topic
from contracts.sessions import CancellationReason, CancelledBy, SessionFormat
from services.runtime.clock import to_millis
from services.sessions.domain import (
    MAX_DURATION,
    MAX_RATING,
    MIN_DURATION,
    MIN_RATING,
    Feedback,
    Mentorship,
    MentorshipStatus,
    Plan,
    Session,
    SessionStatus,
)
from services.sessions.kpis import Kpis

__all__ = ["CancelRequest", "EndRequest", "FeedbackRequest", "FeedbackView", "Kpis",
           "MentorshipView", "SessionPlan", "SessionView"]

Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


def _utc(moment: datetime) -> datetime:
    """The instant in UTC at the database's precision; one a UTC date cannot hold is refused."""
    try:
        return to_millis(moment.astimezone(UTC))
    except OverflowError:
        raise ValueError("the instant lies outside the years 1 to 9999 in UTC") from None


Instant = Annotated[AwareDatetime, AfterValidator(_utc)]


class SessionPlan(BaseModel):
    """A session to schedule, or the new plan of a scheduled one."""

    model_config = ConfigDict(extra="forbid")

    starts_at: Instant = Field(description="Start, with its UTC offset; not in the past, at "
                               "most a year ahead.")
    duration_minutes: Int32 = Field(description=f"{MIN_DURATION} to {MAX_DURATION} minutes.")
    format: SessionFormat
    location: str | None = Field(None, min_length=1, max_length=300,
                                 description="The place; required in person.")
    video_link: str | None = Field(None, pattern=r"^https://\S+$", max_length=2000,
                                   description="The meeting link; required for video.")
    agenda: str | None = Field(None, max_length=2000, description="What the two want to cover.")

    def plan(self) -> Plan:
        return Plan(self.starts_at, self.duration_minutes, self.format, self.location,
                    self.video_link, self.agenda)


class MemberCancellation(StrEnum):
    """Why a member cancels; the platform's own reasons are not theirs to give."""

    RESCHEDULED = CancellationReason.RESCHEDULED.value
    PARTICIPANT_UNAVAILABLE = CancellationReason.PARTICIPANT_UNAVAILABLE.value
    OTHER = CancellationReason.OTHER.value

    def as_contract(self) -> CancellationReason:
        return CancellationReason(self.value)


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: MemberCancellation


class EndRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ReasonCode = Field(description="A short code such as no_longer_in_programme; free "
                               "text is refused because it would reach the event log.")


class FeedbackRequest(BaseModel):
    """One side's feedback on a held session."""

    model_config = ConfigDict(extra="forbid")

    rating: Int32 = Field(description=f"{MIN_RATING} (poor) to {MAX_RATING} (excellent).")
    learned_something: bool
    topics: list[Topic] = Field(default_factory=list, max_length=10,
                                description="Topics the session covered.")
    note: str | None = Field(None, max_length=4000, description="Private: only you ever see "
                             "it; never in an event, a log line or anyone else's view.")


class MentorshipView(BaseModel):
    pair_id: str = Field(description="The mentorship's id: the confirmed pair's.")
    cohort_id: str
    mentor_id: str
    mentee_id: str
    status: MentorshipStatus
    confirmed_at: datetime
    session_target: int = Field(description="Held sessions that complete the mentorship.")
    sessions_planned: int = Field(description="Sessions ever scheduled.")
    sessions_held: int
    ended_at: datetime | None
    end_reason: str | None = Field(description="Why it ended early, as a code.")

    @classmethod
    def of(cls, m: Mentorship) -> MentorshipView:
        return cls(pair_id=m.pair_id, cohort_id=m.cohort_id, mentor_id=m.mentor_id,
                   mentee_id=m.mentee_id, status=m.status, confirmed_at=m.confirmed_at,
                   session_target=m.session_target, sessions_planned=m.sessions_planned,
                   sessions_held=m.sessions_held, ended_at=m.ended_at, end_reason=m.end_reason)


class MeetingDetails(BaseModel):
    """The members' own words about a session: shown to the two members only."""

    location: str | None
    video_link: str | None
    agenda: str | None


class SessionView(BaseModel):
    session_id: str
    pair_id: str
    cohort_id: str
    mentor_id: str
    mentee_id: str
    sequence: int = Field(description="Number of the session within the mentorship, from 1.")
    revision: int = Field(description="The invitation's SEQUENCE: +1 on every reschedule.")
    status: SessionStatus
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    format: SessionFormat
    details: MeetingDetails | None = Field(description="Place, link and agenda; null for "
                                           "anyone but the two members.")
    held_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: CancelledBy | None
    cancel_reason: CancellationReason | None
    mentor_feedback_given: bool
    mentee_feedback_given: bool
    feedback_closed: bool = Field(description="SessionCompleted was published; no more "
                                  "feedback is taken.")

    @classmethod
    def of(cls, s: Session, *, member: bool) -> SessionView:
        p = s.plan
        details = MeetingDetails(location=p.location, video_link=p.video_link,
                                 agenda=p.agenda) if member else None
        return cls(
            session_id=s.session_id, pair_id=s.pair_id, cohort_id=s.cohort_id,
            mentor_id=s.mentor_id, mentee_id=s.mentee_id, sequence=s.sequence,
            revision=s.revision, status=s.status, starts_at=p.starts_at, ends_at=p.ends_at,
            duration_minutes=p.duration_minutes, format=p.format, details=details,
            held_at=s.held_at, cancelled_at=s.cancelled_at, cancelled_by=s.cancelled_by,
            cancel_reason=s.cancel_reason, mentor_feedback_given=s.mentor_feedback is not None,
            mentee_feedback_given=s.mentee_feedback is not None,
            feedback_closed=s.completion_sent,
        )


class FeedbackView(BaseModel):
    """Your own feedback on a session, with your private note."""

    session_id: str
    rating: int
    learned_something: bool
    topics: list[str]
    given_at: datetime
    note: str | None = Field(description="Your private note; nobody else ever sees it.")

    @classmethod
    def of(cls, session_id: str, feedback: Feedback, note: str | None) -> FeedbackView:
        return cls(session_id=session_id, rating=feedback.rating,
                   learned_something=feedback.learned_something, topics=list(feedback.topics),
                   given_at=feedback.given_at, note=note)
