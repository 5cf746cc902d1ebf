"""Programme KPIs per cohort and per business unit, as the database computes them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.sessions.kpis import Kpis, recount
from tests.harness import BU_INSURANCE, eventually
from tests.sessions.conftest import SessionsHarness
from tests.sessions.test_scheduling import problem_of

pytestmark = pytest.mark.integration


async def held_with_feedback(h: SessionsHarness, pair_id: str, mentor: str, mentee: str,
                             in_hours: float, *feedback: tuple[str, int, bool, tuple[str, ...]]
                             ) -> None:
    session = await h.schedule(pair_id, by=mentee, in_hours=in_hours)
    await h.held(session["session_id"], by=mentor)
    for who, rating, learned, topics in feedback:
        given = await h.feedback(session["session_id"], who, rating=rating, learned=learned,
                                 topics=topics)
        assert given.status_code == 201, given.text


async def counted_as_recounted(h: SessionsHarness, kpis: dict[str, object]) -> None:
    """The maintained counters agree with the figures recomputed from every document."""
    store = h.sessions.store
    recounted = recount("bu-retail", h.cohort_id, h.clock.now, h.sessions.commands.cadence,
                        await store.mentorships_of("bu-retail", cohort_id=h.cohort_id),
                        await store.sessions_of_cohort("bu-retail", h.cohort_id))
    assert Kpis.model_validate(kpis) == recounted


async def test_cohort_and_business_unit_kpis_count_what_happened(harness: SessionsHarness):
    h = harness
    await h.open_cohort(session_target=2)
    await h.announce(h.enrolled("m1", "mentor", "IT"), h.enrolled("e1", "mentee", "Finance"),
                     h.enrolled("m2", "mentor", "IT"), h.enrolled("e2", "mentee", "IT"),
                     h.enrolled("m3", "mentor", "Sales"))
    completed = await h.mentorship(mentor="m1", mentee="e1")
    behind = await h.mentorship(mentor="m2", mentee="e2")
    idle = await h.mentorship(mentor="m3", mentee="e3")
    ended = await h.mentorship(mentor="m4", mentee="e4")
    await h.announce(h.enrolled("e3", "mentee", "HR"))  # after its pair was confirmed

    async def late_department_known() -> bool:
        m = await h.sessions.store.mentorship("bu-retail", idle)
        return m is not None and m.cross_department is True

    await eventually(late_department_known, what="the late enrolment's department")

    await held_with_feedback(h, completed, "m1", "e1", 1, ("m1", 4, True, ("negotiation",)),
                             ("e1", 5, True, ("genai", "prompting")))
    await held_with_feedback(h, completed, "m1", "e1", 2, ("m1", 3, False, ("strategy",)),
                             ("e1", 4, True, ("genai",)))
    await held_with_feedback(h, behind, "m2", "e2", 1, ("e2", 2, True, ("excel",)))
    cancelled = await h.schedule(behind, by="e2", in_hours=5)
    await h.http.post(f"/sessions/{cancelled['session_id']}/cancel", json={"reason": "other"},
                      headers=h.participant("e2"))
    await h.schedule(behind, by="e2", in_hours=48)
    await h.schedule(ended, by="e4", in_hours=48)
    await h.http.post(f"/mentorships/{ended}/end", json={"reason": "moved_role"},
                      headers=h.admin())

    kpis = (await h.http.get(f"/cohorts/{h.cohort_id}/kpis", headers=h.admin())).json()
    assert (kpis["business_unit"], kpis["cohort_id"]) == ("bu-retail", h.cohort_id)
    assert kpis["mentorships"] == {
        "confirmed": 4, "active": 2, "completed": 1, "ended_early": 1, "on_track": 2,
        "on_track_share": 1.0, "completion_rate": 0.25, "cross_department_share": 0.6667}
    assert kpis["sessions"] == {"scheduled": 6, "upcoming": 1, "held": 3, "cancelled": 2}
    assert kpis["average_rating"] == {"mentor": 3.5, "mentee": 3.667, "mentor_feedback": 2,
                                      "mentee_feedback": 3}
    assert kpis["learned_topics"] == {
        "by_mentees": [{"topic": "genai", "sessions": 2}, {"topic": "excel", "sessions": 1},
                       {"topic": "prompting", "sessions": 1}],
        "by_mentors": [{"topic": "negotiation", "sessions": 1}]}

    await counted_as_recounted(h, kpis)

    h.clock.advance(timedelta(days=31))  # one cadence: one held session is due by now
    later = (await h.http.get(f"/cohorts/{h.cohort_id}/kpis", headers=h.admin())).json()
    assert (later["mentorships"]["on_track"], later["mentorships"]["on_track_share"]) == (1, 0.5)
    await counted_as_recounted(h, later)

    other_cohort = await h.open_cohort(f"{h.cohort_id}-b")
    await h.mentorship(other_cohort, mentor="m9", mentee="e9")
    await h.open_cohort(f"{h.cohort_id}-x", BU_INSURANCE)
    await h.mentorship(f"{h.cohort_id}-x", BU_INSURANCE)
    unit = (await h.http.get("/kpis", headers=h.admin())).json()
    assert (unit["cohort_id"], unit["mentorships"]["confirmed"], unit["sessions"]["held"]) == (
        None, 5, 3)


async def test_kpis_of_an_empty_or_unknown_cohort(harness: SessionsHarness):
    h = harness
    await h.open_cohort()
    empty = (await h.http.get(f"/cohorts/{h.cohort_id}/kpis", headers=h.admin())).json()
    assert empty["mentorships"]["confirmed"] == 0
    assert (empty["mentorships"]["completion_rate"], empty["average_rating"]["mentor"]) == (
        None, None)
    assert empty["learned_topics"] == {"by_mentees": [], "by_mentors": []}
    problem_of(await h.http.get("/cohorts/unknown/kpis", headers=h.admin()), 404,
               "cohort-not-found")
    assert (await h.http.get("/kpis", headers=h.participant("e-1001"))).status_code == 403
