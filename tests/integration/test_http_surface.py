"""What every service's HTTP surface shares: probes, metrics, problem+json, bearer auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from services.runtime.auth import PROGRAMME_ADMIN, Principal, issue_dev_token, require_role
from services.runtime.http import PROBLEM, Problem
from tests.harness import probe_service

pytestmark = pytest.mark.integration


class Cohort(BaseModel):
    name: str
    session_target: int


def routes() -> APIRouter:
    router = APIRouter()

    @router.post("/cohorts")
    async def create(body: Cohort, who: Annotated[Principal, require_role(PROGRAMME_ADMIN)]
                     ) -> dict[str, str]:
        return {"business_unit": who.business_unit}

    @router.get("/cohorts/{cohort_id}")
    async def read(cohort_id: str) -> None:
        raise Problem(404, "Cohort not found", f"no cohort {cohort_id}")

    return router


@pytest.fixture
async def client(infra: Any, unique: str) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    service = probe_service(infra, f"http-{unique}", mongodb_server_selection_timeout_ms=300)
    app = service.http_app(routes(), title="probe")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
            yield http, service


def bearer(service: Any, roles: list[str]) -> dict[str, str]:
    secret = service.settings.jwt_secret.get_secret_value()
    token = issue_dev_token(secret, subject="u1", business_unit="bu-a", roles=roles)
    return {"Authorization": f"Bearer {token}"}


async def test_health_and_readiness_answer_when_database_and_broker_are_reachable(client):
    http, _ = client
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"mongodb": True, "kafka": True}


async def test_readiness_fails_while_the_database_is_down(client, infra: Any):
    if not hasattr(infra, "stop_database"):
        pytest.skip("only the embedded tier can stop its database")
    http, _ = client
    infra.stop_database()
    try:
        ready = await http.get("/readyz")
    finally:
        infra.start_database()
    assert ready.status_code == 503
    assert ready.json()["checks"]["mongodb"] is False
    assert (await http.get("/healthz")).status_code == 200


async def test_metrics_are_exposed_for_prometheus(client):
    http, _ = client
    await http.get("/healthz")
    metrics = await http.get("/metrics")
    assert metrics.status_code == 200
    assert 'revmentor_http_requests_total{method="GET",route="/healthz",status="200"}' in (
        metrics.text
    )
    assert "revmentor_outbox_backlog" in metrics.text


async def test_missing_or_invalid_token_is_a_401_problem(client):
    http, _ = client
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        response = await http.post("/cohorts", json={"name": "x", "session_target": 6},
                                   headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == 401


async def test_missing_role_is_a_403_problem(client):
    http, service = client
    response = await http.post("/cohorts", json={"name": "x", "session_target": 6},
                               headers=bearer(service, ["participant"]))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM


async def test_invalid_body_is_a_422_problem_naming_the_field(client):
    http, service = client
    response = await http.post("/cohorts", json={"name": "x", "session_target": "six"},
                               headers=bearer(service, [PROGRAMME_ADMIN]))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == ["body", "session_target"]


async def test_malformed_json_is_a_422_problem_not_a_500(client):
    http, service = client
    response = await http.post("/cohorts", content=b"{not json",
                               headers={**bearer(service, [PROGRAMME_ADMIN]),
                                        "content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_domain_problems_and_unknown_routes_are_problem_json(client):
    http, _ = client
    domain = await http.get("/cohorts/c-404")
    assert (domain.status_code, domain.json()["title"]) == (404, "Cohort not found")
    unknown = await http.get("/nowhere")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM


async def test_authorised_request_sees_its_business_unit(client):
    http, service = client
    response = await http.post("/cohorts", json={"name": "x", "session_target": 6},
                               headers=bearer(service, [PROGRAMME_ADMIN]))
    assert response.status_code == 200
    assert response.json() == {"business_unit": "bu-a"}
