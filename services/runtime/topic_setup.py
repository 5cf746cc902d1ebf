"""Creates the platform's topics with their declared configuration, at every service start.

A topic a producer creates by accident (broker auto-creation on first publish) gets the broker's
defaults, and for the profile topic that means no compaction: a withdrawn person's contact
details would stay in the log for good. So every service, on every tier, first creates whatever
declared topic (``contracts.topics.TOPIC_SPECS``) is missing, with its partitions and config.

Idempotent and tolerant: a topic that exists already (another replica was quicker) is fine; a
broker that refuses a config (an old Kafka without ``max.compaction.lag.ms``, a create-topic
policy) gets the topic without its configuration, logged as ``topic_config_refused``; a broker
that does not let the service create topics (they are managed elsewhere) is logged and the
service goes on. Existing topics are never altered: partitions decide which partition a cohort's
events land on, and configs may be an operator's. A declared config a topic lacks is logged as
``topic_config_differs`` so an operator can fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts.topics import TOPIC_SPECS, TopicSpec
from services.runtime.log import get_logger
from services.runtime.settings import ServiceSettings

log = get_logger(__name__)

NO_ERROR, TOPIC_ALREADY_EXISTS = 0, 36
CONFIG_REFUSED = frozenset({40, 44})
"""InvalidConfiguration, PolicyViolation: the broker will not take the topic with this config."""
NOT_ALLOWED = frozenset({29, 31})
"""TopicAuthorizationFailed, ClusterAuthorizationFailed: topics are managed elsewhere."""
DEFAULT_REPLICAS = 3


@dataclass
class TopicSetup:
    """What one run did, per topic name."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    created_without_config: dict[str, str] = field(default_factory=dict)
    not_created: dict[str, str] = field(default_factory=dict)
    differing: dict[str, dict[str, tuple[str, str | None]]] = field(default_factory=dict)
    """topic → config key → (declared, actual) for topics whose config is not as declared."""


async def ensure_topics(settings: ServiceSettings,
                        specs: Sequence[TopicSpec] = TOPIC_SPECS) -> TopicSetup:
    """Create the missing topics of ``specs``; report what exists, was created or refused."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                                client_id=f"revmentor-{settings.service_name}-topics")
    await admin.start()
    try:
        return await TopicCreator(admin, settings.kafka_topic_replication_factor).run(specs)
    finally:
        await admin.close()


class TopicCreator:
    """One admin client's pass over the declared topics (separate for tests of refusals)."""

    def __init__(self, admin: Any, replication_factor: int | None = None) -> None:
        self.admin = admin
        self.replication_factor = replication_factor

    async def run(self, specs: Sequence[TopicSpec]) -> TopicSetup:
        setup = TopicSetup()
        present = set(await self.admin.list_topics())
        missing = [s for s in specs if s.name not in present]
        setup.existing = [s.name for s in specs if s.name in present]
        if missing:
            await self._create(missing, setup)
        checked = [s for s in specs if s.name in setup.existing]
        setup.differing = await self._differences(checked)
        for topic, keys in setup.differing.items():
            log.warning("topic_config_differs", topic=topic,
                        differs={k: {"declared": d, "actual": a} for k, (d, a) in keys.items()})
        return setup

    async def _create(self, specs: list[TopicSpec], setup: TopicSetup) -> None:
        replicas = self.replication_factor or await self._default_replicas()
        outcomes = await self._create_topics(specs, replicas, with_config=True)
        refused = [s for s in specs if outcomes[s.name][0] in CONFIG_REFUSED]
        if refused:
            retried = await self._create_topics(refused, replicas, with_config=False)
            for spec in refused:
                code, message = outcomes[spec.name]
                if retried[spec.name][0] in (NO_ERROR, TOPIC_ALREADY_EXISTS):
                    setup.created_without_config[spec.name] = message
                    report = log.error if spec.compacted else log.warning
                    report("topic_config_refused", topic=spec.name, error_code=code,
                           error=message, config_not_applied=dict(spec.config))
                outcomes[spec.name] = retried[spec.name]
        for spec in specs:
            code, message = outcomes[spec.name]
            if code == NO_ERROR and spec.name not in setup.created_without_config:
                setup.created.append(spec.name)
            elif code == TOPIC_ALREADY_EXISTS:
                setup.existing.append(spec.name)
            elif code != NO_ERROR:
                setup.not_created[spec.name] = message
                log.warning("topic_not_created", topic=spec.name, error_code=code,
                            error=message, managed_elsewhere=code in NOT_ALLOWED)
        if setup.created or setup.created_without_config:
            log.info("topics_created", topics=[*setup.created, *setup.created_without_config],
                     replication_factor=replicas)

    async def _default_replicas(self) -> int:
        """Three replicas where the cluster has them, else one per broker."""
        cluster = await self.admin.describe_cluster()
        return max(1, min(DEFAULT_REPLICAS, len(cluster.get("brokers") or [])))

    async def _create_topics(self, specs: Iterable[TopicSpec], replicas: int, *,
                             with_config: bool) -> dict[str, tuple[int, str]]:
        new = [NewTopic(s.name, s.partitions, replicas,
                        topic_configs=dict(s.config) if with_config else {}) for s in specs]
        response = await self.admin.create_topics(new)
        return {e["topic"]: (int(e["error_code"]), str(e.get("error_message") or ""))
                for e in response.to_object()["topic_errors"]}

    async def _differences(self, specs: list[TopicSpec]
                           ) -> dict[str, dict[str, tuple[str, str | None]]]:
        if not specs:
            return {}
        actual = await topic_configs(self.admin, [s.name for s in specs])
        differing: dict[str, dict[str, tuple[str, str | None]]] = {}
        for spec in specs:
            found = actual.get(spec.name, {})
            keys = {k: (v, found.get(k)) for k, v in spec.config.items() if found.get(k) != v}
            if keys:
                differing[spec.name] = keys
        return differing


async def topic_configs(admin: Any, topics: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each topic's configuration as the broker reports it (``DescribeConfigs``)."""
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in topics])
    configs: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            if resource["error_code"] == NO_ERROR:
                configs[resource["resource_name"]] = _entries(resource["config_entries"])
    return configs


def _entries(entries: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {str(e["config_names"]): str(e["config_value"]) for e in entries
            if e.get("config_value") is not None}
