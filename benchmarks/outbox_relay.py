"""Outbox relay throughput: events/s from outbox write to consumer commit, on real infrastructure.

Runs three measurements on the same broker and database, in one run:
  * baseline_broker: a plain aiokafka producer and consumer moving the same encoded records
    (the broker's ceiling, no database at all);
  * relay_only: the relay publishing N pending outbox records (outbox read, send, mark sent);
  * end_to_end: N events written to the outbox in transactions of ``--per-tx`` events, published by
    the relay and applied by a consumer (inbox rows and one bulk state write, one transaction
    per consumed batch); timed from the first outbox write to the consumer's last commit.

Picks the infrastructure tier as the tests do: external URLs, containers, else embedded.
Usage: python benchmarks/outbox_relay.py [--events N] [--per-tx K] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import UpdateOne

from contracts import Envelope, encode
from contracts.catalogue import example_data
from contracts.enrolment import ParticipantEnrolled
from services.runtime.consumer import Bulk
from services.runtime.log import configure_logging
from services.runtime.outbox import UnitOfWork
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings
from services.stack.infra import open_infra


def event(cohort: str, i: int) -> ParticipantEnrolled:
    return ParticipantEnrolled.model_validate(
        {**example_data(ParticipantEnrolled), "cohort_id": cohort, "participant_id": f"p{i}"}
    )


def settings(urls: Any, name: str) -> ServiceSettings:
    return ServiceSettings.for_service(
        name, kafka_bootstrap_servers=urls.kafka_bootstrap_servers, mongodb_uri=urls.mongodb_uri,
        mongodb_database=name.replace("-", "_"), outbox_poll_interval_s=0.05,
        consumer_batch_timeout_ms=10, log_level="WARNING",
    )


async def baseline_broker(urls: Any, n: int) -> float:
    topic = f"bench-baseline-{uuid.uuid4().hex[:8]}"
    records = [encode(event("bench", i), source="/bench") for i in range(n)]
    producer = AIOKafkaProducer(bootstrap_servers=urls.kafka_bootstrap_servers, linger_ms=5)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=urls.kafka_bootstrap_servers,
                                group_id=topic, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, r.value, key=r.key) for r in records]
        await asyncio.gather(*futures)
        seen = 0
        while seen < n:
            for batch in (await consumer.getmany(timeout_ms=200, max_records=1000)).values():
                seen += len(batch)
            await consumer.commit()
        return time.perf_counter() - started
    finally:
        await producer.stop()
        await consumer.stop()


async def write_outbox(service: Service, cohort: str, n: int, per_tx: int) -> None:
    for start in range(0, n, per_tx):
        async with service.outbox.transaction() as uow:
            for i in range(start, min(n, start + per_tx)):
                uow.publish(event(cohort, i))


async def relay_only(urls: Any, n: int, per_tx: int) -> float:
    service = Service(settings(urls, f"bench-relay-{uuid.uuid4().hex[:8]}"))
    await service.outbox.ensure_indexes(1)
    await service.broker.start()
    try:
        await write_outbox(service, "bench-relay", n, per_tx)
        started = time.perf_counter()
        await service.relay.drain()
        return time.perf_counter() - started
    finally:
        await service.stop()
        await service.broker.stop()


async def end_to_end(urls: Any, n: int, per_tx: int) -> float:
    cohort = f"bench-{uuid.uuid4().hex[:8]}"

    async def apply(envelopes: list[Envelope], uow: UnitOfWork) -> None:
        await uow.db["participants"].bulk_write(
            [
                UpdateOne({"_id": env.event.participant_id},  # type: ignore[attr-defined]
                          {"$set": {"cohort": env.cohort_id}}, upsert=True)
                for env in envelopes
            ],
            ordered=True, session=uow.session,
        )

    producer = Service(settings(urls, f"bench-producer-{cohort}"))
    consumer = Service(settings(urls, f"bench-consumer-{cohort}"))
    consumer.consume("bench", ["revmentor.enrolment.v1"], {ParticipantEnrolled: Bulk(apply)})
    await consumer.start()
    await producer.start()
    try:
        started = time.perf_counter()
        await write_outbox(producer, cohort, n, per_tx)
        # the consumer's committed state is the finish line, so poll it
        while await consumer.db["participants"].count_documents({"cohort": cohort}) < n:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        return time.perf_counter() - started
    finally:
        await producer.stop()
        await consumer.stop()


async def measure(urls: Any, n: int, per_tx: int) -> dict[str, Any]:
    base = await baseline_broker(urls, n)
    e2e = await end_to_end(urls, n, per_tx)  # first, so its consumer reads only its own events
    relay = await relay_only(urls, n, per_tx)
    return {
        "events": n,
        "per_transaction": per_tx,
        "tier": urls.tier,
        "baseline_broker_events_per_s": round(n / base, 1),
        "relay_only_events_per_s": round(n / relay, 1),
        "end_to_end_events_per_s": round(n / e2e, 1),
        "end_to_end_s": round(e2e, 3),
        "end_to_end_vs_broker_pct": round(100 * base / e2e, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--per-tx", type=int, default=100, help="events per outbox transaction")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("bench", level="WARNING")
    with open_infra() as tier:  # the tests' rule: external, containers, else embedded
        result = asyncio.run(measure(tier.infra, args.events, args.per_tx))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
