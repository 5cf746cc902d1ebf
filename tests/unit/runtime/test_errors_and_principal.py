"""One error family for every service, and the participant a token acts for."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from services.runtime.auth import PARTICIPANT, PLATFORM_ADMIN, PROGRAMME_ADMIN, Principal
from services.runtime.errors import Conflict, Forbidden, Invalid, NotFound, Violation
from services.runtime.http import PROBLEM, install_problem_handlers


def principal(roles: set[str], participant_id: str | None = None) -> Principal:
    return Principal(subject="sub-1", business_unit="bu", roles=frozenset(roles),
                     participant_id=participant_id)


def test_a_participant_acts_for_their_participant_id_claim_else_their_subject() -> None:
    assert principal({PARTICIPANT}, "e-7").acting_participant == "e-7"
    assert principal({PARTICIPANT}).acting_participant == "sub-1"
    assert principal({PARTICIPANT, PROGRAMME_ADMIN}, "e-7").acting_participant == "e-7"


def test_an_admin_only_token_acts_for_no_participant() -> None:
    assert principal({PROGRAMME_ADMIN}, "e-7").acting_participant is None
    assert principal({PLATFORM_ADMIN}).acting_participant is None


@pytest.mark.parametrize(("error", "status"), [
    (Invalid, 422), (Conflict, 409), (NotFound, 404), (Forbidden, 403), (Violation, 422)])
async def test_a_violation_becomes_a_problem_of_its_code_and_status(
    error: type[Violation], status: int
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/rule")
    async def rule() -> None:
        raise error("cohort-closed", "enrolment has closed", closes_at="2026-01-01")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/rule")
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "type": "urn:revmentor:problem:cohort-closed", "title": "Cohort closed",
        "status": status, "detail": "enrolment has closed", "closes_at": "2026-01-01"}
