"""Every service, as its own process on the real infrastructure, keeps its OpenAPI promise.

A bounded schemathesis run per service: every operation, valid and invalid generated requests
(a fixed seed, a few dozen each), sent as an admin and as a participant, judged by schemathesis'
conformance checks. No answer may be a server error, and every answer's status, media type,
headers and body must be what the document says.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from aiokafka import AIOKafkaProducer
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contracts import encode
from contracts.catalogue import example_data
from contracts.enrolment import CohortOpened
from contracts.matching import PairConfirmed
from tests.harness import Tokens, free_port, service_process

pytestmark = pytest.mark.integration

SECRET = "conformance-secret-0123456789-0123456789"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 20
TOKENS = Tokens(SECRET)
CALLERS = [TOKENS.admin(), TOKENS.participant("e-1001")]


def conforms(url: str, known: dict[str, str] | None = None) -> list[str]:
    """Run every operation of the service at ``url``; the labels of those that were checked.

    Besides random path parameters (mostly 404s), an operation naming a ``known`` one (an
    existing cohort, an enrolled participant) is also run with it, to reach past the lookup.
    """
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    checked = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        raw = operation.definition.raw
        names = {p["name"] for p in raw.get("parameters", []) if p["in"] == "path"}
        takes_input = bool(raw.get("parameters") or raw.get("requestBody"))
        runs: list[tuple[GenerationMode, dict[str, str]]] = [(GenerationMode.POSITIVE, {})]
        if takes_input:
            runs.append((GenerationMode.NEGATIVE, {}))
        fixed = {k: v for k, v in (known or {}).items() if k in names}
        if fixed:
            runs.append((GenerationMode.POSITIVE, fixed))
        for mode, path_parameters in runs:
            strategy = operation.as_strategy(generation_mode=mode,
                                             path_parameters=path_parameters or None)

            @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None,
                      database=None, suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def check(case: Any) -> None:
                for headers in CALLERS:
                    case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)

            check()
        checked.append(operation.label)
    return checked


@pytest.fixture(scope="module")
def enrolment(infra: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """The running service, and a cohort with one enrolled participant in it."""
    with service_process(infra, "enrolment", jwt_secret=SECRET) as url:
        cohort = httpx.post(f"{url}/cohorts", headers=CALLERS[0], json={
            "name": "Conformance", "languages": ["en"], "closes_at": "2199-01-01T00:00:00Z"})
        assert cohort.status_code == 201, cohort.text
        cohort_id = cohort.json()["cohort_id"]
        enrolled = httpx.post(f"{url}/cohorts/{cohort_id}/participants", headers=CALLERS[1],
                              json={"role": "mentor", "name": "Lea", "email": "lea@example.com",
                                    "department": "IT", "career_level": 2, "languages": ["en"],
                                    "time_zone": "Europe/Berlin", "consent": True})
        assert enrolled.status_code == 201, enrolled.text
        yield url, {"cohort_id": cohort_id, "participant_id": "e-1001"}


@pytest.fixture(scope="module")
def matching_url(infra: Any) -> Iterator[str]:
    with service_process(infra, "matching", jwt_secret=SECRET,
                         consumer_start_from="latest") as url:
        yield url


@pytest.fixture(scope="module")
def sessions(infra: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """The running service, and a mentorship of the participant caller (the mentor) in it."""
    cohort_id, pair_id = f"coh-{uuid.uuid4().hex[:8]}", f"pair-{uuid.uuid4().hex[:8]}"
    with service_process(infra, "sessions", jwt_secret=SECRET,
                         mongodb_database=f"sessions_conformance_{cohort_id[4:]}") as url:
        asyncio.run(_announce_mentorship(infra.kafka_bootstrap_servers, cohort_id, pair_id))
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while httpx.get(f"{url}/mentorships/{pair_id}", headers=CALLERS[0]).status_code != 200:
            assert datetime.now(UTC) < deadline, "the mentorship never reached the service"
            time.sleep(0.05)
        yield url, {"cohort_id": cohort_id, "pair_id": pair_id}


async def _announce_mentorship(bootstrap: str, cohort_id: str, pair_id: str) -> None:
    now = datetime.now(UTC)
    events = [
        CohortOpened.model_validate({
            **example_data(CohortOpened), "tenant_id": "bu-retail", "cohort_id": cohort_id,
            "opens_at": now.isoformat(), "closes_at": (now + timedelta(days=9)).isoformat()}),
        PairConfirmed.model_validate({
            **example_data(PairConfirmed), "tenant_id": "bu-retail", "cohort_id": cohort_id,
            "pair_id": pair_id, "mentor_id": "e-1001", "mentee_id": "e-2001",
            "confirmed_at": now.isoformat()}),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for event in events:
            record = encode(event, source=f"/revmentor/{event.producer}")
            await producer.send_and_wait(record.topic, record.value, key=record.key,
                                         headers=[(k, v.encode())
                                                  for k, v in record.headers.items()])
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
def notifications(infra: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """The running service with one endpoint, admitted to loopback only: generated
    registrations name other hosts and are refused, so no request leaves the machine."""
    with service_process(infra, "notifications", jwt_secret=SECRET,
                         consumer_start_from="latest", smtp_host="127.0.0.1",
                         smtp_port=str(free_port()), webhook_hosts='["127.0.0.1"]') as url:
        endpoint = httpx.post(f"{url}/webhooks", headers=CALLERS[0], json={
            "url": f"https://127.0.0.1:{free_port()}/hook",
            "event_types": ["revmentor.matching.PairConfirmed.v1"]})
        assert endpoint.status_code == 201, endpoint.text
        yield url, {"endpoint_id": endpoint.json()["endpoint_id"]}


def test_enrolment_answers_as_its_document_says(enrolment: tuple[str, dict[str, str]]) -> None:
    url, known = enrolment
    assert len(conforms(url, known)) == 13


def test_matching_answers_as_its_document_says(matching_url: str) -> None:
    assert len(conforms(matching_url)) == 14


def test_sessions_answers_as_its_document_says(sessions: tuple[str, dict[str, str]]) -> None:
    url, known = sessions
    assert len(conforms(url, known)) == 17


def test_notifications_answers_as_its_document_says(
        notifications: tuple[str, dict[str, str]]) -> None:
    url, known = notifications
    assert len(conforms(url, known)) == 13


def test_every_error_is_documented_as_problem_json(enrolment: tuple[str, dict[str, str]]
                                                    ) -> None:
    document = httpx.get(f"{enrolment[0]}/openapi.json").json()
    operation = document["paths"]["/cohorts/{cohort_id}/participants"]["post"]
    assert sorted(operation["responses"]) == ["201", "400", "401", "403", "404", "409", "413",
                                              "422", "503"]
    for status, response in operation["responses"].items():
        if int(status) >= 400:
            assert list(response["content"]) == ["application/problem+json"], status
