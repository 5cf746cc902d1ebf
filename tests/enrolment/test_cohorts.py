"""Cohorts: opened by a programme admin of a business unit, read with counts, closed."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import pytest

from services.runtime.auth import PARTICIPANT, PLATFORM_ADMIN
from tests.enrolment.conftest import UNIT_A, Api, assert_problem, cohort_spec
from tests.harness import eventually

pytestmark = pytest.mark.integration


async def test_an_admin_opens_a_cohort_under_its_matching_policy(api: Api):
    spec = cohort_spec(matching_policy={"mode": "rolling", "mentor_capacity": 3,
                                        "min_level_gap": 3, "cross_department": "required",
                                        "max_timezone_gap_hours": 2,
                                        "exclude_reporting_line": False,
                                        "weights": {"topic_fit": 2.0}})
    response = await api.http.post("/cohorts", json=spec, headers=api.admin())
    assert response.status_code == 201
    cohort = response.json()
    assert response.headers["location"] == f"/cohorts/{cohort['cohort_id']}"
    assert cohort["name"] == spec["name"] and cohort["languages"] == ["de", "en"]
    assert (cohort["status"], cohort["enrolment"], cohort["session_target"]) == (
        "open", "open", 6)
    policy = cohort["matching_policy"]
    assert (policy["mode"], policy["mentor_capacity"], policy["min_level_gap"]) == (
        "rolling", 3, 3)
    assert (policy["cross_department"], policy["exclude_reporting_line"]) == ("required", False)
    assert policy["weights"]["topic_fit"] == 2.0
    assert cohort["counts"]["enrolled"] == {"mentor": 0, "mentee": 0, "total": 0}


async def test_a_platform_admin_may_open_a_cohort_too(api: Api):
    response = await api.http.post("/cohorts", json=cohort_spec(),
                                   headers=api.token(roles=[PLATFORM_ADMIN]))
    assert response.status_code == 201


async def test_a_participant_cannot_open_or_close_a_cohort(api: Api):
    cohort = await api.open_cohort()
    participant = api.token(roles=[PARTICIPANT])
    assert_problem(await api.http.post("/cohorts", json=cohort_spec(), headers=participant), 403)
    assert_problem(await api.http.post(f"/cohorts/{cohort['cohort_id']}/close",
                                       headers=participant), 403)


async def test_a_request_without_a_token_is_a_401_problem(api: Api):
    assert_problem(await api.http.get("/cohorts"), 401)


async def test_a_window_that_has_already_ended_is_rejected(api: Api):
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = await api.http.post("/cohorts", json=cohort_spec(closes_at=past),
                                   headers=api.admin())
    assert_problem(response, 422, "invalid-window")


async def test_a_level_gap_no_pair_could_meet_is_rejected(api: Api):
    response = await api.http.post(
        "/cohorts", json=cohort_spec(matching_policy={"min_level_gap": 9.5}),
        headers=api.admin())
    assert_problem(response, 422)
    response = await api.http.post(
        "/cohorts", json=cohort_spec(matching_policy={"min_level_gap": 12}), headers=api.admin())
    assert_problem(response, 422, "infeasible-policy")


async def test_an_invalid_policy_is_a_422_problem_naming_the_field(api: Api):
    response = await api.http.post(
        "/cohorts", json=cohort_spec(matching_policy={"mentor_capacity": 4}),
        headers=api.admin())
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "matching_policy", "mentor_capacity"]


async def test_detail_and_list_count_enrolments_by_role_and_department(api: Api):
    cohort = await api.open_cohort()
    cid = cohort["cohort_id"]
    for pid, role, level, department in [("e-1", "mentor", 2, "IT"), ("e-2", "mentor", 1, "IT"),
                                         ("e-3", "mentee", 8, "Sales"),
                                         ("e-4", "mentee", 9, "IT")]:
        response = await api.enrol(cid, pid, role=role, career_level=level,
                                   department=department, email=f"{pid}@example.com")
        assert response.status_code == 201, response.text
    await api.http.post(f"/cohorts/{cid}/participants/e-4/withdraw", headers=api.participant("e-4"))

    detail = (await api.http.get(f"/cohorts/{cid}", headers=api.participant("e-1"))).json()
    assert detail["counts"] == {
        "enrolled": {"mentor": 2, "mentee": 1, "total": 3},
        "withdrawn": {"mentor": 0, "mentee": 1, "total": 1},
        "by_department": [{"department": "IT", "mentor": 2, "mentee": 0, "total": 2},
                          {"department": "Sales", "mentor": 0, "mentee": 1, "total": 1}],
    }
    listed = (await api.http.get("/cohorts", headers=api.admin())).json()
    assert [c["counts"] for c in listed["items"]] == [detail["counts"]]


async def test_the_cohort_list_pages_newest_first(api: Api):
    ids = [(await api.open_cohort(name=f"Cohort {i}"))["cohort_id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.http.get("/cohorts", params=params, headers=api.admin())).json()
        seen += [c["cohort_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    closed = (await api.http.get("/cohorts", params={"status": "closed"},
                                 headers=api.admin())).json()
    assert closed["items"] == []


async def test_an_unknown_cohort_is_a_404_problem(api: Api):
    assert_problem(await api.http.get("/cohorts/coh-nope", headers=api.admin()), 404,
                   "cohort-not-found")
    assert_problem(await api.http.post("/cohorts/coh-nope/close", headers=api.admin()), 404,
                   "cohort-not-found")


async def test_an_admin_closes_a_cohort_once(api: Api):
    cid = (await api.open_cohort())["cohort_id"]
    response = await api.http.post(f"/cohorts/{cid}/close", headers=api.admin())
    assert response.status_code == 200
    closed = response.json()
    assert (closed["status"], closed["enrolment"], closed["close_reason"]) == (
        "closed", "closed", "admin")
    assert_problem(await api.http.post(f"/cohorts/{cid}/close", headers=api.admin()), 409,
                   "cohort-closed")


async def test_cohorts_close_by_themselves_when_their_window_ends(api: Api):
    ends_soon = await api.open_cohort(
        closes_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    ends_later = await api.open_cohort()
    closer = api.enrolment.closer
    later = datetime.now(UTC) + timedelta(hours=2)
    assert await closer.close_due_cohorts(later) == [ends_soon["cohort_id"]]
    assert await closer.close_due_cohorts(later) == []  # a second pass finds nothing to do

    cohort = (await api.http.get(f"/cohorts/{ends_soon['cohort_id']}", headers=api.admin())).json()
    assert (cohort["status"], cohort["close_reason"]) == ("closed", "window_ended")
    assert cohort["closed_at"] == cohort["closes_at"]
    still = (await api.http.get(f"/cohorts/{ends_later['cohort_id']}", headers=api.admin())).json()
    assert still["status"] == "open"
    assert await api.outbox_types() == ["CohortOpened", "CohortOpened", "CohortClosed"]


async def test_a_cohort_announced_ahead_accepts_enrolment_only_once_its_window_opens(api: Api):
    opens = datetime.now(UTC) + timedelta(days=1)
    cohort = await api.open_cohort(opens_at=opens.isoformat(),
                                   closes_at=(opens + timedelta(days=7)).isoformat())
    assert cohort["enrolment"] == "not_yet_open"
    body = assert_problem(await api.enrol(cohort["cohort_id"], "e-1"), 409, "enrolment-not-open")
    assert datetime.fromisoformat(body["opens_at"]) == datetime.fromisoformat(cohort["opens_at"])


async def test_the_running_service_closes_ended_cohorts_in_the_background(
    start: Callable[..., AbstractAsyncContextManager[Api]]
):
    async with start(window_check_interval_s=0.05) as api:
        cid = (await api.open_cohort())["cohort_id"]
        commands = api.enrolment.commands
        real = commands.clock
        commands.clock = lambda: real() + timedelta(days=31)  # the window has run out

        async def closed() -> bool:
            cohort = await api.enrolment.store.cohort(UNIT_A, cid)
            return cohort is not None and cohort.status.value == "closed"

        await eventually(closed, what="the window closer to close the cohort")
        assert await api.outbox_types() == ["CohortOpened", "CohortClosed"]


async def test_the_api_is_described_by_openapi(api: Api):
    paths = (await api.http.get("/openapi.json")).json()["paths"]
    assert {"/cohorts", "/cohorts/{cohort_id}", "/cohorts/{cohort_id}/close",
            "/cohorts/{cohort_id}/participants", "/cohorts/{cohort_id}/imports",
            "/cohorts/{cohort_id}/participants/{participant_id}",
            "/cohorts/{cohort_id}/participants/{participant_id}/withdraw",
            "/me/enrolments"} <= set(paths)
    assert "text/csv" in paths["/cohorts/{cohort_id}/imports"]["post"]["requestBody"]["content"]
