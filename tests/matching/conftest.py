"""Fixtures for the matching service: the real service on the real infrastructure, an HTTP
client with tokens of two business units, and a way to announce enrolment facts on the broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import Event, encode
from contracts.catalogue import example_data
from contracts.enrolment import CohortClosed, CohortOpened, ParticipantEnrolled
from contracts.profiles import ParticipantProfile, encode_profile, profile_key
from contracts.topics import PROFILES
from services.matching.app import Matching, build
from tests.harness import BU_INSURANCE, BU_RETAIL, Tokens, eventually, probe_settings

TENANT = BU_RETAIL
OTHER_TENANT = BU_INSURANCE


class MatchingHarness(Tokens):
    """The running matching service, an HTTP client and tokens, a producer of enrolment facts."""

    def __init__(self, matching: Matching, http: httpx.AsyncClient, producer: AIOKafkaProducer,
                 cohort_id: str, bootstrap: str) -> None:
        super().__init__(matching.settings.jwt_secret.get_secret_value())
        self.matching = matching
        self.http = http
        self.producer = producer
        self.cohort_id = cohort_id
        self.bootstrap = bootstrap

    async def announce(self, *events: Event) -> None:
        """Put enrolment facts on the broker, as the enrolment service would."""
        for event in events:
            record = encode(event, source="/revmentor/enrolment")
            await self.producer.send_and_wait(record.topic, record.value, key=record.key,
                                              headers=[(k, v.encode()) for k, v in
                                                       record.headers.items()])

    async def open_cohort(self, cohort_id: str | None = None, tenant: str = TENANT,
                          **policy: Any) -> None:
        now = datetime.now(UTC)
        cohort_id = cohort_id or self.cohort_id
        opened = CohortOpened.model_validate({
            **example_data(CohortOpened), "tenant_id": tenant, "cohort_id": cohort_id,
            "opens_at": now.isoformat(), "closes_at": (now + timedelta(days=14)).isoformat(),
            "matching_policy": {**example_data(CohortOpened)["matching_policy"], **policy},
        })
        await self.announce(opened)

        async def known() -> bool:
            return await self.matching.store.cohort(tenant, cohort_id) is not None

        await eventually(known, what="the cohort to reach the matching service")

    async def announce_profiles(self, *profiles: ParticipantProfile) -> None:
        """Put profiles on the compacted profile topic, as the enrolment service would."""
        for profile in profiles:
            record = encode_profile(profile, source="/revmentor/enrolment")
            await self.producer.send_and_wait(record.topic, record.value, key=record.key)

    async def erase_profile(self, cohort_id: str, participant_id: str) -> None:
        """The tombstone of one enrolment's profile: its key, a null value."""
        await self.producer.send_and_wait(
            PROFILES, None, key=profile_key(cohort_id, participant_id).encode())

    def profile(self, participant_id: str, goals: str, **fields: Any) -> ParticipantProfile:
        """A profile in the test's cohort, with the goals matching reads."""
        return ParticipantProfile.model_validate({
            **example_data(ParticipantProfile), "tenant_id": TENANT, "cohort_id": self.cohort_id,
            "participant_id": participant_id, "email": f"{participant_id}@example.com",
            "goals": goals, **fields})

    async def enrol(self, *people: ParticipantEnrolled) -> None:
        await self.announce(*people)

        async def pooled() -> bool:
            ids = [f"{p.cohort_id}/{p.participant_id}" for p in people]
            return await self.matching.store.pool.count_documents({"_id": {"$in": ids}}) == len(
                ids)

        await eventually(pooled, what="the participants to reach the pool")

    async def close_cohort(self) -> None:
        await self.announce(CohortClosed.model_validate({
            **example_data(CohortClosed), "tenant_id": TENANT, "cohort_id": self.cohort_id,
            "closed_at": datetime.now(UTC).isoformat(), "reason": "admin"}))

    def person(self, participant_id: str, role: str, level: int, **fields: Any
               ) -> ParticipantEnrolled:
        """An enrolment in the test's cohort; ``cohort_id`` and ``tenant_id`` may be given."""
        data = {**example_data(ParticipantEnrolled), "tenant_id": TENANT,
                "cohort_id": self.cohort_id, "participant_id": participant_id, "role": role,
                "career_level": level, "languages": ["en"], "utc_offset_hours": 1.0,
                "department": "Retail" if role == "mentor" else "Finance",
                "manager_id": None, "manager_chain": [],
                "topics_offered": ["genai"] if role == "mentor" else ["negotiation"],
                "topics_wanted": ["negotiation"] if role == "mentor" else ["genai"]}
        data.update(fields)
        return ParticipantEnrolled.model_validate(data)


@pytest.fixture
async def harness(infra: Any, unique: str) -> AsyncIterator[MatchingHarness]:
    # "latest": this test's service sees only this test's facts, not the whole shared topic
    matching = build(probe_settings(infra, f"matching-{unique}", consumer_start_from="latest"))
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    async with matching.app.router.lifespan_context(matching.app):

        await eventually(matching.service.consuming, what="the consumer group to be assigned")
        transport = httpx.ASGITransport(app=matching.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://matching") as http:
            yield MatchingHarness(matching, http, producer, f"cohort-{unique}",
                                  infra.kafka_bootstrap_servers)
    await producer.stop()
