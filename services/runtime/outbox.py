"""The transactional outbox: a state change and the events it causes commit together.

A service never publishes to Kafka from a request or a handler. It writes its state and its
outgoing records in one MongoDB transaction (:class:`UnitOfWork`); the relay publishes them
afterwards. A crash at any point therefore loses nothing: an event exists exactly when the state
change that caused it was committed.

Records that belong to one enrolment carry its ``erasure_key`` (``<cohort>/<participant>``), and
profile records are marked ``personal``: the relay deletes a personal record the moment the
broker acknowledged it, and a withdrawal redacts the enrolment's sent records at once
(:meth:`UnitOfWork.erase_records_of`) instead of leaving them to the TTL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from contracts import Envelope, Event, Record, encode
from contracts.base import filled_retired_fields
from contracts.profiles import ParticipantProfile, Tombstone, encode_profile, encode_tombstone
from services.runtime.mongo import TRANSACTION_OPTIONS, Database

OUTBOX = "outbox"
PENDING: dict[str, Any] = {"sent_at": None, "parked_at": None}
"""Committed, not yet published, and not parked as a record the broker can never take."""
T = TypeVar("T")


@dataclass(frozen=True)
class Outgoing:
    """A record queued in a unit of work, with what the outbox must know to erase it.

    ``personal``: the record carries personal data (a profile); its outbox document is deleted
    as soon as the broker acknowledged it. ``erasure_key``: the enrolment it belongs to, so a
    withdrawal can erase its sent records at once (:meth:`UnitOfWork.erase_records_of`).
    """

    record: Record | Tombstone
    personal: bool = False
    erasure_key: str | None = None


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
        self.outgoing: list[Outgoing] = []
        self._source = source
        self.cause = cause

    @property
    def records(self) -> list[Record | Tombstone]:
        return [o.record for o in self.outgoing]

    def _trace(self, correlation_id: str | None) -> tuple[str | None, str | None]:
        """``(correlation id, causation id)`` of what this unit of work publishes."""
        cause = self.cause
        return (correlation_id or (cause.correlation_id or cause.id if cause else None),
                cause.id if cause else None)

    def publish(self, event: Event, *, correlation_id: str | None = None,
                erasure_key: str | None = None) -> Record:
        """Queue ``event`` for the outbox; it is written when the transaction commits.

        An event that fills a retired field (personal data or free text an append-only topic
        must never carry, ``contracts.base.RETIRED``) is a programming error: ``ValueError``.
        """
        if filled := filled_retired_fields(event):
            raise ValueError(f"{event.event_type()} fills retired fields {filled}: personal "
                             "data and free text travel on the profile topic only")
        correlation, causation = self._trace(correlation_id)
        record = encode(event, source=self._source, correlation_id=correlation,
                        causation_id=causation)
        self.outgoing.append(Outgoing(record, erasure_key=erasure_key))
        return record

    def publish_profile(self, profile: ParticipantProfile, *,
                        correlation_id: str | None = None) -> Record:
        """Queue a profile for the compacted profile topic; its outbox copy is deleted on ack."""
        correlation, causation = self._trace(correlation_id)
        record = encode_profile(profile, source=self._source, correlation_id=correlation,
                                causation_id=causation)
        self.outgoing.append(Outgoing(record, personal=True, erasure_key=profile.key))
        return record

    def erase_profile(self, cohort_id: str, participant_id: str) -> Tombstone:
        """Queue the tombstone of one enrolment's profile."""
        record = encode_tombstone(cohort_id, participant_id, event_id=f"tombstone-{ObjectId()}")
        self.outgoing.append(Outgoing(record))
        return record

    async def erase_records_of(self, erasure_key: str) -> None:
        """Erase what the outbox holds of one enrolment, at once: a sent record loses its value
        (``redacted_at``; its headers still say what was sent), a parked one is deleted (it
        must never be replayed), and one still pending is redacted as soon as the broker
        acknowledged it (``erase_on_ack``)."""
        col = self.db[OUTBOX]
        docs = await col.find({"erasure_key": erasure_key}, {"sent_at": 1, "parked_at": 1},
                              session=self.session).to_list()
        sent = [d["_id"] for d in docs if d.get("sent_at")]
        parked = [d["_id"] for d in docs if d.get("parked_at") and not d.get("sent_at")]
        pending = [d["_id"] for d in docs if not (d.get("sent_at") or d.get("parked_at"))]
        if sent:
            await col.update_many({"_id": {"$in": sent}}, redaction(datetime.now(UTC)),
                                  session=self.session)
        if parked:
            await col.delete_many({"_id": {"$in": parked}}, session=self.session)
        if pending:
            await col.update_many({"_id": {"$in": pending}}, {"$set": {"erase_on_ack": True}},
                                  session=self.session)


def redaction(now: datetime) -> dict[str, Any]:
    """The update that takes a sent record's value (the event) out of the outbox."""
    return {"$unset": {"value": ""}, "$set": {"redacted_at": now}}


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


def outbox_document(record: Record | Tombstone, now: datetime, *, personal: bool = False,
                    erasure_key: str | None = None) -> dict[str, Any]:
    doc = {
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
    if personal:
        doc["personal"] = True
    if erasure_key is not None:
        doc["erasure_key"] = erasure_key
    return doc


class Outbox:
    """Opens units of work on a service database and wakes the relay when records committed."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], db: Database, source: str):
        self.client = client
        self.db = db
        self.source = source
        self.committed = asyncio.Event()

    async def ensure_indexes(self, retention_days: int) -> None:
        """Pending records are found in position order; sent ones expire after the retention;
        an enrolment's records are found by their erasure key.

        Parked records never expire: an operator fixes and replays or deletes them (a
        withdrawal deletes the enrolment's own).
        """
        col = self.db[OUTBOX]
        await col.create_index(
            [("sent_at", ASCENDING), ("parked_at", ASCENDING), ("position", ASCENDING)])
        await col.create_index("erasure_key", sparse=True, name="erasure_key")
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
                await self.stage(uow.outgoing, session)
        if uow.outgoing:
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

    async def stage(self, outgoing: list[Outgoing], session: AsyncClientSession) -> None:
        """Insert ``outgoing`` records in bulk within ``session``'s transaction."""
        if outgoing:
            now = datetime.now(UTC)
            await self.db[OUTBOX].insert_many(
                [outbox_document(o.record, now, personal=o.personal, erasure_key=o.erasure_key)
                 for o in outgoing], ordered=True, session=session,
            )
