"""Shared test vocabulary: example events, a probe service, awaiting conditions, reading topics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pymongo import monitoring

from contracts import Envelope, Event, decode
from contracts.catalogue import example_data
from contracts.topics import topic_of
from services.runtime.consumer import Handler
from services.runtime.outbox import UnitOfWork
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

E = TypeVar("E", bound=Event)


def example(cls: type[E], **overrides: Any) -> E:
    """The event's documented example with ``overrides`` applied."""
    return cls.model_validate({**example_data(cls), **overrides})


async def eventually(
    condition: Callable[[], Awaitable[bool]], within: float = 15.0, what: str = "condition"
) -> None:
    """Await until ``condition()`` holds; fail with ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    count: int,
    keep: Callable[[ConsumerRecord[Any, Any]], bool] = lambda r: True,
    within: float = 20.0,
) -> list[ConsumerRecord[Any, Any]]:
    """Read ``topic`` from the start with a plain aiokafka consumer until ``count`` kept records."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
        enable_auto_commit=False, group_id=None,
    )
    await consumer.start()
    kept: list[ConsumerRecord[Any, Any]] = []
    deadline = time.monotonic() + within
    try:
        while len(kept) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                kept.extend(r for r in records if keep(r))
    finally:
        await consumer.stop()
    return kept


def of_cohort(cohort_id: str) -> Callable[[ConsumerRecord[Any, Any]], bool]:
    return lambda r: r.key == cohort_id.encode()


def decoded(records: list[ConsumerRecord[Any, Any]]) -> list[Envelope]:
    return [decode(r.value) for r in records]


def probe_settings(infra: Any, name: str, **overrides: Any) -> ServiceSettings:
    fast = {"consumer_batch_timeout_ms": 20, "outbox_poll_interval_s": 0.1,
            "kafka_session_timeout_ms": 2000, "kafka_heartbeat_interval_ms": 500}
    return ServiceSettings.for_service(
        name,
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
        mongodb_uri=infra.mongodb_uri,
        mongodb_database=name.replace("-", "_"),
        **{**fast, **overrides},
    )


def probe_service(
    infra: Any, name: str, handlers: Mapping[type[Event], Handler] | None = None, **overrides: Any
) -> Service:
    """A minimal service on the real runtime, for testing the runtime's promises."""
    service = Service(probe_settings(infra, name, **overrides))
    if handlers:
        service.consume("probe", sorted({topic_of(cls) for cls in handlers}), handlers)
    return service


async def count_applications(uow: UnitOfWork, participant_id: str, cohort_id: str) -> None:
    """A state change whose effect shows whether an event was applied once or more."""
    await uow.db["applied"].update_one(
        {"_id": f"{cohort_id}/{participant_id}"},
        {"$inc": {"times": 1}, "$set": {"cohort": cohort_id}},
        upsert=True, session=uow.session,
    )
    await uow.db["arrivals"].update_one(
        {"_id": cohort_id}, {"$push": {"order": participant_id}}, upsert=True,
        session=uow.session,
    )


async def times_applied(service: Service, cohort_id: str, participant_id: str) -> int:
    doc = await service.db["applied"].find_one({"_id": f"{cohort_id}/{participant_id}"})
    return int(doc["times"]) if doc else 0


async def committed_offset(infra: Any, group: str, partition: TopicPartition) -> int:
    """The group's committed offset, read by a client that never joins the group."""
    reader = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap_servers, group_id=group,
                              enable_auto_commit=False)
    await reader.start()
    try:
        return await reader.committed(partition) or -1
    finally:
        await reader.stop()


def metric(service: Service, name: str) -> float:
    """The sum of a service's Prometheus samples called ``name`` (all label sets)."""
    return sum(
        sample.value
        for family in service.metrics.registry.collect()
        for sample in family.samples
        if sample.name == name
    )


class CommandLog(monitoring.CommandListener):
    """Records ``(database, command)`` of every MongoDB command sent while ``recording``.

    Register it once per process (``pymongo.monitoring.register``; listeners cannot be removed);
    it is idle outside ``recording``, and sees clients created after its registration only.
    """

    def __init__(self) -> None:
        self.active = False
        self.commands: list[tuple[str, str]] = []

    def recording(self) -> CommandLog:
        self.commands = []
        return self

    def __enter__(self) -> list[tuple[str, str]]:
        self.active = True
        return self.commands

    def __exit__(self, *_: object) -> None:
        self.active = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.active:
            self.commands.append((event.database_name, event.command_name))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass
