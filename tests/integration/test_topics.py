"""Every service start creates the declared topics with their configuration, on every tier.

A topic the broker auto-creates on first publish has the broker's defaults; for the profile
topic that would mean no compaction, and a withdrawn person's profile would stay in the log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from structlog.testing import capture_logs

from contracts.topics import PROFILES, SPEC_OF, TOPIC_SPECS, TopicSpec
from services.runtime.topic_setup import ensure_topics, topic_configs
from tests.harness import probe_service, probe_settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def admin(infra: Any) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap_servers)
    await client.start()
    yield client
    await client.close()


def renamed(unique: str) -> list[TopicSpec]:
    """The declared topics under names of this test's own, so it sees them created."""
    return [dataclasses.replace(s, name=f"{s.name}.test-{unique}") for s in TOPIC_SPECS]


async def partitions(admin: AIOKafkaAdminClient, topic: str) -> int:
    [described] = await admin.describe_topics([topic])
    return len(described["partitions"])


async def test_a_service_start_leaves_every_declared_topic_with_its_configuration(
    infra: Any, unique: str, admin: AIOKafkaAdminClient
):
    service = probe_service(infra, f"topics-{unique}")
    await service.start()
    await service.stop()
    configs = await topic_configs(admin, [s.name for s in TOPIC_SPECS])
    for spec in TOPIC_SPECS:
        assert {k: configs[spec.name].get(k) for k in spec.config} == dict(spec.config), spec.name
    assert configs[PROFILES]["cleanup.policy"] == "compact"
    assert configs[PROFILES]["max.compaction.lag.ms"] == str(7 * 24 * 3600 * 1000)


async def test_missing_topics_are_created_with_partitions_and_config_and_a_rerun_changes_nothing(
    infra: Any, unique: str, admin: AIOKafkaAdminClient
):
    specs = renamed(unique)
    settings = probe_settings(infra, f"topics-{unique}")
    first = await ensure_topics(settings, specs)
    assert sorted(first.created) == sorted(s.name for s in specs)
    configs = await topic_configs(admin, [s.name for s in specs])
    for spec in specs:
        assert configs[spec.name] == dict(spec.config)
        assert await partitions(admin, spec.name) == spec.partitions

    again = await ensure_topics(settings, specs)
    assert (again.created, sorted(again.existing), again.differing) == (
        [], sorted(s.name for s in specs), {})


async def test_a_topic_created_without_its_configuration_is_reported_not_altered(
    infra: Any, unique: str, admin: AIOKafkaAdminClient
):
    spec = dataclasses.replace(SPEC_OF[PROFILES], name=f"{PROFILES}.test-{unique}")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    await producer.send_and_wait(spec.name, b"auto-created", key=b"k")  # broker defaults
    await producer.stop()

    with capture_logs() as logs:
        setup = await ensure_topics(probe_settings(infra, f"topics-{unique}"), [spec])
    assert setup.existing == [spec.name]
    assert setup.differing[spec.name]["cleanup.policy"][0] == "compact"
    [warning] = [line for line in logs if line["event"] == "topic_config_differs"]
    assert (warning["log_level"], warning["topic"]) == ("warning", spec.name)
    assert "compact" not in (await topic_configs(admin, [spec.name]))[spec.name].get(
        "cleanup.policy", "")

