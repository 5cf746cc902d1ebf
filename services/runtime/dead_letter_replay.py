"""Dead-letter replay: put parked records back on their topic once the cause is fixed.

A dead letter (:mod:`services.runtime.dead_letters`) keeps the original key, value and headers,
plus ``dlq-*`` headers saying why it was parked, where it came from and which consumer gave up.
Replay republishes key, value and the original headers (the ``dlq-*`` ones removed) to the topic
whose ``.dlq`` it was read from, so every consumer of that topic sees the event again. Each
consumer's inbox skips an event it applied before, so replaying a record twice, or replaying one
that other consumers did apply, changes state once at most.

Progress is the committed offset of the replay's own consumer group on ``<topic>.dlq``: a record
a run has reviewed (replayed, filtered out or unreplayable) is not read again by the next run of
that group unless it asks to start from the beginning. Partitions are assigned, not subscribed,
so a run does not wait for a group rebalance; run one replay of a group at a time.

What is never replayed: the profile topic (a profile republished after its enrolment's tombstone
would bring erased personal data back), and a dead letter whose value was dropped for size (its
``dlq-original-*`` coordinates are reported so an operator can read the original).
A replayed event lands after events that were published since it was parked, so its cohort's
order differs from the original one; handlers already tolerate stale and repeated facts.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts.topics import EVENT_STREAMS, PROFILES, dead_letter_topic

DEFAULT_GROUP = "revmentor.dlq-replay"
DLQ_HEADER_PREFIX = "dlq-"


@dataclass(frozen=True)
class ReplayRequest:
    """Which dead letters to move back, and how far to go."""

    topics: tuple[str, ...] = EVENT_STREAMS
    """Event streams whose ``.dlq`` is read; a replayed record goes back to the same one."""
    consumer: str | None = None
    """Only dead letters this consumer (``dlq-consumer``, e.g. ``matching.enrolment-facts``)
    gave up on."""
    reasons: frozenset[str] = frozenset()
    """Only these ``dlq-reason`` values (e.g. ``handler_failed``); empty: any reason."""
    limit: int | None = None
    """Replay at most this many; the rest stays for the next run."""
    dry_run: bool = False
    """Read and count, publish nothing, commit nothing."""
    group: str = DEFAULT_GROUP
    from_beginning: bool = False
    """Review every retained dead letter, not only those after the group's committed offset."""

    def __post_init__(self) -> None:
        refused = [t for t in self.topics if t not in EVENT_STREAMS]
        if PROFILES in refused:
            raise ValueError(f"{PROFILES} is never replayed: a profile republished after its "
                             "tombstone would bring erased personal data back")
        if refused:
            raise ValueError(f"not an event stream: {', '.join(refused)}; "
                             f"replayable topics are {', '.join(EVENT_STREAMS)}")
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit must be at least 1")


@dataclass
class ReplayReport:
    """What one run did; in a dry run ``replayed`` counts what would have been replayed."""

    dry_run: bool
    read: int = 0
    replayed: int = 0
    filtered_out: int = 0
    duplicates: int = 0
    """Dead letters of an original record another consumer's dead letter already replayed."""
    unreplayable: list[str] = field(default_factory=list)
    """``topic/partition@offset`` of originals whose value the dead letter does not hold."""
    complete: bool = True
    """False when the run stopped at ``within_s`` before reaching the end of a partition."""
    by_cause: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """Replayed dead letters per (topic, consumer, reason)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run, "read": self.read, "replayed": self.replayed,
            "filtered_out": self.filtered_out, "duplicates": self.duplicates,
            "unreplayable": self.unreplayable, "complete": self.complete,
            "by_cause": [{"topic": t, "consumer": c, "reason": r, "count": n}
                         for (t, c, r), n in sorted(self.by_cause.items())],
        }


async def replay_dead_letters(bootstrap_servers: str, request: ReplayRequest, *,
                              within_s: float = 60.0) -> ReplayReport:
    """Replay the dead letters ``request`` selects, up to the end each partition had when the
    run first saw it; offsets are committed after the broker acknowledged the republished
    records, so a crash replays a record again (harmless) rather than losing it."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=request.group,
        client_id="revmentor-dlq-replay", enable_auto_commit=False,
        auto_offset_reset="earliest")
    producer = None if request.dry_run else AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, client_id="revmentor-dlq-replay", acks="all")
    try:
        await consumer.start()
        if producer is not None:
            await producer.start()
        return await _Run(consumer, producer, request).go(within_s)
    finally:
        if producer is not None:
            await producer.stop()
        await consumer.stop()


