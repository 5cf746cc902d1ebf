"""Fixtures for the sessions service: the real service on the real infrastructure with a pinned
clock, an HTTP client with tokens of two business units, and a way to announce the enrolment
and matching facts it consumes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import Envelope, Event, encode
from contracts.catalogue import example_data
from contracts.enrolment import CohortOpened, ParticipantEnrolled, ParticipantWithdrawn
from contracts.matching import PairConfirmed
from contracts.topics import SESSIONS
from services.runtime.outbox import OUTBOX, PENDING
from services.sessions.app import Sessions, build
from services.sessions.settings import SessionsSettings
from tests.harness import (
    BU_INSURANCE,
    BU_RETAIL,
    PinnedClock,
    Tokens,
    decoded,
    eventually,
    of_cohort,
    probe_settings,
    read_topic,
)

TENANT = BU_RETAIL
OTHER_TENANT = BU_INSURANCE
MENTOR, MENTEE = "e-1001", "e-2001"


class SessionsHarness(Tokens):
    """The running sessions service, an HTTP client, tokens, a pinned clock, a fact producer."""

    def __init__(self, sessions: Sessions, http: httpx.AsyncClient, producer: AIOKafkaProducer,
                 cohort_id: str, bootstrap: str, clock: PinnedClock) -> None:
        super().__init__(sessions.settings.jwt_secret.get_secret_value())
        self.sessions = sessions
        self.http = http
        self.producer = producer
        self.cohort_id = cohort_id
        self.bootstrap = bootstrap
        self.clock = clock

    async def announce(self, *events: Event) -> None:
        """Put facts on the broker, as the enrolment and matching services would."""
        for event in events:
            record = encode(event, source=f"/revmentor/{event.producer}")
            await self.send(record.topic, record.value, record.key, record.headers)

    async def send(self, topic: str, value: bytes, key: bytes | None,
                   headers: dict[str, str]) -> None:
        await self.producer.send_and_wait(topic, value, key=key,
                                          headers=[(k, v.encode()) for k, v in headers.items()])

    async def open_cohort(self, cohort_id: str | None = None, tenant: str = TENANT,
                          session_target: int = 2) -> str:
        cohort_id = cohort_id or self.cohort_id
        now = datetime.now(UTC)
        await self.announce(CohortOpened.model_validate({
            **example_data(CohortOpened), "tenant_id": tenant, "cohort_id": cohort_id,
            "opens_at": now.isoformat(), "closes_at": (now + timedelta(days=14)).isoformat(),
            "session_target": session_target}))

        async def known() -> bool:
            cohort = await self.sessions.store.cohort(tenant, cohort_id)
            return cohort is not None and cohort.session_target == session_target

        await eventually(known, what="the cohort to reach the sessions service")
        return cohort_id

    def enrolled(self, participant_id: str, role: str, department: str,
                 cohort_id: str | None = None, tenant: str = TENANT) -> ParticipantEnrolled:
        return ParticipantEnrolled.model_validate({
            **example_data(ParticipantEnrolled), "tenant_id": tenant,
            "cohort_id": cohort_id or self.cohort_id, "participant_id": participant_id,
            "role": role, "department": department, "career_level": 2 if role == "mentor" else 8,
            "email": f"{participant_id}@example.com"})

    def confirmed(self, cohort_id: str | None = None, tenant: str = TENANT,
                  mentor: str = MENTOR, mentee: str = MENTEE) -> PairConfirmed:
        return PairConfirmed.model_validate({
            **example_data(PairConfirmed), "tenant_id": tenant,
            "cohort_id": cohort_id or self.cohort_id, "pair_id": f"pair-{uuid.uuid4().hex[:12]}",
            "mentor_id": mentor, "mentee_id": mentee,
            "confirmed_at": (self.clock.now - timedelta(days=1)).isoformat()})

    async def mentorship(self, cohort_id: str | None = None, tenant: str = TENANT,
                         mentor: str = MENTOR, mentee: str = MENTEE) -> str:
        """A confirmed pair announced on the broker, once the service holds its mentorship."""
        event = self.confirmed(cohort_id, tenant, mentor, mentee)
        await self.announce(event)
        await self.known(tenant, event.pair_id)
        return event.pair_id

    async def known(self, tenant: str, pair_id: str) -> None:
        async def exists() -> bool:
            return await self.sessions.store.mentorship(tenant, pair_id) is not None

        await eventually(exists, what=f"mentorship {pair_id}")

    def withdrawal(self, participant_id: str, cohort_id: str | None = None,
                   tenant: str = TENANT, role: str = "mentee") -> ParticipantWithdrawn:
        return ParticipantWithdrawn.model_validate({
            **example_data(ParticipantWithdrawn), "tenant_id": tenant,
            "cohort_id": cohort_id or self.cohort_id, "participant_id": participant_id,
            "role": role, "withdrawn_at": self.clock.now.isoformat()})

    def plan(self, in_hours: float = 1, **fields: Any) -> dict[str, Any]:
        """A valid video session ``in_hours`` after the pinned now."""
        starts = self.clock.now + timedelta(hours=in_hours)
        return {"starts_at": starts.isoformat(), "duration_minutes": 60, "format": "video",
                "video_link": "https://meet.example.com/rm-1", "agenda": "Prompting basics",
                **fields}

    async def schedule(self, pair_id: str, by: str = MENTEE, tenant: str = TENANT,
                       **plan: Any) -> dict[str, Any]:
        response = await self.http.post(f"/mentorships/{pair_id}/sessions",
                                        json=self.plan(**plan),
                                        headers=self.participant(by, tenant))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def held(self, session_id: str, by: str = MENTOR) -> dict[str, Any]:
        """Mark the session held, moving the pinned clock past its start if need be."""
        session = await self.sessions.store.session(TENANT, session_id)
        assert session is not None
        if session.plan.starts_at > self.clock.now:
            self.clock.now = session.plan.starts_at
        response = await self.http.post(f"/sessions/{session_id}/held",
                                        headers=self.participant(by))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def feedback(self, session_id: str, by: str, rating: int = 5,
                       topics: tuple[str, ...] = ("genai",), note: str | None = None,
                       learned: bool = True) -> httpx.Response:
        return await self.http.post(
            f"/sessions/{session_id}/feedback", headers=self.participant(by),
            json={"rating": rating, "learned_something": learned, "topics": list(topics),
                  "note": note})

    async def events(self, count: int, cohort_id: str | None = None) -> list[Envelope]:
        """The first ``count`` sessions events of the cohort, read with a plain consumer."""
        records = await read_topic(self.bootstrap, SESSIONS, count=count,
                                   keep=of_cohort(cohort_id or self.cohort_id))
        assert len(records) >= count, f"only {len(records)} of {count} events arrived"
        return decoded(records)

    async def outbox_drained(self) -> None:
        async def drained() -> bool:
            pending = self.sessions.service.db[OUTBOX].find(PENDING).limit(1)
            return not await pending.to_list()

        await eventually(drained, what="the outbox to be published")


@pytest.fixture
async def harness(infra: Any, unique: str) -> AsyncIterator[SessionsHarness]:
    # "latest": this test's service sees only this test's facts, not the whole shared topics
    plain = probe_settings(infra, f"sessions-{unique}", consumer_start_from="latest")
    sessions = build(SessionsSettings.load(**{**dict(plain), "feedback_sweep_interval_s": 0.1}))
    clock = PinnedClock()
    sessions.commands.clock = clock
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    async with sessions.app.router.lifespan_context(sessions.app):
        await eventually(sessions.service.consuming, what="the consumer group to be assigned")
        transport = httpx.ASGITransport(app=sessions.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sessions") as http:
            yield SessionsHarness(sessions, http, producer, f"cohort-{unique}",
                                  infra.kafka_bootstrap_servers, clock)
    await producer.stop()
