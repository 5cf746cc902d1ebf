"""The runtime's delivery promises (docs/architecture.md), proven on the real infrastructure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import TopicPartition

from contracts.enrolment import ParticipantEnrolled
from contracts.topics import ENROLMENT
from services.runtime.kafka import record_sender
from services.runtime.outbox import Outbox
from services.runtime.relay import Lease, OutboxRelay, SendRecord
from services.runtime.service import Service
from tests.harness import (
    apply_enrolment,
    committed_offset,
    decoded,
    eventually,
    example,
    metric,
    of_cohort,
    probe_service,
    read_topic,
    times_applied,
)

pytestmark = pytest.mark.integration


def enrolled(cohort: str, participant: str) -> ParticipantEnrolled:
    return example(ParticipantEnrolled, cohort_id=cohort, participant_id=participant)


async def publish_enrolments(service: Service, cohort: str, participants: list[str]) -> None:
    """Enrol ``participants`` through the outbox, twenty to a transaction."""
    for n in range(0, len(participants), 20):
        async with service.outbox.transaction() as uow:
            for participant in participants[n:n + 20]:
                uow.publish(enrolled(cohort, participant))


def recording_sender(service: Service, sent: list[str]) -> SendRecord:
    """The service's sender, noting each record's event id in ``sent`` as it goes out."""
    send = record_sender(service.broker)

    async def recording(doc: dict[str, Any]) -> Any:
        sent.append(doc["event_id"])
        return await send(doc)

    return recording


class CrashAfterPublish(Exception):
    """Stands for the process dying between the broker's ack and marking the records sent."""


async def test_event_committed_before_a_crash_is_published_after_restart(infra: Any, unique: str):
    cohort = f"cohort-{unique}"
    crashed = probe_service(infra, f"crash-{unique}")
    async with crashed.outbox.transaction() as uow:
        await uow.db["state"].insert_one({"_id": "p1"}, session=uow.session)
        uow.publish(enrolled(cohort, "p1"))
    await crashed.client.close()  # the process dies before its relay ever ran

    restarted = probe_service(infra, f"crash-{unique}")
    await restarted.start()
    try:
        records = await read_topic(infra.kafka_bootstrap_servers, ENROLMENT, count=1,
                                   keep=of_cohort(cohort))
    finally:
        await restarted.stop()
    assert [e.event.participant_id for e in decoded(records)] == ["p1"]  # type: ignore[attr-defined]


