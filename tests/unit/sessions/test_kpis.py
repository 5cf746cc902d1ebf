"""The KPI figures of one mentorship or session, and how changes to them are counted."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from contracts.sessions import SessionFormat
from services.sessions.domain import Feedback, Mentorship, Plan, Session, SessionStatus
from services.sessions.kpis import change, figures_of_mentorship, figures_of_session, recount

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def session(status: SessionStatus = SessionStatus.SCHEDULED) -> Session:
    plan = Plan(NOW, 60, SessionFormat.VIDEO, video_link="https://meet.example.com/x")
    return Session("s-1", "bu", "coh", "pair-1", "m", "e", 1, plan, status=status)


def test_a_change_keeps_what_went_down() -> None:
    before = figures_of_session(session())
    held = session(SessionStatus.HELD)
    held.mentee_feedback = Feedback(4, True, ("genai", "ai-act"), NOW)
    assert change(before, figures_of_session(held)) == Counter({
        ("sessions", "upcoming"): -1, ("sessions", "held"): 1, ("ratings", "mentee_sum"): 4,
        ("ratings", "mentee_count"): 1, ("learned", "mentee", "genai"): 1,
        ("learned", "mentee", "ai-act"): 1})


def test_topics_count_only_where_that_side_learned_something() -> None:
    held = session(SessionStatus.HELD)
    held.mentor_feedback = Feedback(2, False, ("negotiation",), NOW)
    assert not [k for k in figures_of_session(held) if k[0] == "learned"]


def test_a_mentorship_is_cross_department_only_once_both_are_known() -> None:
    m = Mentorship("pair-1", "bu", "coh", "m", "e", NOW, departments={"mentor": "IT"})
    assert ("mentorships", "known") not in figures_of_mentorship(m)
    m.departments["mentee"] = "HR"
    assert figures_of_mentorship(m)[("mentorships", "cross")] == 1


def test_on_track_means_one_held_session_per_cadence_up_to_the_target() -> None:
    cadence = timedelta(days=30)
    fresh = Mentorship("p-1", "bu", "coh", "m1", "e1", NOW - timedelta(days=29), 2)
    behind = Mentorship("p-2", "bu", "coh", "m2", "e2", NOW - timedelta(days=31), 2)
    keeping_up = Mentorship("p-3", "bu", "coh", "m3", "e3", NOW - timedelta(days=45), 2,
                            sessions_held=1)
    one_short = Mentorship("p-4", "bu", "coh", "m4", "e4", NOW - timedelta(days=95), 2,
                           sessions_held=1)
    kpis = recount("bu", "coh", NOW, cadence, [fresh, behind, keeping_up, one_short], [])
    assert (kpis.mentorships.on_track, kpis.mentorships.active) == (2, 4)
