"""The idempotent inbox: each consumer applies each event at most once.

Kafka delivers at least once and the outbox relay may publish twice; the inbox records
``(consumer, event id)`` under a unique index in the same transaction as the state change, so a
redelivered event finds its row and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from services.runtime.mongo import Database

INBOX = "inbox"


class Inbox:
    def __init__(self, db: Database, consumer: str) -> None:
        self.col = db[INBOX]
        self.consumer = consumer

    async def ensure_indexes(self) -> None:
        await self.col.create_index(
            [("consumer", ASCENDING), ("event_id", ASCENDING)], unique=True, name="consumer_event"
        )

    async def seen(self, event_ids: list[str], session: AsyncClientSession) -> set[str]:
        """Which of ``event_ids`` this consumer has already applied."""
        cursor = self.col.find(
            {"consumer": self.consumer, "event_id": {"$in": event_ids}},
            {"event_id": 1, "_id": 0},
            session=session,
        )
        return {doc["event_id"] async for doc in cursor}

    async def record(self, event_ids: list[str], session: AsyncClientSession) -> None:
        """Mark ``event_ids`` applied; a concurrent duplicate fails the unique index and aborts."""
        if event_ids:
            now = datetime.now(UTC)
            await self.col.insert_many(
                [{"consumer": self.consumer, "event_id": e, "at": now} for e in event_ids],
                session=session,
            )