class _Run:
    def __init__(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer | None,
                 request: ReplayRequest) -> None:
        self.consumer, self.producer, self.request = consumer, producer, request
        self.report = ReplayReport(dry_run=request.dry_run)
        self.origins: dict[str, str] = {dead_letter_topic(t): t for t in request.topics}
        self.replayed_originals: set[tuple[str, str, str]] = set()

    async def go(self, within_s: float) -> ReplayReport:
        partitions = await self._partitions()
        if not partitions:
            return self.report
        self.consumer.assign(partitions)
        if self.request.from_beginning:
            await self.consumer.seek_to_beginning(*partitions)
        next_offset = {tp: await self.consumer.position(tp) for tp in partitions}
        ends: dict[TopicPartition, int] = {}
        pending = set(partitions)
        deadline = time.monotonic() + within_s
        while pending and not self._limit_reached():
            if time.monotonic() > deadline:
                self.report.complete = False
                break
            batches = await self.consumer.getmany(*pending, timeout_ms=200)
            for tp in pending:
                highwater = self.consumer.highwater(tp)
                if tp not in ends and highwater is not None:
                    ends[tp] = highwater
            acks: list[asyncio.Future[Any]] = []
            for tp, records in batches.items():
                end = ends.get(tp)
                if end is None:  # no high watermark yet: read these again next round
                    self.consumer.seek(tp, next_offset[tp])
                    continue
                for record in records:
                    if record.offset >= end or self._limit_reached():
                        break
                    acks.extend(await self._review(record))
                    next_offset[tp] = record.offset + 1
            await self._commit(acks, next_offset)
            pending = {tp for tp in pending if tp not in ends or next_offset[tp] < ends[tp]}
        return self.report

    async def _partitions(self) -> list[TopicPartition]:
        await self.consumer.topics()  # loads the metadata partitions_for_topic answers from
        return [TopicPartition(dlq, p) for dlq in self.origins
                for p in sorted(self.consumer.partitions_for_topic(dlq) or ())]

    def _limit_reached(self) -> bool:
        limit = self.request.limit
        return limit is not None and self.report.replayed >= limit

    async def _review(self, record: Any) -> list[asyncio.Future[Any]]:
        self.report.read += 1
        headers = _headers(record.headers)
        consumer, reason = headers.get("dlq-consumer", ""), headers.get("dlq-reason", "")
        wanted = self.request
        if (wanted.consumer is not None and consumer != wanted.consumer) or (
                wanted.reasons and reason not in wanted.reasons):
            self.report.filtered_out += 1
            return []
        topic = self.origins[record.topic]
        original = (topic, headers.get("dlq-original-partition", "?"),
                    headers.get("dlq-original-offset", "?"))
        if "dlq-value-dropped" in headers or not record.value:
            self.report.unreplayable.append(f"{original[0]}/{original[1]}@{original[2]}")
            return []
        if original in self.replayed_originals:
            self.report.duplicates += 1
            return []
        self.replayed_originals.add(original)
        self.report.replayed += 1
        self.report.by_cause[(topic, consumer, reason)] += 1
        if self.producer is None:
            return []
        kept = [(k, v) for k, v in record.headers or () if not k.startswith(DLQ_HEADER_PREFIX)]
        ack = await self.producer.send(topic, record.value, key=record.key, headers=kept)
        return [ack]

    async def _commit(self, acks: Iterable[asyncio.Future[Any]],
                      next_offset: dict[TopicPartition, int]) -> None:
        await asyncio.gather(*acks)
        if not self.request.dry_run:
            await self.consumer.commit(dict(next_offset))


def _headers(raw: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    return {k: (v or b"").decode(errors="replace") for k, v in raw or ()}
