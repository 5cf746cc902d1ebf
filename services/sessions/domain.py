"""The sessions service's business rules: mentorships, their sessions and both sides' feedback.

Pure: no I/O. A mentorship starts when matching confirms a pair and ends when it reaches the
cohort's session target, when either person withdraws, or when an admin ends it. Its members
schedule, reschedule, cancel and hold sessions, and after a held session each side gives
feedback once. Methods check a rule and return the events it causes, or raise a
:class:`~services.runtime.errors.Violation` naming the rule (and the allowed range where
there is one).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from contracts import Event
from contracts.enrolment import CohortOpened, Role
from contracts.sessions import (
    CancellationReason,
    CancelledBy,
    MentorshipCompleted,
    MentorshipOutcome,
    SessionCancelled,
    SessionCompleted,
    SessionFeedback,
    SessionFormat,
    SessionScheduled,
)
from services.runtime.errors import Conflict, Invalid, NotFound

MIN_DURATION, MAX_DURATION = 15, 240
MIN_RATING, MAX_RATING = 1, 5
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the past a start may lie: the caller's clock and ours disagree a little."""
MAX_AHEAD = timedelta(days=366)
MAX_SESSIONS = 100
"""Sessions one mentorship may ever schedule (cancelled ones included): bounds every list."""
DEFAULT_SESSION_TARGET: int = CohortOpened.model_fields["session_target"].default
WITHDRAWN = "participant_withdrawn"
"""The reason code of a mentorship ended because one of its members withdrew."""


class MentorshipStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ENDED_EARLY = "ended_early"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Cohort:
    """A cohort as the sessions service knows it from ``CohortOpened``."""

    tenant_id: str
    cohort_id: str
    session_target: int = DEFAULT_SESSION_TARGET


@dataclass(frozen=True)
class Plan:
    """When, how long, how and where a session is held, and what it is about.

    ``location``, ``video_link`` and ``agenda`` are the members' own words: they stay in this
    service and never go into an event.
    """

    starts_at: datetime
    duration_minutes: int
    format: SessionFormat
    location: str | None = None
    video_link: str | None = None
    agenda: str | None = None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def check(self, now: datetime) -> None:
        earliest, latest = now - CLOCK_SKEW, now + MAX_AHEAD
        if self.starts_at < earliest:
            raise Invalid("start-in-past", "a session cannot start in the past",
                          earliest=earliest.isoformat())
        if self.starts_at > latest:
            raise Invalid("start-too-far-ahead", "a session starts at most a year ahead",
                          latest=latest.isoformat())
        if not MIN_DURATION <= self.duration_minutes <= MAX_DURATION:
            raise Invalid("duration-out-of-range",
                          f"a session lasts {MIN_DURATION} to {MAX_DURATION} minutes",
                          allowed_minutes={"min": MIN_DURATION, "max": MAX_DURATION})
        if self.format is SessionFormat.VIDEO and not self.video_link:
            raise Invalid("video-link-required", "a video session needs its meeting link")
        if self.format is SessionFormat.IN_PERSON and not self.location:
            raise Invalid("location-required", "an in-person session needs a place")

    def overlaps(self, other: Plan) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def without_details(self) -> Plan:
        """The plan with the members' own words erased (on withdrawal)."""
        return replace(self, location=None, video_link=None, agenda=None)


@dataclass(frozen=True)
class Feedback:
    """One side's feedback on a held session; the private note is kept apart, by its author."""

    rating: int
    learned_something: bool
    topics: tuple[str, ...]
    given_at: datetime

    def check(self) -> None:
        if not MIN_RATING <= self.rating <= MAX_RATING:
            raise Invalid("rating-out-of-range", f"a rating is {MIN_RATING} to {MAX_RATING}",
                          allowed_ratings={"min": MIN_RATING, "max": MAX_RATING})

    def shared(self) -> SessionFeedback:
        """What the event carries: numbers, a flag and topics; never a comment."""
        return SessionFeedback(rating=self.rating, learned_something=self.learned_something,
                               topics=list(self.topics))


def role_in(participant_id: str | None, mentor_id: str, mentee_id: str) -> Role | None:
    if participant_id == mentor_id:
        return Role.MENTOR
    if participant_id == mentee_id:
        return Role.MENTEE
    return None


