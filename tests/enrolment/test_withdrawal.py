"""Withdrawal at any time, by the person or an admin, erasing their personal data here."""

from __future__ import annotations

import pytest

from services.enrolment.domain import ERASED_ON_WITHDRAWAL
from tests.enrolment.conftest import Api, assert_problem

pytestmark = pytest.mark.integration


@pytest.fixture
async def cohort_id(api: Api) -> str:
    cohort_id = str((await api.open_cohort())["cohort_id"])
    assert (await api.enrol(cohort_id, "e-1")).status_code == 201
    return cohort_id


def withdraw_url(cohort_id: str, participant_id: str) -> str:
    return f"/cohorts/{cohort_id}/participants/{participant_id}/withdraw"


async def test_a_participant_withdraws_and_their_personal_data_is_erased(api: Api, cohort_id):
    response = await api.http.post(withdraw_url(cohort_id, "e-1"), json={"reason": "moved_role"},
                                   headers=api.participant("e-1"))
    assert response.status_code == 200
    result = response.json()
    assert (result["participant_id"], result["status"], result["withdrawn_by"]) == (
        "e-1", "withdrawn", "self")
    assert result["reason"] == "moved_role" and result["erased"] == list(ERASED_ON_WITHDRAWAL)

    [stored] = await api.enrolment.service.db["participants"].find().to_list()
    for field in ERASED_ON_WITHDRAWAL:
        assert field not in stored, field
    assert "Lea" not in repr(stored) and "example.com" not in repr(stored)
    kept = {"role": "mentor", "department": "Digital Channels", "career_level": 2,
            "cohort_id": cohort_id, "status": "withdrawn", "withdrawn_by": "self"}
    assert {k: stored[k] for k in kept} == kept
    assert stored["enrolled_at"] < stored["withdrawn_at"]


async def test_an_admin_withdraws_a_participant(api: Api, cohort_id):
    response = await api.http.post(withdraw_url(cohort_id, "e-1"), headers=api.admin())
    assert response.status_code == 200
    assert response.json()["withdrawn_by"] == "admin"


async def test_withdrawal_is_possible_after_the_cohort_closed(api: Api, cohort_id):
    await api.http.post(f"/cohorts/{cohort_id}/close", headers=api.admin())
    response = await api.http.post(withdraw_url(cohort_id, "e-1"), headers=api.participant("e-1"))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["withdrawn_by"]) == ("withdrawn", "self")
    assert await api.outbox_types() == ["CohortOpened", "ParticipantEnrolled", "CohortClosed",
                                        "ParticipantWithdrawn"]
    closed = (await api.http.get(f"/cohorts/{cohort_id}", headers=api.admin())).json()
    assert (closed["status"], closed["counts"]["enrolled"]["total"],
            closed["counts"]["withdrawn"]["total"]) == ("closed", 0, 1)


async def test_a_participant_cannot_withdraw_someone_else(api: Api, cohort_id):
    response = await api.http.post(withdraw_url(cohort_id, "e-1"), headers=api.participant("e-2"))
    assert_problem(response, 404, "participant-not-found")
    assert (await api.http.get(f"/cohorts/{cohort_id}/participants/e-1",
                               headers=api.admin())).json()["status"] == "enrolled"


async def test_after_withdrawal_nothing_identifies_the_person_any_more(api: Api, cohort_id):
    await api.http.post(withdraw_url(cohort_id, "e-1"), headers=api.participant("e-1"))
    assert_problem(await api.http.post(withdraw_url(cohort_id, "e-1"),
                                       headers=api.participant("e-1")), 404)
    assert_problem(await api.http.get(f"/cohorts/{cohort_id}/participants/e-1",
                                      headers=api.participant("e-1")), 404)
    assert (await api.http.get("/me/enrolments", headers=api.participant("e-1"))).json() == []
    withdrawn = (await api.http.get(f"/cohorts/{cohort_id}/participants",
                                    params={"status": "withdrawn"}, headers=api.admin())).json()
    [row] = withdrawn["items"]
    assert row["participant_id"] is None and row["name"] is None and row["email"] is None
    assert (row["role"], row["department"], row["status"]) == (
        "mentor", "Digital Channels", "withdrawn")


async def test_a_withdrawn_person_may_enrol_again(api: Api, cohort_id):
    await api.http.post(withdraw_url(cohort_id, "e-1"), headers=api.participant("e-1"))
    assert (await api.enrol(cohort_id, "e-1")).status_code == 201
    assert await api.outbox_types() == ["CohortOpened", "ParticipantEnrolled",
                                        "ParticipantWithdrawn", "ParticipantEnrolled"]


async def test_withdrawing_from_an_unknown_cohort_or_as_an_unknown_person_is_404(
    api: Api, cohort_id
):
    assert_problem(await api.http.post(withdraw_url("coh-nope", "e-1"), headers=api.admin()),
                   404, "participant-not-found")
    assert_problem(await api.http.post(withdraw_url(cohort_id, "e-404"), headers=api.admin()),
                   404, "participant-not-found")


async def test_a_withdrawal_reason_is_a_short_code_never_free_text(api: Api, cohort_id):
    response = await api.http.post(withdraw_url(cohort_id, "e-1"),
                                   json={"reason": "My manager Max Mustermann said so"},
                                   headers=api.participant("e-1"))
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "reason"]
