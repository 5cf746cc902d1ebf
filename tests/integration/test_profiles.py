"""The profile topic end to end: profiles and tombstones leave the outbox, reach the broker as
they are (a tombstone is a real null value) and are applied by ``Service.consume_profiles``."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts.enrolment import ParticipantEnrolled
from contracts.profiles import (
    ParticipantProfile,
    decode_profile,
    encode_profile,
    encode_tombstone,
    profile_key,
)
from contracts.topics import PROFILES, dead_letter_topic
from services.runtime.outbox import OUTBOX, UnitOfWork
from services.runtime.service import Service
from services.runtime.topic_setup import ensure_topics
from tests.harness import eventually, example, metric, probe_service, read_topic

pytestmark = pytest.mark.integration
DIRECTORY = "directory"


def profile(cohort: str, participant: str, **overrides: Any) -> ParticipantProfile:
    return example(ParticipantProfile, cohort_id=cohort, participant_id=participant, **overrides)


def of_keys(*keys: str) -> Any:
    wanted = {k.encode() for k in keys}
    return lambda r: r.key in wanted


async def test_a_withdrawal_reaches_the_broker_as_a_tombstone_a_key_with_a_null_value(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    service = probe_service(infra, f"tombstones-{unique}")
    await ensure_topics(service.settings)
    await service.broker.start()
    try:
        async with service.outbox.transaction() as uow:
            uow.publish_profile(profile(cohort, "p-1", name="Ada Tombstone"))
        async with service.outbox.transaction() as uow:
            uow.erase_profile(cohort, "p-1")
        await service.relay.drain()
        key = profile_key(cohort, "p-1")
        records = await read_topic(infra.kafka_bootstrap_servers, PROFILES, count=2,
                                   keep=of_keys(key))
        assert [r.key for r in records] == [key.encode()] * 2
        first, tombstone = records
        assert decode_profile(first.key, first.value).event.name == "Ada Tombstone"  # type: ignore[attr-defined]
        assert tombstone.value is None
        outbox = await service.db[OUTBOX].find().to_list()
        assert [(d["topic"], d["value"], d["sent_at"] is not None) for d in outbox] == [
            (PROFILES, None, True)]  # the profile's copy went with the broker's ack
    finally:
        await service.stop()


async def test_a_withdrawal_redacts_the_enrolments_sent_records_and_those_pending_on_ack(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    key, other = profile_key(cohort, "p-1"), profile_key(cohort, "p-2")
    service = probe_service(infra, f"erasure-{unique}")
    await ensure_topics(service.settings)
    await service.broker.start()
    try:
        async with service.outbox.transaction() as uow:
            uow.publish(example_enrolled(cohort, "p-1"), erasure_key=key)
            uow.publish(example_enrolled(cohort, "p-2"), erasure_key=other)
        await service.relay.drain()
        async with service.outbox.transaction() as uow:
            uow.publish(example_enrolled(cohort, "p-1"), erasure_key=key)  # still pending
        async with service.outbox.transaction() as uow:
            await uow.erase_records_of(key)

        async def outbox() -> list[tuple[str, bool, bool, bool]]:
            docs = await service.db[OUTBOX].find().sort("position", 1).to_list()
            return [(d["erasure_key"], "value" in d, "redacted_at" in d,
                     d.get("erase_on_ack", False)) for d in docs]

        assert await outbox() == [(key, False, True, False), (other, True, False, False),
                                  (key, True, False, True)]
        await service.relay.drain()
        assert await outbox() == [(key, False, True, False), (other, True, False, False),
                                  (key, False, True, True)]
    finally:
        await service.stop()


def example_enrolled(cohort: str, participant: str) -> ParticipantEnrolled:
    return example(ParticipantEnrolled, cohort_id=cohort, participant_id=participant)


async def keep_directory(profiles: list[ParticipantProfile], uow: UnitOfWork) -> None:
    for p in profiles:
        await uow.db[DIRECTORY].update_one(
            {"_id": p.key}, {"$set": {"name": p.name}, "$inc": {"writes": 1}}, upsert=True,
            session=uow.session)


async def erase_directory(keys: list[tuple[str, str]], uow: UnitOfWork) -> None:
    await uow.db[DIRECTORY].delete_many(
        {"_id": {"$in": [profile_key(c, p) for c, p in keys]}}, session=uow.session)


async def directory(service: Service, cohort: str) -> dict[str, Any]:
    docs = await service.db[DIRECTORY].find({"_id": {"$regex": f"^{cohort}/"}}).to_list()
    return {d["_id"]: (d["name"], d["writes"]) for d in docs}


async def test_consume_profiles_upserts_erases_on_tombstones_in_order_and_dead_letters_the_rest(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    service = probe_service(infra, f"profiles-{unique}", consumer_start_from="latest")
    service.consume_profiles("directory", keep_directory, erase_directory)
    await service.start()
    await eventually(service.consuming, what="the profile consumer to have its partitions")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    try:
        def send(key: str, value: bytes | None) -> Any:
            return producer.send_and_wait(PROFILES, value, key=key.encode())

        a, b, c = (profile_key(cohort, p) for p in ("p-a", "p-b", "p-c"))
        b_record = encode_profile(profile(cohort, "p-b", name="Bo"), source="/tests").value
        await send(a, encode_profile(profile(cohort, "p-a", name="Al"), source="/t").value)
        await send(b, b_record)
        await send(b, b_record)  # redelivered: the inbox absorbs it
        await send(a, encode_tombstone(cohort, "p-a").value)
        await send(c, encode_profile(profile(cohort, "p-c", name="Cy"), source="/t").value)
        await send(c, None)
        await send(c, encode_profile(profile(cohort, "p-c", name="Cy again"), source="/t").value)
        await send(f"{cohort}/p-x", b"not json")
        await send(f"{cohort}/p-y", encode_profile(profile(cohort, "p-z"), source="/t").value)
        await send(f"{cohort}-without-participant", None)

        async def settled() -> bool:
            return await directory(service, cohort) == {b: ("Bo", 1), c: ("Cy again", 1)}

        await eventually(settled, what="profiles applied and tombstones obeyed in order")
        dead = await read_topic(infra.kafka_bootstrap_servers, dead_letter_topic(PROFILES),
                                count=3, keep=lambda r: (r.key or b"").startswith(
                                    cohort.encode()))
        assert sorted((r.key.decode(), dict(r.headers)["dlq-reason"].decode()) for r in dead
                      ) == [(f"{cohort}-without-participant", "invalid_key"),
                            (f"{cohort}/p-x", "not_json"), (f"{cohort}/p-y", "invalid_key")]
        assert metric(service, "revmentor_events_duplicate_total") == 1
    finally:
        await producer.stop()
        await service.stop()
