"""Every request body is bounded, streamed uploads included: 413 problem+json (issue 8).

Issue 8 enrolled a person with 30 manager_chain items of 40,000 characters (201, and a 1.24 MB
record that blocked the outbox). Field bounds are one half of the fix; the body limit is the
other, and it must hold for bodies without a Content-Length too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import BaseModel

from services.enrolment.app import build
from services.enrolment.settings import EnrolmentSettings
from services.runtime.auth import PARTICIPANT, PROGRAMME_ADMIN, issue_dev_token
from services.runtime.http import PROBLEM
from tests.harness import metric, probe_service

pytestmark = pytest.mark.integration

LIMIT, UPLOAD_LIMIT = 2048, 8192


class Note(BaseModel):
    text: str


def routes() -> APIRouter:
    router = APIRouter()

    @router.post("/notes")
    async def take_note(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    @router.post("/uploads/{name}")
    async def upload(name: str, request: Request) -> dict[str, int]:
        return {"bytes": sum([len(chunk) async for chunk in request.stream()])}

    return router


async def in_pieces(data: bytes, size: int = 512) -> AsyncIterator[bytes]:
    """A body streamed without Content-Length, as a large upload arrives."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


def is_413_problem(response: httpx.Response, limit: int) -> bool:
    return (response.status_code, response.headers["content-type"],
            response.json()["detail"]) == (413, PROBLEM, f"the request body exceeds {limit} bytes")


@pytest.fixture
async def probe(infra: Any, unique: str) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    service = probe_service(infra, f"limits-{unique}", http_max_body_bytes=LIMIT)
    app = service.http_app(routes(), title="probe",
                           body_limits={"/uploads/{name}": UPLOAD_LIMIT})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
            yield http, service


async def test_a_json_body_over_the_limit_is_refused_with_413_and_one_under_it_is_served(probe):
    http, service = probe
    assert (await http.post("/notes", json={"text": "x" * 1000})).json() == {"length": 1000}
    refused = await http.post("/notes", json={"text": "x" * LIMIT})
    assert is_413_problem(refused, LIMIT)
    assert metric(service, "revmentor_http_requests_total") == 2


async def test_a_body_without_content_length_is_counted_as_it_arrives(probe):
    http, _ = probe
    body = b'{"text": "' + b"x" * LIMIT + b'"}'
    assert is_413_problem(await http.post("/notes", content=in_pieces(body)), LIMIT)


async def test_a_route_with_a_limit_of_its_own_streams_up_to_it_and_no_further(probe):
    http, _ = probe
    fits = await http.post("/uploads/hris.csv", content=in_pieces(b"r" * (UPLOAD_LIMIT - 1)))
    assert fits.json() == {"bytes": UPLOAD_LIMIT - 1}
    declared = await http.post("/uploads/hris.csv", content=b"r" * (UPLOAD_LIMIT + 1))
    assert is_413_problem(declared, UPLOAD_LIMIT)
    streamed = await http.post("/uploads/hris.csv", content=in_pieces(b"r" * (UPLOAD_LIMIT + 1)))
    assert is_413_problem(streamed, UPLOAD_LIMIT)


@pytest.fixture
async def enrolment(infra: Any, unique: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings = EnrolmentSettings.load(
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers, mongodb_uri=infra.mongodb_uri,
        mongodb_database=f"enrolment_limits_{unique}", window_check_interval_s=3600,
        http_max_body_bytes=4096, import_max_body_bytes=16_384)
    enrolment = build(settings)
    async with enrolment.app.router.lifespan_context(enrolment.app):
        transport = httpx.ASGITransport(app=enrolment.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, settings.jwt_secret.get_secret_value()


def token(secret: str, roles: list[str], participant_id: str | None = None) -> dict[str, str]:
    jwt = issue_dev_token(secret, subject="user-1", business_unit="bu-limits", roles=roles,
                          participant_id=participant_id)
    return {"Authorization": f"Bearer {jwt}"}


def csv_rows(count: int) -> bytes:
    header = "employee_id,role,name,email,department,career_level,languages,time_zone,consent,goals"
    rows = [f"e-{i:05d},mentor,Person {i},p{i}@example.com,IT,2,de,Europe/Berlin,yes,{'g' * 300}"
            for i in range(count)]
    return "\n".join([header, *rows, ""]).encode()


async def test_enrolment_refuses_the_oversized_application_of_issue_8_and_streams_imports_to_their_own_limit(  # noqa: E501
    enrolment,
):
    http, secret = enrolment
    admin = token(secret, [PROGRAMME_ADMIN])
    closes = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    cohort = await http.post("/cohorts", headers=admin,
                             json={"name": "Limits", "languages": ["de"], "closes_at": closes})
    cohort_id = cohort.json()["cohort_id"]
    application = {"role": "mentor", "name": "Lea", "email": "lea@example.com",
                   "department": "IT", "career_level": 2, "languages": ["de"],
                   "time_zone": "Europe/Berlin", "consent": True,
                   "manager_chain": ["m" * 40_000] * 30}
    oversized = await http.post(f"/cohorts/{cohort_id}/participants", json=application,
                                headers=token(secret, [PARTICIPANT], participant_id="p-lea"))
    assert is_413_problem(oversized, 4096)

    csv = {**admin, "content-type": "text/csv"}
    imported = await http.post(f"/cohorts/{cohort_id}/imports", content=in_pieces(csv_rows(30)),
                               headers=csv)
    assert imported.json()["summary"]["accepted"] == 30  # 11 KB: over 4 KiB, under 16 KiB
    too_large = await http.post(f"/cohorts/{cohort_id}/imports", content=csv_rows(60),
                                headers=csv)
    assert is_413_problem(too_large, 16_384)
