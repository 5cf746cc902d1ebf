"""The outbox relay: publishes committed outbox records in order and marks them sent.

Only the holder of a short lease publishes, so two replicas of a service do not send the same
record twice in normal operation, and records of one cohort leave in the order they were written.
A relay that dies between publishing and marking leaves its records pending; the next lease holder
sends them again. That is a duplicate, never a loss, and the consumers' inbox absorbs it.

A record that holds personal data (a profile) is deleted from the outbox as soon as the broker
acknowledged it, rather than kept as sent until the outbox's TTL: the broker's compacted topic
is then the only copy, and its tombstone erases it.

A record the broker can never take would otherwise block every record behind it forever (issue
8: a 1.24 MB enrolment stopped a service's whole outbox); it is parked instead, kept in the
outbox with its reason for an operator to fix and replay (unset ``parked_at``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DeleteOne, UpdateOne
from pymongo.errors import DuplicateKeyError, PyMongoError

from services.runtime.clock import Clock, utc_now
from services.runtime.log import get_logger
from services.runtime.metrics import ServiceMetrics
from services.runtime.mongo import Database
from services.runtime.outbox import OUTBOX, PENDING, redaction
from services.runtime.refusals import TOPIC_MAX_LENGTH, never_accepted, refused_before_sending

LEASES = "outbox_lease"
LEASE_ID = "relay"

SendRecord = Callable[[dict[str, Any]], Awaitable["asyncio.Future[Any]"]]
"""Hands one outbox document to the producer; the returned future resolves on broker ack."""

log = get_logger(__name__)


class Lease:
    """A time-limited claim on publishing, renewed by its holder once half of it has passed.

    Renewing on every pass wrote the lease a few times a second per service, idle or not, and
    under load added a write to every hop of an event. While more than half the lifetime is
    left nobody else can take it, so the holder need not write.
    """

    def __init__(self, db: Database, owner: str, ttl_s: float, clock: Clock = utc_now) -> None:
        self.col = db[LEASES]
        self.owner = owner
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock
        self._held_until: datetime | None = None

    async def acquire(self) -> bool:
        now = self.clock()
        if self._held_until is not None and now < self._held_until - self.ttl / 2:
            return True
        try:
            await self.col.update_one(
                {"_id": LEASE_ID, "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + self.ttl}},
                upsert=True,
            )
        except DuplicateKeyError:  # held by another live relay: the upsert found no match
            self._held_until = None
            return False
        self._held_until = now + self.ttl
        return True

    async def release(self) -> None:
        self._held_until = None
        with contextlib.suppress(PyMongoError):
            await self.col.delete_one({"_id": LEASE_ID, "owner": self.owner})


class Backlog:
    """Keeps the backlog gauges current from what each pass already knows.

    Never an unbounded count (it took 85 s with 15,000 records pending on the embedded database):
    a pass that read every pending record (less than a full batch, no window) knows the backlog
    exactly, namely what it could not settle; after any other pass the relay counts, capped at
    ``cap``, at most every ``interval_s``, and meanwhile reports at least what that pass left.
    Only the lease holder reports; other replicas report 0, so the sum and the
    maximum over replicas are both the backlog.
    """

    def __init__(self, outbox: Any, metrics: ServiceMetrics, cap: int, interval_s: float) -> None:
        self.outbox = outbox
        self.metrics = metrics
        self.cap = cap
        self.interval_s = interval_s
        self._counted_at = -math.inf
        self._reported = 0

    def not_holding_the_lease(self) -> None:
        self.metrics.outbox_backlog.set(0)
        self.metrics.outbox_oldest_pending_seconds.set(0)

    def before_pass(self, docs: list[dict[str, Any]]) -> None:
        created = docs[0].get("created_at") if docs else None
        age = (datetime.now(UTC) - created).total_seconds() if isinstance(created, datetime) else 0
        self.metrics.outbox_oldest_pending_seconds.set(max(0.0, age))

    async def after_pass(self, *, fetched: int, settled: int, seen_all: bool) -> None:
        if seen_all:
            self._report(fetched - settled)
            if settled == fetched:
                self.metrics.outbox_oldest_pending_seconds.set(0)
            return
        if time.monotonic() - self._counted_at >= self.interval_s:
            self._counted_at = time.monotonic()
            self._report(await self.outbox.count_documents(PENDING, limit=self.cap))
        elif fetched > settled:
            self._report(max(self._reported, fetched - settled))

    def _report(self, backlog: int) -> None:
        self._reported = backlog
        self.metrics.outbox_backlog.set(backlog)


class ReadWindow:
    """Which positions a pass reads: the pending records up to ``after + width``.

    A database without limit push-down (the embedded one) reads every pending record to return
    the first batch, so with 10,000 pending each pass cost 0.5 s and a large import slowed its
    own publishing. Every pending record below the bound is read, so the order stays exact;
    the width adapts to hold about a batch, and an empty window is followed by one unbounded
    read (the backlog may begin beyond it, or another replica's clock runs ahead).
    """

    MIN_WIDTH_NS, MAX_WIDTH_NS = 1_000_000, 3_600 * 10**9

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.after: int | None = None
        self.width = 10**9

    def bounded(self) -> dict[str, Any] | None:
        """The filter of the next pass; ``None`` when it must read everything pending."""
        if self.after is None:
            return None
        return {**PENDING, "position": {"$lte": self.after + self.width}}

    def read(self, docs: list[dict[str, Any]], *, bounded: bool) -> None:
        """Move past what a pass read, and widen or narrow towards a batch per window."""
        positions = [p for d in docs if isinstance(p := d.get("position"), int)]
        if positions:
            self.after = max(positions + ([self.after] if self.after is not None else []))
        if bounded and len(docs) >= self.batch_size:
            self.width = max(self.MIN_WIDTH_NS, self.width // 2)
        elif bounded and len(docs) < self.batch_size // 4:
            self.width = min(self.MAX_WIDTH_NS, self.width * 2)


class OutboxRelay:
    """Moves outbox records to Kafka: one batch per pass, in write (``position``) order.

    A record the broker can never take (too large, an invalid topic, a record-level refusal) is
    PARKED: marked in its outbox document with the reason, counted in
    ``revmentor_outbox_parked_total`` and logged as an error, and the records behind it go on.
    Any other failure (broker down, timeouts, leadership changes) stops the pass at that record;
    it and everything after it are sent again, in order, on the next pass.
    """

    def __init__(
        self,
        db: Database,
        send: SendRecord,
        *,
        wake: asyncio.Event | None = None,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        lease_ttl_s: float = 10.0,
        owner: str | None = None,
        metrics: ServiceMetrics | None = None,
        backlog_cap: int = 10_000,
        backlog_interval_s: float = 5.0,
    ) -> None:
        self.outbox = db[OUTBOX]
        self.send = send
        self.wake = wake or asyncio.Event()
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.lease = Lease(db, owner or uuid.uuid4().hex, lease_ttl_s)
        self.metrics = metrics or ServiceMetrics("outbox-relay")
        self.backlog = Backlog(self.outbox, self.metrics, backlog_cap, backlog_interval_s)
        self.window = ReadWindow(batch_size)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def publish_pending(self) -> int:
        """One pass: if this relay holds the lease, publish a batch; return the records settled.

        Settled means acknowledged by the broker and marked sent, or parked.
        """
        if not await self.lease.acquire():
            self.backlog.not_holding_the_lease()
            return 0
        docs, seen_all = await self._next_batch()
        self.backlog.before_pass(docs)
        published, parked, failure = await self._send_in_order(docs)
        now = datetime.now(UTC)
        updates = [op for doc in published for op in _settle_sent(doc, now)]
        updates += [UpdateOne({"_id": doc["_id"]}, {"$set": {
            "parked_at": now, "parked_reason": reason, "parked_error": _describe(error)}})
            for doc, reason, error in parked]
        if updates:
            await self.outbox.bulk_write(updates, ordered=False)
        self.metrics.events_published.inc(len(published))
        for doc, reason, error in parked:
            self._report_parked(doc, reason, error)
        settled = len(published) + len(parked)
        await self.backlog.after_pass(fetched=len(docs), settled=settled,
                                      seen_all=seen_all and len(docs) < self.batch_size)
        if failure is not None:
            raise ConnectionError("broker did not acknowledge every record") from failure
        return settled

    async def _next_batch(self) -> tuple[list[dict[str, Any]], bool]:
        """The first pending records in position order, within the window, else any; and
        whether the read saw every pending record (an unbounded read)."""
        if (window := self.window.bounded()) is not None:
            docs = await self._pending(window)
            self.window.read(docs, bounded=True)
            if docs:
                return docs, False
        docs = await self._pending(PENDING)
        self.window.read(docs, bounded=False)
        return docs, True

    async def _pending(self, where: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.outbox.find(where).sort(
            [("position", ASCENDING), ("_id", ASCENDING)]).to_list(self.batch_size)
        return found

    async def _send_in_order(
        self, docs: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str, BaseException]],
               BaseException | None]:
        """Send ``docs``; split them into published and parked, up to the first other failure."""
        outcomes: list[tuple[dict[str, Any], Any]] = []
        for doc in docs:
            if (refusal := refused_before_sending(doc)) is not None:
                outcomes.append((doc, refusal))
                continue
            try:
                outcomes.append((doc, await self.send(doc)))
            except Exception as exc:
                outcomes.append((doc, exc))
                if never_accepted(exc) is None:
                    break  # the records behind it are not sent before it
        futures = [o for _, o in outcomes if isinstance(o, asyncio.Future)]
        acks = iter(await asyncio.gather(*futures, return_exceptions=True))
        published: list[dict[str, Any]] = []
        parked: list[tuple[dict[str, Any], str, BaseException]] = []
        for doc, outcome in outcomes:
            result = next(acks) if isinstance(outcome, asyncio.Future) else outcome
            if not isinstance(result, BaseException):
                published.append(doc)
            elif (reason := never_accepted(result)) is not None:
                parked.append((doc, reason, result))
            else:
                log.warning("outbox_publish_failed", event_id=doc.get("event_id"),
                            error=_describe(result))
                return published, parked, result
        return published, parked, None

    def _report_parked(self, doc: dict[str, Any], reason: str, error: BaseException) -> None:
        """An alert-worthy line with ids and sizes only: the value may hold personal data."""
        self.metrics.outbox_parked.labels(reason).inc()
        headers = doc.get("headers")
        event_type = headers.get("ce_type", "") if isinstance(headers, dict) else ""
        value = doc.get("value")
        log.error("outbox_record_parked", event_id=doc.get("event_id"), reason=reason,
                  topic=str(doc.get("topic"))[:TOPIC_MAX_LENGTH],
                  event_type=str(event_type)[:200],
                  value_bytes=len(value) if isinstance(value, bytes) else None,
                  error=type(error).__name__)

    async def drain(self) -> int:
        """Publish until nothing is pending (used on graceful shutdown and in tests)."""
        total = 0
        while (sent := await self.publish_pending()) > 0:
            total += sent
        return total

    async def run(self) -> None:
        """Publish forever: immediately after a local commit, else every ``poll_interval_s``."""
        backoff = self.poll_interval_s
        while not self._stopping:
            try:
                sent = await self.publish_pending()
                backoff = self.poll_interval_s
            except Exception as exc:  # the broker or database is down: keep the records, retry
                log.warning("outbox_relay_retry", error=repr(exc), backoff_s=backoff)
                sent = 0
                backoff = min(backoff * 2, 10.0)
            if sent == self.batch_size:
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), backoff)

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self, *, flush: bool = True) -> None:
        """Stop the loop; with ``flush`` publish what is left before releasing the lease."""
        self._stopping = True
        self.wake.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, timeout=self.lease.ttl.total_seconds())
            except (TimeoutError, asyncio.CancelledError):
                pass
            self._task = None
        if flush:
            with contextlib.suppress(Exception):
                await self.drain()
        await self.lease.release()


def _settle_sent(doc: dict[str, Any], now: datetime) -> list[DeleteOne | UpdateOne]:
    """A sent record is marked sent; deleted at once when it holds personal data (a profile);
    redacted at once when its enrolment was withdrawn while it was pending (``erase_on_ack``)."""
    if doc.get("personal"):
        return [DeleteOne({"_id": doc["_id"]})]
    ops: list[DeleteOne | UpdateOne] = [
        UpdateOne({"_id": doc["_id"]}, {"$set": {"sent_at": now}})]
    if doc.get("erasure_key") is not None:  # the withdrawal may have flagged it meanwhile
        ops.append(UpdateOne({"_id": doc["_id"], "erase_on_ack": True}, redaction(now)))
    return ops


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]
