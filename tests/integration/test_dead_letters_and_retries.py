"""Malformed messages are parked with their reason; transient failures are retried, not acked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from contracts import Envelope, encode
from contracts.enrolment import ParticipantEnrolled
from contracts.topics import ENROLMENT, dead_letter_topic
from services.runtime.outbox import UnitOfWork
from tests.harness import (
    apply_enrolment,
    committed_offset,
    eventually,
    example,
    metric,
    probe_service,
    read_topic,
    times_applied,
)

pytestmark = pytest.mark.integration


async def produce(bootstrap: str, *messages: tuple[bytes, bytes]) -> list[Any]:
    """Send raw records as any foreign producer could; returns their metadata."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return [await producer.send_and_wait(ENROLMENT, value, key=key) for key, value in messages]
    finally:
        await producer.stop()


async def test_malformed_messages_land_in_the_dead_letter_topic_and_the_consumer_goes_on(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    key = cohort.encode()
    good = encode(example(ParticipantEnrolled, cohort_id=cohort, participant_id="p-good"),
                  source="/tests")
    envelope = json.loads(good.value)
    failing_schema = {**envelope, "id": f"bad-{unique}", "data": {**envelope["data"], "level": "x"}}
    failing_schema["data"].pop("participant_id")
    unknown_type = {**envelope, "id": f"unknown-{unique}",
                    "type": "revmentor.enrolment.ParticipantTeleported.v1"}
    # "latest": this consumer reads what this test sends, not the whole suite's history
    consumer = probe_service(infra, f"dlq-{unique}", {ParticipantEnrolled: apply_enrolment},
                             consumer_start_from="latest")
    await consumer.start()
    try:
        await eventually(consumer.consuming, what="the consumer to be assigned")
        await produce(
            infra.kafka_bootstrap_servers,
            (key, b"this is not json"),
            (key, json.dumps(failing_schema).encode()),
            (key, json.dumps(unknown_type).encode()),
            (key, good.value),
        )
        async def good_one_applied() -> bool:
            return await times_applied(consumer, cohort, "p-good") == 1

        await eventually(good_one_applied, what="the valid event after the malformed ones")
        parked = await read_topic(
            infra.kafka_bootstrap_servers, dead_letter_topic(ENROLMENT), count=3,
            keep=lambda r: _from(r, f"dlq-{unique}.") and r.key == key,
        )
    finally:
        await consumer.stop()
    reasons = [dict(r.headers)[ "dlq-reason"].decode() for r in parked]
    assert reasons == ["not_json", "invalid_data", "unknown_type"]
    assert parked[0].value == b"this is not json"
    headers = dict(parked[1].headers)
    assert headers["dlq-original-topic"] == ENROLMENT.encode()
    assert b"participant_id" in headers["dlq-detail"]


def _from(record: Any, consumer_prefix: str) -> bool:
    consumer = dict(record.headers).get("dlq-consumer", b"").decode()
    return consumer.startswith(consumer_prefix)


async def test_handler_failing_on_every_try_is_dead_lettered_and_the_next_event_is_applied(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"

    async def refuse_poisoned(env: Envelope, uow: UnitOfWork) -> None:
        if env.event.participant_id == "poisoned":  # type: ignore[attr-defined]
            raise ValueError("a handler bug no retry can fix")
        await apply_enrolment(env, uow)

    events = [example(ParticipantEnrolled, cohort_id=cohort, participant_id=p)
              for p in ("before", "poisoned", "after")]
    # "latest": this consumer reads what this test sends, not the whole suite's history
    consumer = probe_service(infra, f"poison-{unique}", {ParticipantEnrolled: refuse_poisoned},
                             retry_initial_backoff_s=0.01, consumer_start_from="latest")
    await consumer.start()
    try:
        await eventually(consumer.consuming, what="the consumer to be assigned")
        await produce(infra.kafka_bootstrap_servers,
                      *((cohort.encode(), encode(e, source="/tests").value) for e in events))
        async def after_applied() -> bool:
            return await times_applied(consumer, cohort, "after") == 1

        await eventually(after_applied, what="the event after the poisoned one")
        parked = await read_topic(infra.kafka_bootstrap_servers, dead_letter_topic(ENROLMENT),
                                  count=1, keep=lambda r: _from(r, f"poison-{unique}.")
                                  and r.key == cohort.encode())
        ours = await consumer.db["applied"].count_documents({"cohort": cohort})
    finally:
        await consumer.stop()
    assert dict(parked[0].headers)["dlq-reason"] == b"handler_failed"
    assert ours == 2


async def test_message_is_not_acknowledged_while_the_database_is_down_and_applied_after(
    infra: Any, unique: str
):
    if not hasattr(infra, "stop_database"):
        pytest.skip("only the embedded tier can stop its database")
    cohort = f"cohort-{unique}"
    consumer = probe_service(infra, f"outage-{unique}", {ParticipantEnrolled: apply_enrolment},
                             retry_attempts=3, retry_initial_backoff_s=0.05,
                             mongodb_server_selection_timeout_ms=300,
                             consumer_start_from="latest")
    await consumer.start()
    await eventually(consumer.consuming, what="the consumer group to be assigned")
    group = consumer.consumers[0].name
    try:
        infra.stop_database()
        event = example(ParticipantEnrolled, cohort_id=cohort, participant_id="during-outage")
        [sent] = await produce(infra.kafka_bootstrap_servers,
                               (cohort.encode(), encode(event, source="/tests").value))
        ours = TopicPartition(sent.topic, sent.partition)

        async def retried_twice() -> bool:
            return metric(consumer, "revmentor_consumer_retries_total") >= 2

        await eventually(retried_twice, what="the consumer to retry against the stopped database")
        assert await committed_offset(infra, group, ours) <= sent.offset
        infra.start_database()

        async def applied() -> bool:
            return await times_applied(consumer, cohort, "during-outage") > 0

        await eventually(applied, within=30, what="the event to be applied after the outage")

        async def committed_after() -> bool:
            return await committed_offset(infra, group, ours) > sent.offset

        await eventually(committed_after, what="the offset to be committed after success")
        assert await times_applied(consumer, cohort, "during-outage") == 1
    finally:
        await consumer.stop()
