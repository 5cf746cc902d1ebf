"""Three real services over the real broker: volunteers enrol, matching confirms a pair, and the
sessions service runs their mentorship to its target on the facts the other two published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from contracts.matching import PairProposed
from contracts.sessions import MentorshipCompleted, SessionCompleted, SessionScheduled
from contracts.topics import MATCHING, SESSIONS
from services.matching.app import build as build_matching
from services.sessions.app import Sessions
from services.sessions.app import build as build_sessions
from tests.enrolment.conftest import Api, running
from tests.harness import (
    PinnedClock,
    decoded,
    eventually,
    of_cohort,
    probe_settings,
    read_topic,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def programme(infra: Any, unique: str
                    ) -> AsyncIterator[tuple[Api, httpx.AsyncClient, httpx.AsyncClient, Sessions]]:
    matching = build_matching(probe_settings(infra, f"matching-e2e-{unique}",
                                             consumer_start_from="latest"))
    sessions = build_sessions(probe_settings(infra, f"sessions-e2e-{unique}",
                                             consumer_start_from="latest"))
    sessions.commands.clock = PinnedClock()
    async with matching.app.router.lifespan_context(matching.app), \
            sessions.app.router.lifespan_context(sessions.app):
        await eventually(matching.service.consuming, what="matching to join its group")
        await eventually(sessions.service.consuming, what="sessions to join its group")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=matching.app),
                                     base_url="http://matching") as to_matching, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=sessions.app),
                                  base_url="http://sessions") as to_sessions, \
                running(infra, unique) as enrolment:
            yield enrolment, to_matching, to_sessions, sessions


async def test_a_confirmed_pair_meets_and_completes_its_mentorship(programme, infra: Any):
    enrolment, matching, http, sessions = programme
    cohort_id = (await enrolment.open_cohort(
        session_target=1, matching_policy={"mode": "batch", "min_level_gap": 2}))["cohort_id"]
    for pid, role, level, department in (("e-1001", "mentor", 2, "Digital Channels"),
                                         ("e-2001", "mentee", 8, "Finance")):
        enrolled = await enrolment.enrol(
            cohort_id, pid, role=role, career_level=level, department=department,
            email=f"{pid}@example.com", manager_id=None,
            topics_offered=["genai"] if role == "mentor" else ["negotiation"],
            topics_wanted=["negotiation"] if role == "mentor" else ["genai"])
        assert enrolled.status_code == 201, enrolled.text
    assert (await enrolment.http.post(f"/cohorts/{cohort_id}/close",
                                      headers=enrolment.admin())).status_code == 200
    [proposed] = [e.event for e in decoded(await read_topic(
        infra.kafka_bootstrap_servers, MATCHING, count=2, keep=of_cohort(cohort_id), within=30))
        if isinstance(e.event, PairProposed)]
    assert isinstance(proposed, PairProposed)
    for member in ("e-2001", "e-1001"):
        answer = await matching.post(f"/pairs/{proposed.pair_id}/accept",
                                     headers=enrolment.participant(member))
        assert answer.status_code == 200, answer.text

    async def started() -> bool:
        m = await sessions.store.mentorship("bu-retail", proposed.pair_id)
        return m is not None and m.cross_department is True

    await eventually(started, within=30, what="the mentorship with both departments")
    mentee, mentor = enrolment.participant("e-2001"), enrolment.participant("e-1001")
    starts = sessions.commands.clock()
    created = await http.post(f"/mentorships/{proposed.pair_id}/sessions", headers=mentee, json={
        "starts_at": starts.isoformat(), "duration_minutes": 60, "format": "in_person",
        "location": "Room 4.12"})
    assert created.status_code == 201, created.text
    session = f"/sessions/{created.json()['session_id']}"
    assert (await http.post(f"{session}/held", headers=mentor)).status_code == 200
    for who, topics in ((mentor, ["negotiation"]), (mentee, ["genai"])):
        given = await http.post(f"{session}/feedback", headers=who, json={
            "rating": 5, "learned_something": True, "topics": topics})
        assert given.status_code == 201, given.text

    events = [e.event for e in decoded(await read_topic(
        infra.kafka_bootstrap_servers, SESSIONS, count=3, keep=of_cohort(cohort_id)))]
    assert [type(e) for e in events] == [SessionScheduled, MentorshipCompleted,
                                         SessionCompleted]
    kpis = (await http.get(f"/cohorts/{cohort_id}/kpis", headers=enrolment.admin())).json()
    assert (kpis["mentorships"]["completed"], kpis["mentorships"]["cross_department_share"],
            kpis["learned_topics"]["by_mentees"]) == (1, 1.0, [{"topic": "genai",
                                                                "sessions": 1}])
