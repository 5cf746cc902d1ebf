"""Fixtures of the enrolment tests: the real service on the real infra, an HTTP client, tokens.

Each test gets its own database (``enrolment_<unique>``), so tests never see each other's data;
the broker topic is shared, so event tests filter by their cohort id (the record key).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from contracts.topics import EVENT_STREAMS
from services.enrolment.app import Enrolment, build
from services.enrolment.settings import EnrolmentSettings
from services.runtime.http import PROBLEM
from tests.harness import BU_INSURANCE, BU_RETAIL, Tokens

UNIT_A, UNIT_B = BU_RETAIL, BU_INSURANCE


class Api(Tokens):
    """An HTTP client of one running enrolment service, plus tokens to call it with."""

    def __init__(self, http: httpx.AsyncClient, enrolment: Enrolment) -> None:
        super().__init__(enrolment.settings.jwt_secret.get_secret_value())
        self.http = http
        self.enrolment = enrolment

    async def open_cohort(self, unit: str = UNIT_A, **overrides: Any) -> dict[str, Any]:
        response = await self.http.post("/cohorts", json=cohort_spec(**overrides),
                                        headers=self.admin(unit))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def enrol(self, cohort_id: str, participant_id: str, *, by_admin: bool = False,
                    unit: str = UNIT_A, **overrides: Any) -> httpx.Response:
        body = application(**overrides)
        if by_admin:
            body["employee_id"] = participant_id
        headers = self.admin(unit) if by_admin else self.participant(participant_id, unit)
        return await self.http.post(f"/cohorts/{cohort_id}/participants", json=body,
                                    headers=headers)

    async def outbox_types(self) -> list[str]:
        """Types of every event this service has written for the event streams (its database
        is the test's own); profiles and their tombstones are not events."""
        docs = await self.enrolment.service.db["outbox"].find(
            {"topic": {"$in": list(EVENT_STREAMS)}}).sort("_id", 1).to_list()
        return [d["headers"]["ce_type"].split(".")[2] for d in docs]


def cohort_spec(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    spec: dict[str, Any] = {
        "name": "Reverse Mentoring Autumn: AI at work",
        "languages": ["de", "en"],
        "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
        "session_target": 6,
        "matching_policy": {"mode": "batch", "mentor_capacity": 2, "min_level_gap": 2},
    }
    spec.update(overrides)
    return spec


def application(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "role": "mentor",
        "name": "Lea Schneider",
        "email": "lea.schneider@example.com",
        "department": "Digital Channels",
        "manager_id": "e-30817",
        "career_level": 2,
        "topics_offered": ["genai", "social-media"],
        "topics_wanted": ["negotiation"],
        "languages": ["de", "en"],
        "time_zone": "Europe/Berlin",
        "preferred_format": "either",
        "goals": "Show how we use AI assistants daily.",
        "consent": True,
    }
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int, code: str | None = None
                   ) -> dict[str, Any]:
    """The response is an RFC 9457 problem of ``status`` (and of type ``code``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = dict(response.json())
    assert body["status"] == status and body["title"]
    if code is not None:
        assert body["type"] == f"urn:revmentor:problem:{code}", body
    return body


def settings_for(infra: Any, unique: str, **overrides: Any) -> EnrolmentSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": infra.kafka_bootstrap_servers,
        "mongodb_uri": infra.mongodb_uri, "mongodb_database": f"enrolment_{unique}",
        "outbox_poll_interval_s": 0.05, "window_check_interval_s": 3600,
    }
    return EnrolmentSettings.load(**{**values, **overrides})


@asynccontextmanager
async def running(infra: Any, unique: str, **overrides: Any) -> AsyncIterator[Api]:
    """A started enrolment service (lifespan: indexes, relay, window closer) and its client."""
    enrolment = build(settings_for(infra, unique, **overrides))
    async with enrolment.app.router.lifespan_context(enrolment.app):
        transport = httpx.ASGITransport(app=enrolment.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Api(http, enrolment)


@pytest.fixture
async def api(infra: Any, unique: str) -> AsyncIterator[Api]:
    async with running(infra, unique) as client:
        yield client


@pytest.fixture
def start(infra: Any, unique: str) -> Callable[..., AbstractAsyncContextManager[Api]]:
    """Start the service with settings overrides: ``async with start(import_chunk_size=10)``."""
    return lambda **overrides: running(infra, unique, **overrides)