async def test_crash_between_publish_and_mark_yields_a_duplicate_the_inbox_absorbs(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    producer = probe_service(infra, f"dup-producer-{unique}")
    # "latest": this consumer reads what this test sends, not the whole suite's history
    consumer = probe_service(
        infra, f"dup-consumer-{unique}", {ParticipantEnrolled: apply_enrolment},
        consumer_start_from="latest",
    )
    await producer.broker.start()
    await consumer.start()
    await eventually(consumer.consuming, what="the consumer group to be assigned")
    try:
        async with producer.outbox.transaction() as uow:
            uow.publish(enrolled(cohort, "p1"))

        relay = OutboxRelay(producer.db, record_sender(producer.broker))

        async def crash(*_: Any, **__: Any) -> None:
            raise CrashAfterPublish

        relay.outbox.bulk_write = crash  # type: ignore[method-assign, assignment]
        with pytest.raises(CrashAfterPublish):
            await relay.publish_pending()
        await relay.lease.release()

        await producer.relay.drain()  # the restarted relay publishes the record again
        records = await read_topic(infra.kafka_bootstrap_servers, ENROLMENT, count=2,
                                   keep=of_cohort(cohort))
        assert len(records) == 2 and records[0].value == records[1].value

        duplicate = records[1]
        group = consumer.consumers[0].name
        partition = TopicPartition(duplicate.topic, duplicate.partition)

        async def both_consumed() -> bool:
            return await committed_offset(infra, group, partition) > duplicate.offset

        await eventually(both_consumed, what="the duplicate to be consumed")
        assert await times_applied(consumer, cohort, "p1") == 1
        assert metric(consumer, "revmentor_events_duplicate_total") >= 1
    finally:
        await consumer.stop()
        await producer.stop()


async def test_two_relays_running_at_once_do_not_publish_the_same_record(infra: Any, unique: str):
    cohort = f"cohort-{unique}"
    service = probe_service(infra, f"replicas-{unique}")
    await service.broker.start()
    try:
        await publish_enrolments(service, cohort, [f"p{i}" for i in range(200)])
        sent: list[str] = []
        replicas = [
            OutboxRelay(service.db, recording_sender(service, sent), batch_size=25,
                        owner=f"replica-{i}")
            for i in range(2)
        ]
        await asyncio.gather(*(r.drain() for r in replicas))
        assert len(sent) == 200 and len(set(sent)) == 200
        records = await read_topic(infra.kafka_bootstrap_servers, ENROLMENT, count=201,
                                   keep=of_cohort(cohort), within=3)
        assert len(records) == 200
    finally:
        await service.stop()


async def test_per_key_order_is_kept_from_outbox_to_consumer(infra: Any, unique: str):
    cohort = f"cohort-{unique}"
    producer = probe_service(infra, f"order-producer-{unique}")
    consumer = probe_service(infra, f"order-consumer-{unique}",
                             {ParticipantEnrolled: apply_enrolment}, consumer_batch_size=37,
                             consumer_start_from="latest")
    await consumer.start()
    await eventually(consumer.consuming, what="the consumer group to be assigned")
    await producer.start()
    try:
        expected = [f"p{i:03d}" for i in range(300)]
        for pid in expected:
            async with producer.outbox.transaction() as uow:
                uow.publish(enrolled(cohort, pid))

        async def all_arrived() -> bool:
            doc = await consumer.db["arrivals"].find_one({"_id": cohort})
            return doc is not None and len(doc["order"]) >= len(expected)

        await eventually(all_arrived, within=30, what="300 events at the consumer")
        doc = await consumer.db["arrivals"].find_one({"_id": cohort})
        assert doc is not None and doc["order"] == expected
    finally:
        await producer.stop()
        await consumer.stop()


async def test_graceful_stop_flushes_the_outbox_before_disconnecting(infra: Any, unique: str):
    cohort = f"cohort-{unique}"
    service = probe_service(infra, f"flush-{unique}", outbox_poll_interval_s=60)
    await service.start()

    async def first_pass_done() -> bool:
        lease = await service.db["outbox_lease"].find_one({"_id": "relay"})
        return lease is not None and lease["owner"] == service.relay.lease.owner

    await eventually(first_pass_done, what="the relay's first pass")
    unannounced = Outbox(service.client, service.db, source="/tests")  # commits without waking
    async with unannounced.transaction() as uow:
        uow.publish(enrolled(cohort, "p-last"))
    await service.stop()
    records = await read_topic(infra.kafka_bootstrap_servers, ENROLMENT, count=1,
                               keep=of_cohort(cohort))
    assert [e.event.participant_id for e in decoded(records)] == ["p-last"]  # type: ignore[attr-defined]


async def test_records_beyond_the_read_window_or_behind_it_are_published_in_position_order(
        infra: Any, unique: str):
    """The relay reads a window of positions (the embedded database has no limit push-down);
    a backlog that begins far beyond it, and a record committed behind what was already sent
    (another replica's slower clock), are still published, in position order."""
    cohort = f"cohort-{unique}"
    service = probe_service(infra, f"window-{unique}")
    await service.broker.start()
    try:
        await publish_enrolments(service, cohort, [f"p{i:02d}" for i in range(60)])
        in_order = await service.db["outbox"].find().sort("position").to_list()
        for doc in in_order[40:]:  # the last 20 two hours of positions later
            await service.db["outbox"].update_one(
                {"_id": doc["_id"]}, {"$inc": {"position": 7_200 * 10**9}})
        sent: list[str] = []
        relay = OutboxRelay(service.db, recording_sender(service, sent), batch_size=25)
        await relay.drain()
        async with service.outbox.transaction() as uow:
            uow.publish(enrolled(cohort, "p-behind"))
        await service.db["outbox"].update_one({"sent_at": None}, {"$set": {"position": 1}})
        await relay.drain()
        records = await read_topic(infra.kafka_bootstrap_servers, ENROLMENT, count=61,
                                   keep=of_cohort(cohort))
        assert [e.event.participant_id for e in decoded(records)] == [  # type: ignore[attr-defined]
            *(f"p{i:02d}" for i in range(60)), "p-behind"]
        assert len(sent) == 61
    finally:
        await service.stop()


async def test_the_lease_is_written_once_per_half_its_life_and_others_wait_for_its_end(
        infra: Any, unique: str):
    """Its holder need not renew while more than half of it is left: nobody can take it then."""
    service = probe_service(infra, f"lease-{unique}")
    now = [datetime(2026, 12, 4, 9, 0, tzinfo=UTC)]
    a, b = (Lease(service.db, owner, 10.0, clock=lambda: now[0]) for owner in ("a", "b"))

    async def expires_at() -> datetime:
        doc = await service.db["outbox_lease"].find_one({"_id": "relay"})
        assert doc is not None
        return doc["expires_at"].replace(tzinfo=UTC)

    def later(seconds: float) -> datetime:
        now[0] += timedelta(seconds=seconds)
        return now[0]

    try:
        assert await a.acquire()
        first = await expires_at()
        later(4)
        assert await a.acquire()
        assert await expires_at() == first  # not written again
        renewed = later(2) + timedelta(seconds=10)
        assert (await a.acquire(), await b.acquire()) == (True, False)
        assert await expires_at() == renewed
        later(11)
        assert (await b.acquire(), await a.acquire()) == (True, False)
    finally:
        await service.client.close()
