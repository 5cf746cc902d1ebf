"""Enrolment: voluntary, with wishes stated up front; by the person or an admin for them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from services.runtime.auth import PARTICIPANT
from tests.enrolment.conftest import Api, application, assert_problem
from tests.harness import COMMANDS

pytestmark = pytest.mark.integration


@pytest.fixture
async def cohort_id(api: Api) -> str:
    return str((await api.open_cohort())["cohort_id"])


async def test_a_participant_enrols_themself_stating_role_wishes_and_consent(api: Api, cohort_id):
    response = await api.enrol(cohort_id, "e-30001")
    assert response.status_code == 201
    assert response.headers["location"] == f"/cohorts/{cohort_id}/participants/e-30001"
    record = response.json()
    sent = application()
    for field in ("role", "name", "email", "department", "manager_id", "career_level",
                  "topics_offered", "topics_wanted", "languages", "time_zone",
                  "preferred_format", "goals"):
        assert record[field] == sent[field], field
    assert (record["participant_id"], record["enrolled_by"], record["status"]) == (
        "e-30001", "self", "enrolled")
    assert record["manager_chain"] == ["e-30817"] and record["consent_given_at"]


async def test_without_a_participant_id_claim_the_token_subject_identifies_the_person(
    api: Api, cohort_id
):
    headers = api.token(roles=[PARTICIPANT], subject="e-777")
    response = await api.http.post(f"/cohorts/{cohort_id}/participants", json=application(),
                                   headers=headers)
    assert response.status_code == 201
    assert response.json()["participant_id"] == "e-777"


async def test_an_admin_enrols_someone_on_their_behalf(api: Api, cohort_id):
    response = await api.enrol(cohort_id, "e-40001", by_admin=True)
    assert response.status_code == 201
    assert (response.json()["participant_id"], response.json()["enrolled_by"]) == (
        "e-40001", "admin")


async def test_an_admin_must_name_the_person_they_enrol(api: Api, cohort_id):
    response = await api.http.post(f"/cohorts/{cohort_id}/participants", json=application(),
                                   headers=api.admin())
    assert_problem(response, 422, "employee-id-required")


async def test_a_participant_cannot_enrol_someone_else(api: Api, cohort_id):
    response = await api.http.post(f"/cohorts/{cohort_id}/participants",
                                   json=application(employee_id="e-2"),
                                   headers=api.participant("e-1"))
    assert_problem(response, 403)


@pytest.mark.parametrize("consent", [False, "absent"])
async def test_without_explicit_consent_enrolment_is_a_422_problem(api: Api, cohort_id, consent):
    body = application(consent=consent)
    if consent == "absent":
        del body["consent"]
    response = await api.http.post(f"/cohorts/{cohort_id}/participants", json=body,
                                   headers=api.participant("e-1"))
    problem = assert_problem(response, 422, "consent-required")
    assert "consent" in problem["detail"]
    assert await api.outbox_types() == ["CohortOpened"]


async def test_enrolling_in_an_unknown_cohort_is_a_404_problem(api: Api):
    assert_problem(await api.enrol("coh-unknown", "e-1"), 404, "cohort-not-found")


async def test_enrolling_in_a_closed_cohort_is_a_409_problem(api: Api, cohort_id):
    await api.http.post(f"/cohorts/{cohort_id}/close", headers=api.admin())
    assert_problem(await api.enrol(cohort_id, "e-1"), 409, "cohort-closed")


async def test_enrolment_after_the_window_ended_conflicts_before_the_closer_ran(
    api: Api, cohort_id
):
    commands = api.enrolment.commands
    real = commands.clock
    commands.clock = lambda: real() + timedelta(days=31)
    try:
        assert_problem(await api.enrol(cohort_id, "e-1"), 409, "cohort-closed")
    finally:
        commands.clock = real


async def test_a_second_enrolment_with_the_same_email_is_409_naming_the_existing_id(
    api: Api, cohort_id
):
    assert (await api.enrol(cohort_id, "e-1", email="lea@example.com")).status_code == 201
    response = await api.enrol(cohort_id, "e-2", by_admin=True, email=" LEA@example.COM ")
    body = assert_problem(response, 409, "already-enrolled")
    assert body["participant_id"] == "e-1"


async def test_the_same_person_enrolling_twice_is_409_with_their_own_id(api: Api, cohort_id):
    assert (await api.enrol(cohort_id, "e-1")).status_code == 201
    body = assert_problem(await api.enrol(cohort_id, "e-1", email="other@example.com"), 409,
                          "already-enrolled")
    assert body["participant_id"] == "e-1"


async def test_a_participant_learns_no_one_elses_id_from_a_duplicate_email(api: Api, cohort_id):
    assert (await api.enrol(cohort_id, "e-1", email="lea@example.com")).status_code == 201
    body = assert_problem(await api.enrol(cohort_id, "e-2", email="lea@example.com"), 409,
                          "already-enrolled")
    assert body["participant_id"] is None


async def test_a_mentor_too_senior_for_the_policy_gap_is_a_422_problem(api: Api):
    cid = (await api.open_cohort(matching_policy={"min_level_gap": 3}))["cohort_id"]
    body = assert_problem(await api.enrol(cid, "e-1", role="mentor", career_level=8), 422,
                          "level-does-not-fit-policy")
    assert body["allowed_levels"] == {"min": 1, "max": 7}
    assert (await api.enrol(cid, "e-2", role="mentor", career_level=7,
                            email="e2@example.com")).status_code == 201


async def test_a_mentee_too_junior_for_the_policy_gap_is_a_422_problem(api: Api):
    cid = (await api.open_cohort(matching_policy={"min_level_gap": 3}))["cohort_id"]
    body = assert_problem(await api.enrol(cid, "e-1", role="mentee", career_level=3), 422,
                          "level-does-not-fit-policy")
    assert body["allowed_levels"] == {"min": 4, "max": 10}


@pytest.mark.parametrize(("overrides", "code"), [
    ({"languages": ["fr"]}, "no-common-language"),
    ({"time_zone": "Atlantis/Capital"}, "unknown-time-zone"),
    ({"manager_id": "e-1", "manager_chain": ["e-2"]}, "invalid-manager-chain"),
])
async def test_an_application_breaking_a_rule_is_a_422_problem(api: Api, cohort_id, overrides,
                                                               code):
    assert_problem(await api.enrol(cohort_id, "e-9", **overrides), 422, code)


@pytest.mark.parametrize(("overrides", "loc"), [
    ({"career_level": 11}, "career_level"),
    ({"role": "sponsor"}, "role"),
    ({"email": "not-an-address"}, "email"),
    ({"preferred_format": "carrier-pigeon"}, "preferred_format"),
    ({"goals": "x" * 2001}, "goals"),
])
async def test_an_invalid_field_is_a_422_problem_naming_it(api: Api, cohort_id, overrides, loc):
    body = assert_problem(await api.enrol(cohort_id, "e-9", **overrides), 422)
    assert body["errors"][0]["loc"] == ["body", loc]


async def test_a_participant_sees_their_own_record_and_enrolments(api: Api, cohort_id):
    await api.enrol(cohort_id, "e-1")
    other = (await api.open_cohort(name="Spring"))["cohort_id"]
    await api.enrol(other, "e-1")
    response = await api.http.get(f"/cohorts/{cohort_id}/participants/e-1",
                                  headers=api.participant("e-1"))
    assert response.status_code == 200
    assert response.json()["name"] == "Lea Schneider"
    mine = (await api.http.get("/me/enrolments", headers=api.participant("e-1"))).json()
    assert sorted(r["cohort_id"] for r in mine) == sorted([cohort_id, other])


async def test_a_participant_cannot_read_someone_elses_record(api: Api, cohort_id):
    await api.enrol(cohort_id, "e-1")
    response = await api.http.get(f"/cohorts/{cohort_id}/participants/e-1",
                                  headers=api.participant("e-2"))
    assert_problem(response, 404, "participant-not-found")
    assert (await api.http.get("/me/enrolments", headers=api.participant("e-2"))).json() == []


async def test_an_admin_reads_anyones_record_and_unknown_ones_are_404(api: Api, cohort_id):
    await api.enrol(cohort_id, "e-1")
    response = await api.http.get(f"/cohorts/{cohort_id}/participants/e-1",
                                  headers=api.admin())
    assert response.json()["email"] == "lea.schneider@example.com"
    assert_problem(await api.http.get(f"/cohorts/{cohort_id}/participants/e-404",
                                      headers=api.admin()), 404, "participant-not-found")


async def test_admins_page_through_participants_and_filter_them(api: Api, cohort_id):
    for i in range(5):
        role, level = ("mentor", 2) if i % 2 else ("mentee", 8)
        await api.enrol(cohort_id, f"e-{i}", by_admin=True, role=role, career_level=level,
                        email=f"p{i}@example.com", department="IT" if i < 3 else "Sales")
    url = f"/cohorts/{cohort_id}/participants"
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.http.get(url, params=params, headers=api.admin())).json()
        assert len(page["items"]) <= 2
        seen += [p["participant_id"] for p in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == [f"e-{i}" for i in range(5)]
    mentors = (await api.http.get(url, params={"role": "mentor"}, headers=api.admin())).json()
    assert [p["participant_id"] for p in mentors["items"]] == ["e-1", "e-3"]
    sales = (await api.http.get(url, params={"department": "Sales"}, headers=api.admin())).json()
    assert [p["participant_id"] for p in sales["items"]] == ["e-3", "e-4"]


async def test_a_bad_cursor_or_page_size_is_a_422_problem(api: Api, cohort_id):
    url = f"/cohorts/{cohort_id}/participants"
    assert_problem(await api.http.get(url, params={"cursor": "zzz"}, headers=api.admin()), 422,
                   "invalid-cursor")
    assert_problem(await api.http.get(url, params={"limit": 0}, headers=api.admin()), 422)


async def test_participants_cannot_list_a_cohorts_participants(api: Api, cohort_id):
    response = await api.http.get(f"/cohorts/{cohort_id}/participants",
                                  headers=api.participant("e-1"))
    assert_problem(response, 403)


async def test_names_and_email_addresses_never_reach_the_logs(api: Api, cohort_id):
    csv = ("employee_id,role,name,email,department,career_level,languages,time_zone,consent\n"
           "e-8,mentee,Max Mustermann,max.mustermann@example.com,IT,7,de,Europe/Berlin,yes\n")
    with capture_logs() as logs:
        await api.enrol(cohort_id, "e-1")
        await api.enrol(cohort_id, "e-2", email="lea.schneider@example.com")  # duplicate
        await api.http.post(f"/cohorts/{cohort_id}/imports", content=csv,
                            headers={**api.admin(), "content-type": "text/csv"})
        await api.http.post(f"/cohorts/{cohort_id}/participants/e-1/withdraw",
                            headers=api.participant("e-1"))
    text = repr(logs)
    assert "participant_enrolled" in text and "import_completed" in text
    for personal in ("Lea", "Schneider", "lea.schneider", "Mustermann", "max.mustermann",
                     "example.com"):
        assert personal not in text


async def test_enrolments_arriving_together_share_transactions_and_still_meet_duplicates(
    api: Api, cohort_id, unique: str
):
    with COMMANDS.counting(f"enrolment_{unique}") as commands:
        responses = await asyncio.gather(
            *(api.enrol(cohort_id, f"e-{i}", email=f"p{i}@example.com") for i in range(30)),
            api.enrol(cohort_id, "e-twin", email="P0@example.com"))
    statuses = [r.status_code for r in responses]
    assert statuses[1:30] == [201] * 29
    assert sorted([statuses[0], statuses[30]]) == [201, 409]  # e-0 and e-twin share an e-mail
    loser = responses[30] if statuses[0] == 201 else responses[0]
    # a participant never learns someone else's id from a duplicate
    assert assert_problem(loser, 409, "already-enrolled")["participant_id"] is None
    assert commands["insert", "participants"] < 30  # fewer transactions than requests
    assert len(await api.outbox_types()) == 1 + 30
