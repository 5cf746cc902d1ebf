"""The transactional outbox: a state change and the events it causes commit together.

A service never publishes to Kafka from a request or a handler. It writes its state and its
outgoing records in one MongoDB transaction (:class:`UnitOfWork`); the relay publishes them
afterwards. A crash at any point therefore loses nothing: an event exists exactly when the state
change that caused it was committed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from contracts import Envelope, Event, Record, encode
from services.runtime.mongo import TRANSACTION_OPTIONS, Database

OUTBOX = "outbox"
PENDING: dict[str, Any] = {"sent_at": None, "parked_at": None}
"""Committed, not yet published, and not parked as a record the broker can never take."""
T = TypeVar("T")


class UnitOfWork:
    """One open transaction: write state with ``session`` and announce facts with ``publish``.

    ``cause`` is the consumed event being handled, if any; published events inherit its
    correlation id and name it as their causation, so a chain of facts can be traced.
    """

    def __init__(
        self, db: Database, session: AsyncClientSession, source: str, cause: Envelope | None
    ) -> None:
        self.db = db
        self.session = session
        self.records: list[Record] = []
        self._source = source
        self.cause = cause

    def publish(self, event: Event, *, correlation_id: str | None = None) -> Record:
        """Queue ``event`` for the outbox; it is written when the transaction commits."""
        cause = self.cause
        record = encode(
            event,
            source=self._source,
            correlation_id=correlation_id
            or (cause.correlation_id or cause.id if cause else None),
            causation_id=cause.id if cause else None,
        )
        self.records.append(record)
        return record


class _WriteClock:
    """Nanosecond positions, strictly increasing within a process.

    The relay publishes in ``position`` order. Taken at commit time (after a service's own
    per-cohort serialisation, such as enrolment's cohort fence), it orders one cohort's records
    across replicas as long as their clocks agree to within the time between two transactions,
    where ObjectIds would only order them to the second.
    """

    last = 0

    @classmethod
    def next(cls) -> int:
        cls.last = max(time.time_ns(), cls.last + 1)
        return cls.last


def outbox_document(record: Record, now: datetime) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "position": _WriteClock.next(),
        "event_id": record.event_id,
        "topic": record.topic,
        "key": record.key,
        "value": record.value,
        "headers": record.headers,
        "created_at": now,
        "sent_at": None,
        "parked_at": None,
    }


class Outbox:
    """Opens units of work on a service database and wakes the relay when records committed."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], db: Database, source: str):
        self.client = client
        self.db = db
        self.source = source
        self.committed = asyncio.Event()

    async def ensure_indexes(self, retention_days: int) -> None:
        """Pending records are found in position order; sent ones expire after the retention.

        Parked records never expire: an operator fixes and replays or deletes them.
        """
        col = self.db[OUTBOX]
        await col.create_index(
            [("sent_at", ASCENDING), ("parked_at", ASCENDING), ("position", ASCENDING)])
        await col.create_index(
            "sent_at",
            name="sent_at_ttl",
            expireAfterSeconds=retention_days * 86400,
            partialFilterExpression={"sent_at": {"$type": "date"}},
        )

    @asynccontextmanager
    async def transaction(self, cause: Envelope | None = None) -> AsyncIterator[UnitOfWork]:
        """A unit of work; its records reach the outbox in the same transaction as its writes."""
        async with self.client.start_session() as session:
            async with await session.start_transaction(**TRANSACTION_OPTIONS):
                uow = UnitOfWork(self.db, session, self.source, cause)
                yield uow
                await self.stage(uow.records, session)
        if uow.records:
            self.committed.set()

    async def retrying(
        self, work: Callable[[UnitOfWork], Awaitable[T]], attempts: int = 4
    ) -> T:
        """Run ``work`` in a unit of work, again from the start on a write conflict.

        Two requests changing one document concurrently (both sides of a pair accepting at the
        same moment) make one transaction fail with a transient error; re-running the whole
        unit of work re-reads the state, so the second answer sees the first.
        """
        for attempt in range(1, attempts + 1):
            try:
                async with self.transaction() as uow:
                    return await work(uow)
            except PyMongoError as exc:
                if attempt == attempts or not exc.has_error_label("TransientTransactionError"):
                    raise
                await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    async def stage(self, records: list[Record], session: AsyncClientSession) -> None:
        """Insert ``records`` in bulk within ``session``'s transaction."""
        if records:
            now = datetime.now(UTC)
            await self.db[OUTBOX].insert_many(
                [outbox_document(r, now) for r in records], ordered=True, session=session
            )
