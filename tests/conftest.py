"""Test-wide fixtures: one real Kafka-protocol broker and MongoDB-protocol server per session.

The tier is external (``KAFKA_BOOTSTRAP_SERVERS`` and ``MONGODB_URI`` set), then containers (a
Docker engine answers), then embedded (Tansu + SecantusDB subprocesses), unless
``REVMENTOR_TEST_BACKEND=embedded|containers|external`` says otherwise.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts.topics import ALL_TOPICS
from services.runtime.settings import ServiceSettings
from services.runtime.topic_setup import ensure_topics
from services.stack.infra import InfraTier, open_infra, select_tier
from tests.harness import seal_partitions


class RunningInfra:
    """The started tier's URLs, plus its controls (``stop_database``…) where it has them."""

    def __init__(self, tier: InfraTier) -> None:
        self._tier = tier
        self.tier = tier.infra.tier
        self.kafka_bootstrap_servers = tier.infra.kafka_bootstrap_servers
        self.mongodb_uri = tier.infra.mongodb_uri

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tier, name)


@pytest.fixture(scope="session")
def infra() -> Iterator[RunningInfra]:
    tier = select_tier(os.environ.get("REVMENTOR_TEST_BACKEND"))
    with open_infra(tier) as started:
        running = RunningInfra(started)
        # as every service start does; tests that start only parts of a service skip that step
        asyncio.run(ensure_topics(ServiceSettings(
            kafka_bootstrap_servers=running.kafka_bootstrap_servers, service_name="tests")))
        sys.stderr.write(
            f"\n[revmentor] infrastructure tier: {running.tier} "
            f"(kafka={running.kafka_bootstrap_servers} mongodb={running.mongodb_uri})\n"
        )
        yield running


@pytest.fixture(scope="session")
async def barrier_producer(infra: RunningInfra) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def sealed_topics(barrier_producer: AIOKafkaProducer) -> None:
    """Every test on the shared broker starts with exact "latest" offsets (see seal_partitions)."""
    await seal_partitions(barrier_producer, ALL_TOPICS)


def pytest_itemcollected(item: pytest.Item) -> None:
    names = getattr(item, "fixturenames", None)
    if names is not None and "infra" in names:
        names.insert(0, "sealed_topics")


def pytest_report_header(config: pytest.Config) -> str:
    return f"revmentor test backend: {select_tier(os.environ.get('REVMENTOR_TEST_BACKEND'))}"


@pytest.fixture
def unique() -> str:
    """A short unique suffix for database, cohort and consumer-group names of one test."""
    return uuid.uuid4().hex[:10]
