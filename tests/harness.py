"""Shared test vocabulary: tokens, example events, a probe service, awaiting conditions, topics."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import monitoring

from contracts import Envelope, Event, decode, encode
from contracts.catalogue import example_data
from contracts.enrolment import CohortClosed
from contracts.matching import MatchingRoundCompleted
from contracts.notifications import NotificationDelivered
from contracts.sessions import MentorshipCompleted
from contracts.topics import PROFILES, topic_of
from services.runtime.auth import PARTICIPANT, PROGRAMME_ADMIN, issue_dev_token
from services.runtime.clock import to_millis
from services.runtime.consumer import Handler
from services.runtime.outbox import UnitOfWork
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

E = TypeVar("E", bound=Event)
BU_RETAIL, BU_INSURANCE = "bu-retail", "bu-insurance"
"""Two business units (tenants): what one does must never be seen or changed by the other."""


class Tokens:
    """Authorization headers signed with a service's dev secret, for the roles a test needs."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def token(self, *, roles: list[str], unit: str = BU_RETAIL, subject: str = "user-1",
              participant_id: str | None = None) -> dict[str, str]:
        token = issue_dev_token(self.secret, subject=subject, business_unit=unit, roles=roles,
                                participant_id=participant_id)
        return {"Authorization": f"Bearer {token}"}

    def admin(self, unit: str = BU_RETAIL) -> dict[str, str]:
        """A programme admin of ``unit``."""
        return self.token(roles=[PROGRAMME_ADMIN], unit=unit, subject="admin-1")

    def participant(self, participant_id: str, unit: str = BU_RETAIL) -> dict[str, str]:
        """An employee of ``unit`` acting for themself."""
        return self.token(roles=[PARTICIPANT], unit=unit, subject=f"sub-{participant_id}",
                          participant_id=participant_id)


class PinnedClock:
    """A service clock a test moves by hand: ``commands.clock = PinnedClock()``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = to_millis(start or datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now = to_millis(self.now + by)
        return self.now


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


async def read_every_topic(bootstrap: str, prefix: str = "revmentor.", within: float = 60.0
                           ) -> list[ConsumerRecord[Any, Any]]:
    """Every record of every topic named ``prefix``*, from offset 0, read by a plain aiokafka
    consumer (no group) until each partition's position reaches its high watermark.

    The high watermark is the one fetch responses report: the embedded broker's ListOffsets
    ("end offsets") can lag one record behind after a batch of several records.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described
                  for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + within
        pending = set(partitions)
        while pending:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {sorted(map(str, pending))} to the end")
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
            for tp in list(pending):
                highwater = consumer.highwater(tp)
                if highwater is not None and await consumer.position(tp) >= highwater:
                    pending.discard(tp)
    finally:
        await consumer.stop()
    return records


async def seal_partitions(producer: AIOKafkaProducer, topics: Iterable[str]) -> None:
    """End every partition of ``topics`` with a batch of one record, so "latest" is exact.

    The embedded broker answers a "latest" offset request with the offset after the *first*
    record of a partition's last batch, so a consumer group starting at "latest" reads the rest
    of that batch: a previous test's facts. A one-record batch at the end of each partition
    makes that offset the true end. The record is a fact of a cohort no test uses (a tombstone
    on the compacted topic), harmless to a consumer that reads the topic from its start.
    """
    for topic in topics:
        key, value, headers = _barrier(topic)
        for partition in sorted(await producer.partitions_for(topic)):
            await producer.send_and_wait(topic, value, key=key, partition=partition,
                                         headers=headers)


def _barrier(topic: str) -> tuple[bytes, bytes | None, list[tuple[str, bytes]]]:
    if topic == PROFILES:
        return b"barrier", None, []
    [cls] = [c for c in (CohortClosed, MatchingRoundCompleted, MentorshipCompleted,
                         NotificationDelivered) if topic_of(c) == topic]
    event = cls.model_validate({**example_data(cls), "tenant_id": "bu-barrier",
                                "cohort_id": "cohort-barrier"})
    record = encode(event, source="/revmentor/tests/barrier")
    return record.key, record.value, [(k, v.encode()) for k, v in record.headers.items()]


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


async def apply_enrolment(env: Envelope, uow: UnitOfWork) -> None:
    """A ``ParticipantEnrolled`` handler that only counts (:func:`count_applications`)."""
    await count_applications(uow, env.event.participant_id, env.cohort_id)  # type: ignore[attr-defined]


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


def descendants(pid: int) -> set[int]:
    """All descendants of ``pid``, from the kernel's per-thread child lists."""
    found: set[int] = set()
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with suppress(OSError):  # a thread may end while we read
            for child in map(int, listing.read_text().split()):
                found |= {child} | descendants(child)
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True while something accepts connections on ``port``."""
    try:
        with socket.create_connection((host, port), 0.2):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def service_process(infra: Any, service: str, *, output: IO[bytes] | None = None,
                    **settings: str) -> Iterator[str]:
    """``python -m services.<service>`` as its own process on the test infra; yields its URL.

    ``settings`` become ``REVMENTOR_<SERVICE>_<NAME>`` variables; ``output``, if given, receives
    everything the process writes (its log). The process is asked to stop with SIGTERM
    (graceful shutdown) and killed if it does not within 20 seconds.
    """
    port = free_port()
    prefix = f"REVMENTOR_{service.upper()}_"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
           "MONGODB_URI": infra.mongodb_uri, f"{prefix}HTTP_HOST": "127.0.0.1",
           f"{prefix}HTTP_PORT": str(port), f"{prefix}LOG_LEVEL": "WARNING",
           **{prefix + k.upper(): v for k, v in settings.items()}}
    process = subprocess.Popen([sys.executable, "-m", f"services.{service}"], env=env,
                               stdout=output, stderr=subprocess.STDOUT if output else None)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _ready(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{service} did not become ready at {url}")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


class CommandLog(monitoring.CommandListener):
    """Records every MongoDB command sent while ``recording``: ``(database, command)`` in
    ``commands``, and the whole started event (the command document) in ``events``; or counts
    those sent to one database while ``counting``.

    One instance, :data:`COMMANDS`, is registered for the whole test process (pymongo listeners
    cannot be removed); it is idle outside ``recording``.
    """

    def __init__(self) -> None:
        self.active = False
        self.commands: list[tuple[str, str]] = []
        self.events: list[monitoring.CommandStartedEvent] = []
        self._counters: dict[str, Counter[tuple[str, str]]] = {}

    def recording(self) -> CommandLog:
        self.commands, self.events = [], []
        return self

    def __enter__(self) -> list[tuple[str, str]]:
        self.active = True
        return self.commands

    def __exit__(self, *_: object) -> None:
        self.active = False

    @contextmanager
    def counting(self, database: str) -> Iterator[Counter[tuple[str, str]]]:
        """A live count of ``(command, collection)`` sent to ``database`` within the block."""
        counted: Counter[tuple[str, str]] = Counter()
        self._counters[database] = counted
        try:
            yield counted
        finally:
            del self._counters[database]

    def sent_to(self, database: str | None = None, collection: str | None = None
                ) -> list[monitoring.CommandStartedEvent]:
        """The recorded commands for one database and/or one collection."""
        return [e for e in self.events
                if database in (None, e.database_name)
                and collection in (None, e.command.get(e.command_name))]

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.active:
            self.commands.append((event.database_name, event.command_name))
            self.events.append(event)
        if (counted := self._counters.get(event.database_name)) is not None:
            counted[event.command_name, str(event.command.get(event.command_name))] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COMMANDS = CommandLog()
monitoring.register(COMMANDS)
