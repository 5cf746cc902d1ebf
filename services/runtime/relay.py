"""The outbox relay: publishes committed outbox records in order and marks them sent.

Only the holder of a short lease publishes, so two replicas of a service do not send the same
record twice in normal operation, and records of one cohort leave in the order they were written.
A relay that dies between publishing and marking leaves its records pending; the next lease holder
sends them again. That is a duplicate, never a loss, and the consumers' inbox absorbs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError, PyMongoError

from services.runtime.log import get_logger
from services.runtime.mongo import Database
from services.runtime.outbox import OUTBOX

LEASES = "outbox_lease"
LEASE_ID = "relay"

SendRecord = Callable[[dict[str, Any]], Awaitable["asyncio.Future[Any]"]]
"""Hands one outbox document to the producer; the returned future resolves on broker ack."""

log = get_logger(__name__)


class Lease:
    """A time-limited claim on publishing, renewed by its holder on every pass."""

    def __init__(self, db: Database, owner: str, ttl_s: float) -> None:
        self.col = db[LEASES]
        self.owner = owner
        self.ttl = timedelta(seconds=ttl_s)

    async def acquire(self) -> bool:
        now = datetime.now(UTC)
        try:
            await self.col.update_one(
                {"_id": LEASE_ID, "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + self.ttl}},
                upsert=True,
            )
        except DuplicateKeyError:  # held by another live relay: the upsert found no match
            return False
        return True

    async def release(self) -> None:
        with contextlib.suppress(PyMongoError):
            await self.col.delete_one({"_id": LEASE_ID, "owner": self.owner})


class OutboxRelay:
    """Moves outbox records to Kafka: one batch per pass, in write (``position``) order."""

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
        on_published: Callable[[int], None] | None = None,
    ) -> None:
        self.outbox = db[OUTBOX]
        self.send = send
        self.wake = wake or asyncio.Event()
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.lease = Lease(db, owner or uuid.uuid4().hex, lease_ttl_s)
        self.on_published = on_published
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def publish_pending(self) -> int:
        """One pass: if this relay holds the lease, publish a batch and mark what was acked."""
        if not await self.lease.acquire():
            return 0
        docs = await self.outbox.find({"sent_at": None}).sort(
            [("position", ASCENDING), ("_id", ASCENDING)]
        ).to_list(self.batch_size)
        if not docs:
            return 0
        futures = [await self.send(doc) for doc in docs]
        results = await asyncio.gather(*futures, return_exceptions=True)
        acked = []
        for doc, result in zip(docs, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("outbox_publish_failed", event_id=doc["event_id"], error=str(result))
                break
            acked.append(doc["_id"])
        if acked:
            sent_at = datetime.now(UTC)
            await self.outbox.bulk_write(
                [UpdateOne({"_id": _id}, {"$set": {"sent_at": sent_at}}) for _id in acked],
                ordered=False,
            )
            if self.on_published:
                self.on_published(len(acked))
        if len(acked) < len(docs):
            raise ConnectionError("broker did not acknowledge every record")
        return len(acked)

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
