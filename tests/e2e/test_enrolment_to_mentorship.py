"""Two real services over the real broker: employees volunteer in the enrolment service, the
cohort closes, the matching service proposes pairs, both sides say yes, the mentorship starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from contracts.matching import MatchingRoundCompleted, PairConfirmed, PairProposed
from contracts.topics import MATCHING
from services.matching.app import build as build_matching
from tests.enrolment.conftest import Api, running
from tests.harness import decoded, eventually, of_cohort, probe_settings, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
async def platform(infra: Any, unique: str) -> AsyncIterator[tuple[Api, httpx.AsyncClient]]:
    matching = build_matching(probe_settings(infra, f"matching-e2e-{unique}",
                                             consumer_start_from="latest"))
    async with matching.app.router.lifespan_context(matching.app):
        await eventually(matching.service.consuming, what="matching to join its group")
        transport = httpx.ASGITransport(app=matching.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://matching") as http:
            async with running(infra, unique) as enrolment:
                yield enrolment, http


async def test_volunteers_become_a_confirmed_mentorship(platform, infra: Any):
    enrolment, matching = platform
    cohort = await enrolment.open_cohort(
        matching_policy={"mode": "batch", "mentor_capacity": 1, "min_level_gap": 2})
    cohort_id = cohort["cohort_id"]
    people = [("e-1001", "mentor", 2, "Digital Channels"), ("e-2001", "mentee", 8, "Finance"),
              ("e-1002", "mentor", 3, "IT"), ("e-2002", "mentee", 9, "Legal")]
    for pid, role, level, department in people:
        response = await enrolment.enrol(
            cohort_id, pid, role=role, career_level=level, department=department,
            email=f"{pid}@example.com", manager_id=None,
            topics_offered=["genai"] if role == "mentor" else ["negotiation"],
            topics_wanted=["negotiation"] if role == "mentor" else ["genai"])
        assert response.status_code == 201, response.text
    closed = await enrolment.http.post(f"/cohorts/{cohort_id}/close",
                                       headers=enrolment.admin())
    assert closed.status_code == 200, closed.text

    records = await read_topic(infra.kafka_bootstrap_servers, MATCHING, count=3,
                               keep=of_cohort(cohort_id), within=30)
    events = [env.event for env in decoded(records)]
    assert [type(e) for e in events] == [PairProposed, PairProposed, MatchingRoundCompleted]
    pair = events[0]
    assert isinstance(pair, PairProposed)
    assert pair.mentor_id.startswith("e-1") and pair.mentee_id.startswith("e-2")

    for member in (pair.mentee_id, pair.mentor_id):
        answer = await matching.post(f"/pairs/{pair.pair_id}/accept",
                                     headers=enrolment.participant(member))
        assert answer.status_code == 200, answer.text
    confirmed = await read_topic(infra.kafka_bootstrap_servers, MATCHING, count=6,
                                 keep=of_cohort(cohort_id))
    assert isinstance(decoded(confirmed)[-1].event, PairConfirmed)