@dataclass
class Session:
    """One meeting of a mentorship's two members."""

    session_id: str
    tenant_id: str
    cohort_id: str
    pair_id: str
    mentor_id: str
    mentee_id: str
    sequence: int
    plan: Plan
    revision: int = 0
    status: SessionStatus = SessionStatus.SCHEDULED
    held_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: CancelledBy | None = None
    cancel_reason: CancellationReason | None = None
    mentor_feedback: Feedback | None = None
    mentee_feedback: Feedback | None = None
    completion_sent: bool = False

    def role_of(self, participant_id: str | None) -> Role | None:
        return role_in(participant_id, self.mentor_id, self.mentee_id)

    def feedback_of(self, role: Role) -> Feedback | None:
        return self.mentor_feedback if role is Role.MENTOR else self.mentee_feedback

    def scheduled(self) -> SessionScheduled:
        """The calendar fact: ids, times and format only."""
        return SessionScheduled(
            **self._ids(), mentor_id=self.mentor_id, mentee_id=self.mentee_id,
            sequence=self.sequence, revision=self.revision, starts_at=self.plan.starts_at,
            duration_minutes=self.plan.duration_minutes, format=self.plan.format,
        )

    def reschedule(self, plan: Plan, others: list[Session], now: datetime) -> SessionScheduled:
        """Move a scheduled session; the invitation's SEQUENCE (``revision``) goes up by one."""
        self._check_scheduled()
        plan.check(now)
        check_no_overlap(plan, others, excluding=self.session_id)
        self.plan = plan
        self.revision += 1
        return self.scheduled()

    def cancel(self, now: datetime, reason: CancellationReason, by: CancelledBy,
               by_id: str | None = None) -> SessionCancelled:
        self._check_scheduled()
        self.status = SessionStatus.CANCELLED
        self.cancelled_at, self.cancelled_by, self.cancel_reason = now, by, reason
        return SessionCancelled(**self._ids(), cancelled_by=by, cancelled_by_id=by_id,
                                reason=reason, cancelled_at=now)

    def hold(self, now: datetime) -> None:
        """Mark the session as having taken place, once it has started."""
        if self.status is SessionStatus.CANCELLED:
            raise Conflict("session-cancelled", "a cancelled session cannot be held",
                           session_status=self.status.value)
        if self.status is SessionStatus.HELD:
            raise Conflict("session-already-held", "the session is already marked as held",
                           session_status=self.status.value)
        if self.plan.starts_at > now + CLOCK_SKEW:
            raise Conflict("session-not-started", "a session is held once it has started",
                           starts_at=self.plan.starts_at.isoformat())
        self.status = SessionStatus.HELD
        self.held_at = self.plan.starts_at

    def give_feedback(self, role: Role, feedback: Feedback, window: timedelta
                      ) -> SessionCompleted | None:
        """One side's feedback, once; the second side's completes the session's record."""
        if self.status is not SessionStatus.HELD or self.held_at is None:
            raise Conflict("session-not-held", "feedback follows a held session",
                           session_status=self.status.value)
        closes_at = self.held_at + window
        if self.completion_sent or feedback.given_at > closes_at:
            raise Conflict("feedback-window-closed", "feedback on this session has closed",
                           closed_at=closes_at.isoformat())
        if self.feedback_of(role) is not None:
            raise Conflict("feedback-already-given", "each side gives feedback once")
        feedback.check()
        if role is Role.MENTOR:
            self.mentor_feedback = feedback
        else:
            self.mentee_feedback = feedback
        if self.mentor_feedback and self.mentee_feedback:
            return self.close_feedback()
        return None

    def close_feedback(self) -> SessionCompleted | None:
        """Announce the held session with the feedback given so far, exactly once."""
        if self.status is not SessionStatus.HELD or self.held_at is None or self.completion_sent:
            return None
        self.completion_sent = True
        return SessionCompleted(
            **self._ids(), held_at=self.held_at,
            mentor_feedback=self.mentor_feedback.shared() if self.mentor_feedback else None,
            mentee_feedback=self.mentee_feedback.shared() if self.mentee_feedback else None,
        )

    def erase_details(self) -> None:
        self.plan = self.plan.without_details()

    def _check_scheduled(self) -> None:
        if self.status is not SessionStatus.SCHEDULED:
            code = "session-cancelled" if self.status is SessionStatus.CANCELLED else (
                "session-already-held")
            raise Conflict(code, f"the session is {self.status.value}",
                           session_status=self.status.value)

    def _ids(self) -> dict[str, str]:
        return {"tenant_id": self.tenant_id, "cohort_id": self.cohort_id,
                "session_id": self.session_id, "pair_id": self.pair_id}


