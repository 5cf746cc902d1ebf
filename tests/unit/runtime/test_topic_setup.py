"""How the topic step treats a broker that will not take a topic as declared.

The embedded broker accepts every configuration, so a refusal is played by a stand-in admin
client that answers CreateTopics the way Apache Kafka does (error code per topic).
"""

from __future__ import annotations

from typing import Any

from structlog.testing import capture_logs

from contracts.topics import PROFILES, SPEC_OF, TopicSpec
from services.runtime.topic_setup import TopicCreator

PROFILE_SPEC = SPEC_OF[PROFILES]
STREAM = TopicSpec("revmentor.enrolment.v1", 6, {"retention.ms": "-1"})


class _Response:
    def __init__(self, errors: list[dict[str, Any]], key: str) -> None:
        self._object = {key: errors}

    def to_object(self) -> dict[str, Any]:
        return self._object


class RefusingAdmin:
    """A broker that answers ``code`` to any creation carrying a config of ``refused``."""

    def __init__(self, refused: set[str], code: int = 40, existing: tuple[str, ...] = ()) -> None:
        self.refused, self.code, self.existing = refused, code, list(existing)
        self.created: list[tuple[str, int, int, dict[str, str]]] = []

    async def list_topics(self) -> list[str]:
        return list(self.existing)

    async def describe_cluster(self) -> dict[str, Any]:
        return {"brokers": [{"node_id": 1}]}

    async def create_topics(self, new_topics: list[Any]) -> _Response:
        errors = []
        for topic in new_topics:
            if self.refused & set(topic.topic_configs):
                errors.append({"topic": topic.name, "error_code": self.code,
                               "error_message": f"Unknown topic config {sorted(self.refused)}"})
            else:
                self.created.append((topic.name, topic.num_partitions,
                                     topic.replication_factor, dict(topic.topic_configs)))
                errors.append({"topic": topic.name, "error_code": 0, "error_message": None})
        return _Response(errors, "topic_errors")

    async def describe_configs(self, resources: list[Any]) -> list[_Response]:
        return [_Response([], "resources")]


async def test_a_refused_config_still_creates_the_topic_and_logs_what_was_not_applied():
    admin = RefusingAdmin(refused={"max.compaction.lag.ms"})
    with capture_logs() as logs:
        setup = await TopicCreator(admin).run([PROFILE_SPEC, STREAM])
    assert admin.created == [(STREAM.name, 6, 1, {"retention.ms": "-1"}),
                             (PROFILES, PROFILE_SPEC.partitions, 1, {})]
    assert (setup.created, list(setup.created_without_config)) == ([STREAM.name], [PROFILES])
    [refusal] = [line for line in logs if line["event"] == "topic_config_refused"]
    assert (refusal["log_level"], refusal["topic"], refusal["error_code"]) == (
        "error", PROFILES, 40)  # an uncompacted profile topic breaks the erasure bound
    assert refusal["config_not_applied"] == dict(PROFILE_SPEC.config)


async def test_a_broker_that_does_not_let_the_service_create_topics_is_logged_and_passed_by():
    admin = RefusingAdmin(refused={"cleanup.policy", "retention.ms"}, code=29)
    with capture_logs() as logs:
        setup = await TopicCreator(admin).run([PROFILE_SPEC, STREAM])
    assert admin.created == [] and sorted(setup.not_created) == sorted([PROFILES, STREAM.name])
    warnings = [line for line in logs if line["event"] == "topic_not_created"]
    assert {(w["topic"], w["managed_elsewhere"]) for w in warnings} == {
        (PROFILES, True), (STREAM.name, True)}


async def test_topics_get_three_replicas_on_a_large_cluster_one_on_a_single_broker():
    large = RefusingAdmin(refused=set())

    async def five_brokers() -> dict[str, Any]:
        return {"brokers": [{"node_id": n} for n in range(5)]}

    large.describe_cluster = five_brokers  # type: ignore[method-assign]
    single, configured = RefusingAdmin(refused=set()), RefusingAdmin(refused=set())
    await TopicCreator(large).run([STREAM])
    await TopicCreator(single).run([STREAM])
    await TopicCreator(configured, replication_factor=2).run([STREAM])
    assert [a.created[0][2] for a in (large, single, configured)] == [3, 1, 2]


async def test_an_existing_topic_is_neither_created_nor_altered():
    admin = RefusingAdmin(refused=set(), existing=(PROFILES,))
    setup = await TopicCreator(admin).run([PROFILE_SPEC])
    assert admin.created == [] and setup.existing == [PROFILES]
    assert setup.differing == {PROFILES: {k: (v, None) for k, v in PROFILE_SPEC.config.items()}}
