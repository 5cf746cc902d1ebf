"""Another business unit sees nothing; participants act only on their own pairs."""

from __future__ import annotations

import pytest

from services.runtime.auth import PARTICIPANT, PROGRAMME_ADMIN
from tests.matching.conftest import OTHER_TENANT, TENANT, MatchingHarness

pytestmark = pytest.mark.integration


async def published_pair(h: MatchingHarness) -> tuple[str, str]:
    await h.open_cohort()
    await h.enrol(h.person("mentor-a", "mentor", 2), h.person("mentee-x", "mentee", 7))
    body = (await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={"draft": True},
                              headers=h.admin())).json()
    round_id = body["round_id"]
    await h.http.post(f"/cohorts/{h.cohort_id}/rounds/{round_id}/publish", headers=h.admin())
    return round_id, body["pairs"][0]["pair_id"]


async def test_every_endpoint_answers_404_to_another_business_unit(harness: MatchingHarness):
    h = harness
    round_id, pair_id = await published_pair(h)
    c, r = f"/cohorts/{h.cohort_id}", f"/cohorts/{h.cohort_id}/rounds/{round_id}"
    admin, member = h.admin(OTHER_TENANT), h.participant("mentee-x", OTHER_TENANT)
    calls = [
        ("POST", f"{c}/rounds", admin, {}),
        ("GET", f"{c}/rounds", admin, None),
        ("GET", r, admin, None),
        ("POST", f"{r}/pairs/{pair_id}/lock", admin, None),
        ("POST", f"{r}/fixed-pairs", admin, {"mentor_id": "mentor-a", "mentee_id": "mentee-x"}),
        ("POST", f"{r}/publish", admin, None),
        ("GET", f"{c}/pairs", admin, None),
        ("GET", f"/pairs/{pair_id}", admin, None),
        ("GET", f"/pairs/{pair_id}", member, None),
        ("POST", f"/pairs/{pair_id}/accept", member, None),
        ("POST", f"/pairs/{pair_id}/decline", member, None),
    ]
    for method, url, headers, body in calls:
        response = await h.http.request(method, url, headers=headers, json=body)
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await h.http.get("/me/pairs", headers=member)).json() == []


async def test_participants_see_and_answer_only_their_own_pairs(harness: MatchingHarness):
    h = harness
    _, pair_id = await published_pair(h)
    stranger = h.participant("mentee-y")
    assert (await h.http.get(f"/pairs/{pair_id}", headers=stranger)).status_code == 404
    assert (await h.http.post(f"/pairs/{pair_id}/accept", headers=stranger)).status_code == 404
    own = await h.http.get(f"/pairs/{pair_id}", headers=h.participant("mentee-x"))
    assert own.status_code == 200
    mine = await h.http.get("/me/pairs", headers=h.participant("mentor-a"))
    assert [p["pair_id"] for p in mine.json()] == [pair_id]


async def test_participants_cannot_run_or_read_rounds(harness: MatchingHarness):
    h = harness
    await h.open_cohort()
    response = await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={},
                                 headers=h.participant("mentee-x"))
    assert response.status_code == 403


async def test_unknown_cohort_is_404_and_invalid_body_is_422(harness: MatchingHarness):
    h = harness
    missing = await h.http.post("/cohorts/nope/rounds", json={}, headers=h.admin())
    assert missing.status_code == 404
    await h.open_cohort()
    bad = await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={"objective": "luck"},
                            headers=h.admin())
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_an_admin_who_is_also_a_participant_cannot_answer_someone_elses_pair(
    harness: MatchingHarness,
):
    h = harness
    _, pair_id = await published_pair(h)
    both = h.token(roles=[PARTICIPANT, PROGRAMME_ADMIN], subject="sub-boss",
                   participant_id="boss")
    assert (await h.http.get(f"/pairs/{pair_id}", headers=both)).status_code == 200
    for answer in ("accept", "decline"):
        response = await h.http.post(f"/pairs/{pair_id}/{answer}", headers=both)
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "urn:revmentor:problem:pair-not-found"
    stored = await h.matching.store.pair(TENANT, pair_id)
    assert stored is not None
    assert (stored.status.value, stored.mentor_accepted, stored.mentee_accepted) == (
        "proposed", False, False)


async def test_a_decline_reason_is_a_code_and_free_text_is_refused(harness: MatchingHarness):
    h = harness
    _, pair_id = await published_pair(h)
    response = await h.http.post(f"/pairs/{pair_id}/decline",
                                 json={"reason": "Max Mustermann from Finance is rude"},
                                 headers=h.participant("mentee-x"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "reason"]
    stored = await h.matching.store.pair(TENANT, pair_id)
    assert stored is not None and stored.status.value == "proposed"
