"""The reliable event consumer every service uses.

Per consumed batch: decode each record (a malformed one is dead-lettered), skip what the inbox has
seen, apply the rest with the service's handlers in ONE transaction together with their inbox rows
and outgoing events, then let FastStream commit the offsets.

Ack policy: ``AckPolicy.NACK_ON_ERROR`` with auto-commit off. FastStream commits only when the
handler returns; if it raises, it seeks each partition back to the batch's first record, so the
batch is redelivered. ``AckPolicy.ACK`` would commit even when the handler raised, losing the
batch. Transient failures (database or broker unreachable) are first retried here with
exponential backoff, then the batch is nacked; they are never acknowledged before success. A
handler that keeps failing for another reason is isolated to its single event, which is
dead-lettered after a few tries so it cannot block its partition forever.

Kafka header values are bytes, any bytes: FastStream's own parser decodes each one as UTF-8
before the handler runs, and a record with a binary header (a tracing system's, a foreign
producer's) would fail there, outside the handler, and be skipped with its whole batch without
a dead letter. This consumer's parser decodes header values leniently instead. Headers are not
part of the contract (a structured-mode CloudEvent is its body), so such a record is processed
when its body is a valid event and dead-lettered for its body's reason otherwise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from contracts import ContractError, Envelope, Event, decode
from services.runtime.dead_letters import DeadLetters
from services.runtime.inbox import Inbox
from services.runtime.log import bound, get_logger
from services.runtime.metrics import ConsumerProgress, ServiceMetrics
from services.runtime.mongo import is_transient
from services.runtime.outbox import Outbox, UnitOfWork

Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]
log = get_logger(__name__)


@dataclass(frozen=True)
class Bulk:
    """Marks a handler that applies a run of consecutive events of one type in one call.

    The embedded database answers each statement in about a millisecond; a handler that turns a
    batch of 500 events into one ``bulk_write`` instead of 500 updates is several times faster.
    """

    apply: Callable[[list[Envelope], UnitOfWork], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    initial_backoff_s: float = 0.05
    max_backoff_s: float = 2.0
    handler_failures_before_dead_letter: int = 3

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so replicas do not retry in lockstep."""
        ceiling = min(self.max_backoff_s, self.initial_backoff_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass
class Item:
    """A consumed record the consumer will apply: an event, or (``envelope`` None) a tombstone."""

    record: Any
    envelope: Envelope | None

    @property
    def ident(self) -> str:
        """The event id, or where a tombstone was read."""
        if self.envelope is not None:
            return self.envelope.id
        return f"{self.record.topic}/{self.record.partition}@{self.record.offset}"

    @property
    def kind(self) -> str:
        return self.envelope.type if self.envelope is not None else "tombstone"


class EventConsumer:
    """Applies events of ``topics`` to a service's state, exactly once in effect."""

    def __init__(
        self,
        name: str,
        topics: list[str],
        handlers: Mapping[type[Event], Handler | Bulk],
        *,
        outbox: Outbox,
        publish: Callable[..., Awaitable[Any]],
        metrics: ServiceMetrics,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.name = name
        self.topics = topics
        self.handlers = dict(handlers)
        self.outbox = outbox
        self.inbox = Inbox(outbox.db, name)
        self.dead_letters = DeadLetters(publish, name)
        self.metrics = metrics
        self.progress: ConsumerProgress = metrics.consumers.of(name)
        self.retry = retry or RetryPolicy()

    def subscribe(
        self, broker: KafkaBroker, *, batch_size: int, batch_timeout_ms: int,
        session_timeout_ms: int = 10_000, heartbeat_interval_ms: int = 3000,
        start_from: Literal["earliest", "latest"] = "earliest",
    ) -> None:
        """Register the batch subscriber on ``broker`` (consumer group = consumer name)."""
        broker.subscriber(
            *self.topics,
            group_id=self.name,
            batch=True,
            max_records=batch_size,
            batch_timeout_ms=batch_timeout_ms,
            auto_offset_reset=start_from,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            parser=self._parse,
            decoder=_raw_body,
        )(self.on_batch)

    async def _parse(self, records: Any, faststream_parser: Callable[..., Awaitable[Any]]) -> Any:
        """FastStream's batch parser over copies whose header values are valid UTF-8.

        The message keeps the original records, so dead letters carry what was consumed.
        """
        batch = tuple(records) if isinstance(records, tuple | list) else (records,)
        message = await faststream_parser(tuple(_with_text_headers(r) for r in batch))
        message.raw_message = records
        self.progress.received(batch, message.consumer)
        return message

    async def on_batch(self, body: Any, message: KafkaMessage) -> None:
        raw = message.raw_message
        records = list(raw) if isinstance(raw, tuple) else [raw]
        await self.process(records)
        self.progress.applied(records)

    async def process(self, records: list[Any]) -> None:
        """Apply one batch of records; raise (so it is nacked) only on a transient failure."""
        started = time.perf_counter()
        items: list[Item] = []
        parked: list[tuple[Any, str, str]] = []
        for record in records:
            try:
                item = self.item(record)
            except ContractError as exc:
                parked.append((record, exc.reason, exc.detail))
                continue
            if item is not None:
                items.append(item)
        if items:
            await self._apply_with_retry(items, parked)
        for record, reason, detail in parked:
            log.warning("dead_lettered", consumer=self.name, reason=reason, offset=record.offset,
                        topic=record.topic)
            await self.dead_letters.park(record, reason, detail)
            self.metrics.dead_letters.labels(self.name, reason).inc()
        self.metrics.handler_seconds.labels(self.name).observe(time.perf_counter() - started)

    def item(self, record: Any) -> Item | None:
        """The record as an event to apply, ``None`` if no handler wants it; ``ContractError``
        if it is malformed."""
        envelope = decode(record.value)
        return Item(record, envelope) if type(envelope.event) in self.handlers else None

    async def _apply_with_retry(
        self, items: list[Item], parked: list[tuple[Any, str, str]]
    ) -> None:
        transient_attempts = failures = 0
        while True:
            try:
                await self._apply(items)
                return
            except Exception as exc:
                if is_transient(exc):
                    transient_attempts += 1
                    self.metrics.retries.labels(self.name).inc()
                    if transient_attempts >= self.retry.attempts:
                        raise
                    log.warning("transient_failure_retrying", consumer=self.name,
                                attempt=transient_attempts, error=repr(exc))
                    await asyncio.sleep(self.retry.backoff(transient_attempts))
                    continue
                if len(items) > 1:
                    for item in items:
                        await self._apply_with_retry([item], parked)
                    return
                failures += 1
                log.error("handler_failed", consumer=self.name, event_id=items[0].ident,
                          attempt=failures, error=repr(exc))
                if failures >= self.retry.handler_failures_before_dead_letter:
                    parked.append((items[0].record, "handler_failed", repr(exc)))
                    return
                await asyncio.sleep(self.retry.backoff(failures))

    async def _apply(self, items: list[Item]) -> None:
        """The batch in ONE transaction with its inbox rows; what the inbox has seen is dropped.

        Tombstones have no event id and need no inbox row: erasing twice erases nothing more.
        """
        async with self.outbox.transaction() as uow:
            ids = [i.envelope.id for i in items if i.envelope is not None]
            seen = await self.inbox.seen(ids, uow.session) if ids else set()
            fresh: list[Item] = []
            fresh_ids: list[str] = []
            for item in items:
                if item.envelope is not None:
                    if item.envelope.id in seen:
                        continue
                    seen.add(item.envelope.id)
                    fresh_ids.append(item.envelope.id)
                fresh.append(item)
            await self.dispatch(fresh, uow)
            await self.inbox.record(fresh_ids, uow.session)
        for item in fresh:
            self.metrics.events_consumed.labels(self.name, item.kind).inc()
        if duplicates := len(items) - len(fresh):
            self.metrics.events_duplicate.labels(self.name).inc(duplicates)

    async def dispatch(self, items: list[Item], uow: UnitOfWork) -> None:
        """Hand the fresh items to the handlers, in consumed order, a run of one type at once."""
        envelopes = [i.envelope for i in items if i.envelope is not None]
        for run in _runs_of_one_type(envelopes):
            await self._dispatch(run, uow)

    async def _dispatch(self, run: list[Envelope], uow: UnitOfWork) -> None:
        handler = self.handlers[type(run[0].event)]
        if isinstance(handler, Bulk):
            uow.cause = run[-1]
            with bound(cohort_id=run[0].cohort_id, event_id=run[0].id):
                await handler.apply(run, uow)
            return
        for env in run:
            uow.cause = env
            with bound(tenant_id=env.tenant_id, cohort_id=env.cohort_id, event_id=env.id,
                       correlation_id=env.correlation_id or env.id):
                await handler(env, uow)


def _runs_of_one_type(envelopes: list[Envelope]) -> list[list[Envelope]]:
    """Split into consecutive runs of one event type, keeping the order across types."""
    runs: list[list[Envelope]] = []
    for env in envelopes:
        if runs and type(runs[-1][-1].event) is type(env.event):
            runs[-1].append(env)
        else:
            runs.append([env])
    return runs


def _with_text_headers(record: Any) -> Any:
    headers = tuple((key, (value or b"").decode(errors="replace").encode())
                    for key, value in record.headers or ())
    return dataclasses.replace(record, headers=headers)


async def _raw_body(message: Any) -> Any:
    """Leave decoding to :func:`contracts.decode`, which turns malformed input into dead letters."""
    return None