def check_no_overlap(plan: Plan, others: list[Session], excluding: str | None = None) -> None:
    """Two sessions of one pair never overlap (cancelled ones do not count)."""
    for other in others:
        if other.session_id == excluding or other.status is SessionStatus.CANCELLED:
            continue
        if plan.overlaps(other.plan):
            raise Conflict("session-overlaps", "the pair already meets at that time",
                           session_id=other.session_id,
                           starts_at=other.plan.starts_at.isoformat(),
                           ends_at=other.plan.ends_at.isoformat())


@dataclass
class Mentorship:
    """A confirmed pair's programme of sessions; its id is the pair's id."""

    pair_id: str
    tenant_id: str
    cohort_id: str
    mentor_id: str
    mentee_id: str
    confirmed_at: datetime
    session_target: int = DEFAULT_SESSION_TARGET
    status: MentorshipStatus = MentorshipStatus.ACTIVE
    sessions_planned: int = 0
    sessions_held: int = 0
    ended_at: datetime | None = None
    end_reason: str | None = None
    ended_by: str | None = None
    departments: dict[str, str | None] = field(default_factory=dict)

    def role_of(self, participant_id: str | None) -> Role | None:
        return role_in(participant_id, self.mentor_id, self.mentee_id)

    def visible_to(self, tenant_id: str, reader: str | None, *, admin: bool) -> bool:
        """An admin of the pair's business unit, or one of its two members."""
        return self.tenant_id == tenant_id and (admin or self.role_of(reader) is not None)

    def member_role(self, participant_id: str) -> Role:
        """Only the two members act on a mentorship; anyone else gets its 404."""
        role = self.role_of(participant_id)
        if role is None:
            raise NotFound("mentorship-not-found", f"no mentorship {self.pair_id} for you")
        return role

    @property
    def cross_department(self) -> bool | None:
        """Whether the two work in different departments; ``None`` until both are known."""
        mentor, mentee = self.departments.get("mentor"), self.departments.get("mentee")
        return None if mentor is None or mentee is None else mentor != mentee

    def check_active(self) -> None:
        if self.status is not MentorshipStatus.ACTIVE:
            raise Conflict("mentorship-ended", f"the mentorship is {self.status.value}",
                           mentorship_status=self.status.value)

    def schedule(self, by: str, plan: Plan, others: list[Session], now: datetime,
                 session_id: str) -> tuple[Session, SessionScheduled]:
        """A member puts a new session in both calendars."""
        self.member_role(by)
        self.check_active()
        if self.sessions_planned >= MAX_SESSIONS:
            raise Conflict("session-limit-reached", "this mentorship has scheduled its maximum",
                           limit=MAX_SESSIONS)
        plan.check(now)
        check_no_overlap(plan, others)
        self.sessions_planned += 1
        session = Session(session_id, self.tenant_id, self.cohort_id, self.pair_id,
                          self.mentor_id, self.mentee_id, self.sessions_planned, plan)
        return session, session.scheduled()

    def count_held(self, open_sessions: list[Session], now: datetime) -> list[Event]:
        """One more session took place; the target's session completes the mentorship."""
        self.sessions_held += 1
        if self.status is MentorshipStatus.ACTIVE and self.sessions_held >= self.session_target:
            return self.end(open_sessions, now, outcome=MentorshipOutcome.COMPLETED)
        return []

    def end(self, open_sessions: list[Session], now: datetime, *,
            outcome: MentorshipOutcome = MentorshipOutcome.ENDED_EARLY, reason: str | None = None,
            by: CancelledBy = CancelledBy.SYSTEM, ended_by: str | None = None) -> list[Event]:
        """End the mentorship: its open sessions are cancelled, then the end is announced.

        ``ended_by`` (an admin's subject, a withdrawn member's id) stays in the service; the
        cancellation names only the kind of actor.
        """
        self.check_active()
        cancel_reason = (CancellationReason.PARTICIPANT_WITHDRAWN if reason == WITHDRAWN
                         else CancellationReason.MENTORSHIP_ENDED)
        events: list[Event] = [s.cancel(now, cancel_reason, by) for s in open_sessions
                               if s.status is SessionStatus.SCHEDULED]
        self.status = (MentorshipStatus.COMPLETED if outcome is MentorshipOutcome.COMPLETED
                       else MentorshipStatus.ENDED_EARLY)
        self.ended_at, self.end_reason, self.ended_by = now, reason, ended_by
        events.append(MentorshipCompleted(
            tenant_id=self.tenant_id, cohort_id=self.cohort_id, pair_id=self.pair_id,
            mentor_id=self.mentor_id, mentee_id=self.mentee_id,
            sessions_held=self.sessions_held, completed_at=now, outcome=outcome, reason=reason,
        ))
        return events
