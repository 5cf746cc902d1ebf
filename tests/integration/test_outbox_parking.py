"""An outbox record the broker can never take is parked; every record behind it goes on (issue 8).

The relay used to retry a 1.24 MB record every 10 s forever while every later record of the
service stayed pending. An outage of the broker, on the other hand, must park nothing.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import errors
from structlog.testing import capture_logs

from contracts import Record, encode
from contracts.enrolment import ParticipantEnrolled
from services.runtime.outbox import OUTBOX, outbox_document
from services.runtime.service import Service
from tests.harness import apply_enrolment, eventually, example, metric, probe_service

pytestmark = pytest.mark.integration


def enrolled(cohort: str, participant: str, **overrides: Any) -> Record:
    event = example(ParticipantEnrolled, cohort_id=cohort, participant_id=participant, **overrides)
    return encode(event, source="/tests")


def oversized(cohort: str) -> Record:
    """What issue 8 observed: 30 manager_chain items of 40,000 characters, 1.24 MB on the wire."""
    record = enrolled(cohort, "p-oversized")
    body = json.loads(record.value)
    body["data"]["manager_chain"] = ["m" * 40_000] * 30
    return dataclasses.replace(record, value=json.dumps(body).encode())


async def consumer_from_now(infra: Any, name: str) -> Service:
    """A started consumer that reads only what is published after this returns."""
    consumer = probe_service(infra, name, {ParticipantEnrolled: apply_enrolment},
                             consumer_start_from="latest")
    await consumer.start()
    await eventually(consumer.consuming, what="the consumer to have its partitions")
    return consumer


async def write_outbox(service: Service, *records: Record) -> None:
    now = datetime.now(UTC)
    await service.db[OUTBOX].insert_many([outbox_document(r, now) for r in records])


async def arrivals(service: Service, cohort: str) -> list[str]:
    doc = await service.db["arrivals"].find_one({"_id": cohort})
    return list(doc["order"]) if doc else []


async def outbox_doc(service: Service, event_id: str) -> dict[str, Any]:
    doc = await service.db[OUTBOX].find_one({"event_id": event_id})
    assert doc is not None
    return doc


async def test_records_the_broker_can_never_take_are_parked_and_later_records_are_published(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    too_large = oversized(cohort)
    bad_topic = dataclasses.replace(enrolled(cohort, "p-bad-topic"), topic="revmentor enrolment!")
    producer = probe_service(infra, f"park-{unique}")
    await write_outbox(producer, enrolled(cohort, "p-before"), too_large, bad_topic,
                       enrolled(cohort, "p-after"))
    consumer = await consumer_from_now(infra, f"park-consumer-{unique}")
    with capture_logs() as logs:
        await producer.start()
        try:
            async def both_valid_ones_applied_in_order() -> bool:
                return await arrivals(consumer, cohort) == ["p-before", "p-after"]

            await eventually(both_valid_ones_applied_in_order, within=20,
                             what="the records behind the parked ones")
            parked = [await outbox_doc(producer, r.event_id) for r in (too_large, bad_topic)]
        finally:
            await producer.stop()
            await consumer.stop()
    assert [(d["parked_reason"], d["sent_at"]) for d in parked] == [
        ("too_large", None), ("invalid_topic", None)]
    assert metric(producer, "revmentor_outbox_parked_total") == 2
    alerts = [line for line in logs if line["event"] == "outbox_record_parked"]
    assert [(a["log_level"], a["event_id"], a["reason"]) for a in alerts] == [
        ("error", too_large.event_id, "too_large"), ("error", bad_topic.event_id, "invalid_topic")]
    assert alerts[0]["value_bytes"] == len(too_large.value)
    assert "Lea" not in json.dumps(alerts, default=str)


async def test_a_broker_outage_parks_nothing_and_every_record_is_published_in_order_after(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    producer = probe_service(infra, f"outage-relay-{unique}", outbox_batch_size=2)
    real_send = producer.relay.send
    outage = {"down": True, "refused": 0}

    async def send_while_the_broker_is_down(doc: dict[str, Any]) -> Any:
        if outage["down"]:
            outage["refused"] += 1
            raise (errors.KafkaConnectionError if outage["refused"] % 2
                   else errors.KafkaTimeoutError)()
        return await real_send(doc)

    producer.relay.send = send_while_the_broker_is_down
    records = [enrolled(cohort, f"p-{i}") for i in range(3)]
    await write_outbox(producer, *records)
    consumer = await consumer_from_now(infra, f"outage-consumer-{unique}")
    await producer.start()
    try:
        async def refused_a_few_times() -> bool:
            return outage["refused"] >= 3

        await eventually(refused_a_few_times, what="the relay to retry during the outage")
        still_pending = await producer.db[OUTBOX].count_documents(
            {"sent_at": None, "parked_at": None})
        backlog_during = metric(producer, "revmentor_outbox_backlog")
        oldest_during = metric(producer, "revmentor_outbox_oldest_pending_seconds")
        outage["down"] = False

        async def all_applied_in_order() -> bool:
            return await arrivals(consumer, cohort) == ["p-0", "p-1", "p-2"]

        await eventually(all_applied_in_order, within=30, what="the records after the outage")

        async def backlog_gauges_back_to_zero() -> bool:
            return (metric(producer, "revmentor_outbox_backlog"),
                    metric(producer, "revmentor_outbox_oldest_pending_seconds")) == (0, 0)

        await eventually(backlog_gauges_back_to_zero, what="the relay to report an empty outbox")
        parked = await producer.db[OUTBOX].count_documents({"parked_at": {"$ne": None}})
    finally:
        await producer.stop()
        await consumer.stop()
    assert still_pending == 3
    assert backlog_during == 3  # a full batch of 2 was fetched, so the relay counted (capped)
    assert oldest_during > 0
    assert parked == 0
    assert metric(producer, "revmentor_outbox_parked_total") == 0
