"""The sessions service's database: cohorts, people, mentorships, sessions and private notes.

Cohorts and people (department, withdrawal) are projections of the enrolment service's events;
mentorships, sessions and notes are this service's own state. Every write takes the caller's
session (unit of work); every read returns domain objects and is filtered by business unit,
except :meth:`SessionsStore.lapsed_feedback`, the platform's own sweep over every unit.

Private notes live in their own collection, keyed by session and author: no read of a session
or a mentorship can carry one by accident, and erasure is one delete.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.enrolment import Role
from services.runtime.mongo import Database
from services.sessions.counters import KpiCounters, shard_of
from services.sessions.documents import (
    mentorship_document,
    mentorship_of,
    session_document,
    session_of,
)
from services.sessions.domain import (
    Cohort,
    Mentorship,
    MentorshipStatus,
    Session,
    SessionStatus,
)
from services.sessions.kpis import (
    Figures,
    Kpis,
    change,
    figures_of_mentorship,
    figures_of_session,
    on_track_query,
)

Db = AsyncClientSession | None


class SessionsStore:
    def __init__(self, db: Database) -> None:
        self.cohorts = db["cohorts"]
        self.people = db["people"]
        self.mentorships = db["mentorships"]
        self.sessions = db["sessions"]
        self.notes = db["notes"]
        self.counters = KpiCounters(db)

    async def ensure_indexes(self) -> None:
        for role in ("mentor_id", "mentee_id"):
            await self.mentorships.create_index([("tenant_id", ASCENDING), (role, ASCENDING)])
        await self.mentorships.create_index([("tenant_id", ASCENDING), ("cohort_id", ASCENDING),
                                             ("status", ASCENDING)])
        await self.counters.ensure_indexes()
        await self.sessions.create_index([("tenant_id", ASCENDING), ("cohort_id", ASCENDING),
                                          ("status", ASCENDING)])
        await self.sessions.create_index([("pair_id", ASCENDING), ("sequence", ASCENDING)])
        await self.sessions.create_index([("status", ASCENDING), ("completion_sent", ASCENDING),
                                          ("held_at", ASCENDING)])
        await self.notes.create_index([("tenant_id", ASCENDING), ("cohort_id", ASCENDING),
                                       ("author_id", ASCENDING)])

    # cohorts and people --------------------------------------------------------------------
    async def save_cohort(self, cohort: Cohort, session: Db) -> None:
        """The cohort's target, also on its mentorships (a PairConfirmed may come first)."""
        await self.cohorts.update_one(
            {"_id": _cohort_key(cohort.tenant_id, cohort.cohort_id)},
            {"$set": {"tenant_id": cohort.tenant_id, "cohort_id": cohort.cohort_id,
                      "session_target": cohort.session_target}},
            upsert=True, session=session)
        await self.mentorships.update_many(
            {"tenant_id": cohort.tenant_id, "cohort_id": cohort.cohort_id},
            {"$set": {"session_target": cohort.session_target}}, session=session)

    async def cohort(self, tenant_id: str, cohort_id: str, session: Db = None) -> Cohort | None:
        doc = await self.cohorts.find_one({"_id": _cohort_key(tenant_id, cohort_id)},
                                          session=session)
        if doc is None:
            return None
        return Cohort(doc["tenant_id"], doc["cohort_id"], doc["session_target"])

    async def know_cohort(self, tenant_id: str, cohort_id: str, session: Db) -> Cohort:
        """The cohort, recorded with the default target if its CohortOpened is still on its way."""
        await self.cohorts.update_one(
            {"_id": _cohort_key(tenant_id, cohort_id)},
            {"$setOnInsert": {"tenant_id": tenant_id, "cohort_id": cohort_id,
                              "session_target": Cohort(tenant_id, cohort_id).session_target}},
            upsert=True, session=session)
        cohort = await self.cohort(tenant_id, cohort_id, session)
        assert cohort is not None
        return cohort

    async def save_people(self, people: list[tuple[str, str, str, str]], session: Db) -> None:
        """``(tenant, cohort, participant, department)`` rows, in one round trip."""
        if people:
            await self.people.bulk_write([
                UpdateOne({"_id": _person_key(t, c, p)},
                          {"$set": {"department": d, "enrolled": True}}, upsert=True)
                for t, c, p, d in people], session=session)

    async def withdraw_person(self, tenant_id: str, cohort_id: str, participant_id: str,
                              at: datetime, session: Db) -> None:
        await self.people.update_one({"_id": _person_key(tenant_id, cohort_id, participant_id)},
                                     {"$set": {"withdrawn_at": at}}, upsert=True,
                                     session=session)

    async def people_of(self, tenant_id: str, cohort_id: str, ids: list[str], session: Db
                        ) -> dict[str, dict[str, Any]]:
        keys = [_person_key(tenant_id, cohort_id, p) for p in ids]
        found = {d["_id"]: d async for d in self.people.find({"_id": {"$in": keys}},
                                                             session=session)}
        return {p: found[k] for p, k in zip(ids, keys, strict=True) if k in found}

    # mentorships ---------------------------------------------------------------------------
    async def add_mentorship(self, m: Mentorship, session: Db) -> bool:
        """Insert unless it exists: a second PairConfirmed for the pair changes nothing."""
        result = await self.mentorships.update_one(
            {"_id": m.pair_id}, {"$setOnInsert": mentorship_document(m)}, upsert=True,
            session=session)
        if result.upserted_id is None:
            return False
        await self.counters.count({shard_of(m): figures_of_mentorship(m)}, session)
        return True

    async def save_mentorship(self, m: Mentorship, session: Db) -> None:
        """Every change to a pair's sessions saves its mentorship: two concurrent changes of
        one pair then conflict, and the second re-runs seeing the first (no racing overlap)."""
        before = await self.mentorships.find_one({"_id": m.pair_id, "tenant_id": m.tenant_id},
                                                 session=session)
        await self.mentorships.update_one(
            {"_id": m.pair_id, "tenant_id": m.tenant_id},
            {"$set": mentorship_document(m), "$inc": {"writes": 1}}, session=session)
        was = figures_of_mentorship(mentorship_of(before)) if before else Counter()
        await self.counters.count({shard_of(m): change(was, figures_of_mentorship(m))}, session)

    async def mentorship(self, tenant_id: str, pair_id: str, session: Db = None
                         ) -> Mentorship | None:
        doc = await self.mentorships.find_one({"_id": pair_id, "tenant_id": tenant_id},
                                              session=session)
        return mentorship_of(doc) if doc else None

    async def mentorships_of(self, tenant_id: str, *, cohort_id: str | None = None,
                             participant_id: str | None = None,
                             statuses: tuple[MentorshipStatus, ...] = (),
                             after: str | None = None, limit: int = 0,
                             session: Db = None) -> list[Mentorship]:
        """In pair id order; ``after`` and ``limit`` page through a large cohort."""
        query: dict[str, Any] = {"tenant_id": tenant_id}
        if after is not None:
            query["_id"] = {"$gt": after}
        if cohort_id is not None:
            query["cohort_id"] = cohort_id
        if participant_id is not None:
            query["$or"] = [{"mentor_id": participant_id}, {"mentee_id": participant_id}]
        if statuses:
            query["status"] = {"$in": [s.value for s in statuses]}
        cursor = self.mentorships.find(query, session=session).sort("_id", ASCENDING)
        return [mentorship_of(d) async for d in cursor.limit(limit)]

    async def mentorships_with(self, people: list[tuple[str, str, str]], session: Db
                               ) -> list[Mentorship]:
        """Mentorships naming any of ``(tenant, cohort, participant)``, in that cohort only."""
        by_cohort: dict[tuple[str, str], set[str]] = {}
        for tenant_id, cohort_id, participant_id in people:
            by_cohort.setdefault((tenant_id, cohort_id), set()).add(participant_id)
        if not by_cohort:
            return []
        query = {"$or": [
            {"tenant_id": t, "cohort_id": c,
             "$or": [{"mentor_id": {"$in": sorted(ids)}}, {"mentee_id": {"$in": sorted(ids)}}]}
            for (t, c), ids in by_cohort.items()]}
        return [mentorship_of(d) async for d in self.mentorships.find(query, session=session)]

    # sessions ------------------------------------------------------------------------------
    async def save_sessions(self, sessions: list[Session], session: Db) -> None:
        if not sessions:
            return
        ids = [s.session_id for s in sessions]
        before = {d["_id"]: figures_of_session(session_of(d))
                  async for d in self.sessions.find({"_id": {"$in": ids}}, session=session)}
        await self.sessions.bulk_write(
            [UpdateOne({"_id": s.session_id}, {"$set": session_document(s)}, upsert=True)
             for s in sessions], session=session)
        changes: dict[tuple[str, str, int], Figures] = {}
        for s in sessions:
            shard = changes.setdefault(shard_of(s), Counter())
            for key, n in change(before.get(s.session_id, Counter()),
                                 figures_of_session(s)).items():
                shard[key] += n
        await self.counters.count(changes, session)

    async def session(self, tenant_id: str, session_id: str, session: Db = None
                      ) -> Session | None:
        doc = await self.sessions.find_one({"_id": session_id, "tenant_id": tenant_id},
                                           session=session)
        return session_of(doc) if doc else None

    async def sessions_of(self, m: Mentorship, session: Db = None,
                          statuses: tuple[SessionStatus, ...] = ()) -> list[Session]:
        query: dict[str, Any] = {"pair_id": m.pair_id, "tenant_id": m.tenant_id}
        if statuses:
            query["status"] = {"$in": [s.value for s in statuses]}
        cursor = self.sessions.find(query, session=session).sort("sequence", ASCENDING)
        return [session_of(d) async for d in cursor]

    async def sessions_of_cohort(self, tenant_id: str, cohort_id: str) -> list[Session]:
        """Every session of a cohort: for recounting its KPIs, never for serving them."""
        cursor = self.sessions.find({"tenant_id": tenant_id, "cohort_id": cohort_id})
        return [session_of(d) async for d in cursor]

    async def lapsed_feedback(self, held_before: datetime, limit: int, session: Db
                              ) -> list[Session]:
        """Held sessions whose feedback window closed unannounced, in every business unit."""
        query = {"status": SessionStatus.HELD.value, "completion_sent": False,
                 "held_at": {"$lte": held_before}}
        cursor = self.sessions.find(query, session=session).sort("held_at", ASCENDING)
        return [session_of(d) async for d in cursor.limit(limit)]

    async def erase_details(self, mentorships: list[Mentorship], session: Db) -> None:
        """The members' own words about their sessions (place, link, agenda) go."""
        if mentorships:
            await self.sessions.update_many(
                {"tenant_id": mentorships[0].tenant_id,
                 "pair_id": {"$in": [m.pair_id for m in mentorships]}},
                {"$set": {"location": None, "video_link": None, "agenda": None}},
                session=session)

    # private notes -------------------------------------------------------------------------
    async def save_note(self, s: Session, role: Role, author_id: str, text: str,
                        at: datetime, session: Db) -> None:
        await self.notes.insert_one(
            {"_id": f"{s.session_id}/{role.value}", "tenant_id": s.tenant_id,
             "cohort_id": s.cohort_id, "session_id": s.session_id, "author_id": author_id,
             "text": text, "written_at": at}, session=session)

    async def note(self, s: Session, author_id: str) -> str | None:
        """The author's own note; nobody else's, whoever asks."""
        role = s.role_of(author_id)
        if role is None:
            return None
        doc = await self.notes.find_one({"_id": f"{s.session_id}/{role.value}",
                                         "tenant_id": s.tenant_id, "author_id": author_id})
        return str(doc["text"]) if doc else None

    async def erase_notes(self, tenant_id: str, cohort_id: str, author_id: str,
                          session: Db) -> None:
        await self.notes.delete_many({"tenant_id": tenant_id, "cohort_id": cohort_id,
                                      "author_id": author_id}, session=session)

    # KPIs ----------------------------------------------------------------------------------
    async def kpis(self, tenant_id: str, cohort_id: str | None, now: datetime,
                   cadence: timedelta) -> Kpis:
        """The maintained counters, and who is on track today; cohort or business unit."""
        on_track = await self.mentorships.count_documents({
            "tenant_id": tenant_id, **({"cohort_id": cohort_id} if cohort_id else {}),
            **on_track_query(now, cadence)})
        return await self.counters.kpis(tenant_id, cohort_id, now, on_track)


def _cohort_key(tenant_id: str, cohort_id: str) -> str:
    return f"{tenant_id}/{cohort_id}"


def _person_key(tenant_id: str, cohort_id: str, participant_id: str) -> str:
    return f"{tenant_id}/{cohort_id}/{participant_id}"
