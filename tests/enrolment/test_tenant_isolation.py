"""A token of one business unit never sees or changes anything of another: 404 everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from tests.enrolment.conftest import UNIT_A, UNIT_B, Api, application, assert_problem

pytestmark = pytest.mark.integration


async def test_another_business_unit_gets_404_on_every_endpoint(api: Api):
    cohort = await api.open_cohort(UNIT_A)
    cid = cohort["cohort_id"]
    assert (await api.enrol(cid, "e-1")).status_code == 201
    before = await api.outbox_types()
    csv = ("employee_id,role,name,email,department,career_level,languages,time_zone,consent\n"
           "e-2,mentee,A B,ab@example.com,IT,8,de,Europe/Berlin,yes\n")
    admin_b, participant_b = api.admin(UNIT_B), api.participant("e-1", UNIT_B)
    http = api.http

    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/cohorts/{cid}", {}),
        ("POST", f"/cohorts/{cid}/close", {}),
        ("POST", f"/cohorts/{cid}/participants",
         {"json": application(employee_id="e-3", email="c@example.com")}),
        ("POST", f"/cohorts/{cid}/imports", {"content": csv,
                                             "headers": {"content-type": "text/csv"}}),
        ("GET", f"/cohorts/{cid}/participants", {}),
        ("GET", f"/cohorts/{cid}/participants/e-1", {}),
        ("POST", f"/cohorts/{cid}/participants/e-1/withdraw", {}),
    ]
    for method, url, kwargs in requests:
        headers = {**admin_b, **kwargs.pop("headers", {})}
        assert_problem(await http.request(method, url, headers=headers, **kwargs), 404)

    as_participant: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/cohorts/{cid}", {}),
        ("POST", f"/cohorts/{cid}/participants", {"json": application()}),
        ("GET", f"/cohorts/{cid}/participants/e-1", {}),
        ("POST", f"/cohorts/{cid}/participants/e-1/withdraw", {}),
    ]
    for method, url, kwargs in as_participant:
        assert_problem(await http.request(method, url, headers=participant_b, **kwargs), 404)

    assert (await http.get("/cohorts", headers=admin_b)).json()["items"] == []
    assert (await http.get("/me/enrolments", headers=participant_b)).json() == []

    # nothing of unit A changed, and nothing was announced
    seen_by_a = (await http.get(f"/cohorts/{cid}", headers=api.admin(UNIT_A))).json()
    assert seen_by_a["status"] == "open"
    assert seen_by_a["counts"]["enrolled"] == {"mentor": 1, "mentee": 0, "total": 1}
    assert await api.outbox_types() == before


async def test_the_same_person_may_take_part_in_cohorts_of_two_business_units(api: Api):
    cohort_a = (await api.open_cohort(UNIT_A))["cohort_id"]
    cohort_b = (await api.open_cohort(UNIT_B))["cohort_id"]
    assert (await api.enrol(cohort_a, "e-1", unit=UNIT_A)).status_code == 201
    assert (await api.enrol(cohort_b, "e-1", unit=UNIT_B)).status_code == 201
    mine_in_b = (await api.http.get("/me/enrolments", headers=api.participant("e-1", UNIT_B))
                 ).json()
    assert [r["cohort_id"] for r in mine_in_b] == [cohort_b]
