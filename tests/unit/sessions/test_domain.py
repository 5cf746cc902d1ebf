"""The sessions rules without any I/O: plans, overlaps, holding, feedback windows, endings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.enrolment import Role
from contracts.sessions import (
    CancellationReason,
    CancelledBy,
    MentorshipCompleted,
    MentorshipOutcome,
    SessionCancelled,
    SessionFormat,
)
from services.runtime.errors import Conflict, Invalid, NotFound
from services.sessions.domain import (
    WITHDRAWN,
    Feedback,
    Mentorship,
    MentorshipStatus,
    Plan,
    Session,
    SessionStatus,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def plan(in_hours: float = 1, minutes: int = 60) -> Plan:
    return Plan(NOW + timedelta(hours=in_hours), minutes, SessionFormat.VIDEO,
                video_link="https://meet.example.com/x")


def mentorship(target: int = 2) -> Mentorship:
    return Mentorship("pair-1", "bu", "coh", "mentor-a", "mentee-x", NOW - WEEK,
                      session_target=target)


def scheduled(m: Mentorship, in_hours: float = 1, session_id: str = "s-1") -> Session:
    session, _ = m.schedule("mentee-x", plan(in_hours), [], NOW, session_id)
    return session


def feedback(at: datetime, rating: int = 5) -> Feedback:
    return Feedback(rating, True, ("genai",), at)


def test_sessions_that_only_touch_do_not_overlap() -> None:
    assert not plan(1).overlaps(plan(2))
    assert plan(1).overlaps(plan(1.99))
    assert plan(1, minutes=240).overlaps(plan(4.5))


def test_the_duration_range_is_inclusive() -> None:
    plan(minutes=15).check(NOW)
    plan(minutes=240).check(NOW)
    with pytest.raises(Invalid) as refused:
        plan(minutes=241).check(NOW)
    assert refused.value.extra == {"allowed_minutes": {"min": 15, "max": 240}}


def test_only_a_member_schedules_and_numbers_count_up() -> None:
    m = mentorship()
    with pytest.raises(NotFound):
        m.schedule("someone-else", plan(), [], NOW, "s-0")
    first, event = m.schedule("mentor-a", plan(1), [], NOW, "s-1")
    second, _ = m.schedule("mentee-x", plan(3), [first], NOW, "s-2")
    assert (first.sequence, second.sequence, event.sequence, m.sessions_planned) == (1, 2, 1, 2)
    with pytest.raises(Conflict) as clash:
        m.schedule("mentee-x", plan(3.5), [first, second], NOW, "s-3")
    assert clash.value.extra["session_id"] == "s-2"


def test_feedback_after_its_window_is_refused_even_before_the_sweep() -> None:
    m = mentorship()
    session = scheduled(m)
    session.hold(NOW + timedelta(hours=1))
    with pytest.raises(Conflict) as late:
        session.give_feedback(Role.MENTEE, feedback(NOW + timedelta(hours=1) + WEEK * 2), WEEK)
    assert late.value.code == "feedback-window-closed"
    assert session.mentee_feedback is None


def test_the_session_is_announced_once_whoever_closes_it() -> None:
    m = mentorship()
    session = scheduled(m)
    session.hold(NOW + timedelta(hours=1))
    assert session.give_feedback(Role.MENTOR, feedback(NOW + timedelta(hours=2)), WEEK) is None
    completed = session.give_feedback(Role.MENTEE, feedback(NOW + timedelta(hours=2), 4), WEEK)
    assert completed is not None and completed.mentee_feedback is not None
    assert completed.mentee_feedback.rating == 4
    assert session.close_feedback() is None


def test_reaching_the_target_completes_and_cancels_the_rest() -> None:
    m = mentorship(target=1)
    first, later = scheduled(m, 1, "s-1"), scheduled(m, 30, "s-2")
    first.hold(NOW + timedelta(hours=1))
    events = m.count_held([later], NOW + timedelta(hours=2))
    assert [type(e) for e in events] == [SessionCancelled, MentorshipCompleted]
    assert isinstance(events[0], SessionCancelled)
    assert (events[0].reason, events[0].cancelled_by) == (CancellationReason.MENTORSHIP_ENDED,
                                                          CancelledBy.SYSTEM)
    assert isinstance(events[1], MentorshipCompleted)
    assert events[1].outcome is MentorshipOutcome.COMPLETED
    assert (m.status, later.status) == (MentorshipStatus.COMPLETED, SessionStatus.CANCELLED)


def test_a_withdrawal_cancels_with_its_own_reason_and_ends_once() -> None:
    m = mentorship()
    open_session = scheduled(m)
    events = m.end([open_session], NOW, reason=WITHDRAWN, ended_by="mentee-x")
    assert isinstance(events[0], SessionCancelled)
    assert events[0].reason is CancellationReason.PARTICIPANT_WITHDRAWN
    assert isinstance(events[1], MentorshipCompleted)
    assert (events[1].outcome, events[1].reason) == (MentorshipOutcome.ENDED_EARLY, WITHDRAWN)
    with pytest.raises(Conflict):
        m.end([], NOW, reason=WITHDRAWN)


def test_cross_department_is_unknown_until_both_departments_are() -> None:
    m = mentorship()
    assert m.cross_department is None
    m.departments = {"mentor": "IT", "mentee": None}
    assert m.cross_department is None
    m.departments["mentee"] = "Finance"
    assert m.cross_department is True
    m.departments["mentee"] = "IT"
    assert m.cross_department is False
