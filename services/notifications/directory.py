"""The directory: who a participant id is, per enrolment, for as long as they are enrolled.

The only place this service keeps a name, an e-mail address or a locale. One entry per
enrolment, keyed like the profile topic (``<cohort_id>/<participant_id>``): a participant id is
a directory id that recurs across cohorts and is not unique across business units, and a
withdrawal erases one enrolment. Contact details arrive from the profile feed; the time zone and
the role from ``ParticipantEnrolled``.

Erasure: a withdrawal is confirmed by e-mail first, so the entry is erased when that
confirmation settles (sent or failed for good), and at the latest ``erase_grace`` after the
profile's tombstone, which travels on another topic and may arrive before or after the
withdrawal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DeleteOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from services.runtime.mongo import Database

Session = AsyncClientSession | None
Key = tuple[str, str]
"""(cohort_id, participant_id): one enrolment."""


def entry_key(cohort_id: str, participant_id: str) -> str:
    return f"{cohort_id}/{participant_id}"


@dataclass(frozen=True)
class Contact:
    """What the profile feed says about one enrolment."""

    tenant_id: str
    cohort_id: str
    participant_id: str
    name: str
    email: str
    locale: str | None = None


@dataclass(frozen=True)
class Enrolment:
    """What ``ParticipantEnrolled`` says that a message needs."""

    tenant_id: str
    cohort_id: str
    participant_id: str
    role: str
    time_zone: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Recipient:
    """A participant as a message addresses them; ``email`` is ``None`` until the profile came."""

    tenant_id: str
    cohort_id: str
    participant_id: str
    name: str | None
    email: str | None
    locale: str | None
    time_zone: str | None
    withdrawn: bool = False


class Directory:
    def __init__(self, db: Database) -> None:
        self.entries = db["directory"]
        self.preferences = db["preferences"]

    async def ensure_indexes(self) -> None:
        await self.entries.create_index([("erase_by", ASCENDING)], sparse=True)

    async def record_contacts(self, contacts: list[Contact], session: Session) -> None:
        """Upsert contact details; the compacted feed may resend a value, which rewrites it."""
        if contacts:
            await self.entries.bulk_write([
                UpdateOne({"_id": entry_key(c.cohort_id, c.participant_id)},
                          {"$set": {"tenant_id": c.tenant_id, "cohort_id": c.cohort_id,
                                    "participant_id": c.participant_id, "name": c.name,
                                    "email": c.email, "locale": c.locale}},
                          upsert=True)
                for c in contacts], session=session)

    async def record_enrolments(self, enrolments: list[Enrolment], session: Session) -> None:
        if enrolments:
            await self.entries.bulk_write([
                UpdateOne({"_id": entry_key(e.cohort_id, e.participant_id)},
                          {"$set": {"tenant_id": e.tenant_id, "cohort_id": e.cohort_id,
                                    "participant_id": e.participant_id, "role": e.role,
                                    "time_zone": e.time_zone, "languages": list(e.languages)}},
                          upsert=True)
                for e in enrolments], session=session)

    async def mark_withdrawn(self, tenant_id: str, cohort_id: str, participant_id: str,
                             session: Session) -> None:
        await self.entries.update_one(
            {"_id": entry_key(cohort_id, participant_id), "tenant_id": tenant_id},
            {"$set": {"withdrawn": True}}, session=session)

    async def erase_later(self, keys: list[Key], erase_by: datetime, session: Session) -> None:
        """The tombstone's bound: erased by ``erase_by`` whatever else happens."""
        if keys:
            await self.entries.bulk_write([
                UpdateOne({"_id": entry_key(*k), "erase_by": None},
                          {"$set": {"erase_by": erase_by}}) for k in keys], session=session)

    async def erase(self, keys: list[Key], session: Session) -> None:
        if keys:
            await self.entries.bulk_write([DeleteOne({"_id": entry_key(*k)}) for k in keys],
                                          session=session)

    async def due_for_erasure(self, now: datetime, limit: int = 500) -> list[Key]:
        cursor = self.entries.find({"erase_by": {"$lte": now}},
                                   {"cohort_id": 1, "participant_id": 1}).limit(limit)
        return [(d["cohort_id"], d["participant_id"]) async for d in cursor]

    async def recipients(self, keys: list[tuple[str, str, str]], session: Session = None
                         ) -> dict[tuple[str, str, str], Recipient]:
        """Entries for (tenant, cohort, participant) keys; another unit's entry is not found."""
        if not keys:
            return {}
        wanted = {entry_key(c, p): (t, c, p) for t, c, p in keys}
        found: dict[tuple[str, str, str], Recipient] = {}
        async for doc in self.entries.find({"_id": {"$in": list(wanted)}}, session=session):
            key = wanted[doc["_id"]]
            if doc.get("tenant_id") == key[0]:
                found[key] = _recipient(doc)
        return found

    # preferences ---------------------------------------------------------------------------
    async def opted_out(self, tenant_id: str, participant_ids: list[str], channel: str
                        ) -> set[str]:
        ids = [f"{tenant_id}/{p}" for p in participant_ids]
        cursor = self.preferences.find({"_id": {"$in": ids}, f"opt_out.{channel}": True},
                                       {"participant_id": 1})
        return {d["participant_id"] async for d in cursor}

    async def preferences_of(self, tenant_id: str, participant_id: str) -> dict[str, bool]:
        doc = await self.preferences.find_one({"_id": f"{tenant_id}/{participant_id}"})
        return dict(doc.get("opt_out", {})) if doc else {}

    async def save_preferences(self, tenant_id: str, participant_id: str,
                               opt_out: dict[str, bool]) -> None:
        await self.preferences.update_one(
            {"_id": f"{tenant_id}/{participant_id}"},
            {"$set": {"tenant_id": tenant_id, "participant_id": participant_id,
                      "opt_out": opt_out}}, upsert=True)


def _recipient(doc: dict[str, Any]) -> Recipient:
    return Recipient(tenant_id=doc["tenant_id"], cohort_id=doc["cohort_id"],
                     participant_id=doc["participant_id"], name=doc.get("name"),
                     email=doc.get("email"), locale=doc.get("locale"),
                     time_zone=doc.get("time_zone"), withdrawn=bool(doc.get("withdrawn")))
