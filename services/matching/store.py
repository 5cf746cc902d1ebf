"""The matching service's database: cohort policies, the pool, rounds and pairs.

The pool and the policies are projections of the enrolment service's events; pairs and rounds
are this service's own state. A pool entry (``_id`` = ``<cohort>/<participant>``, the profile
topic's key) holds the engine's ``candidate`` from ``ParticipantEnrolled`` and, beside it, the
``goals`` from the enrolment's profile; the two arrive on different topics in either order.
Withdrawal leaves only the id, the role and ``withdrawn_at``.

Every write happens inside a unit of work (the caller's session); every read returns domain
objects and is filtered by business unit, so one tenant never sees or changes another's cohort,
round or pair (a participant id is a directory id: the same person, or a namesake in another
unit, may be in several cohorts).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.enrolment import Role
from contracts.matching import RoundStatistics, RoundTrigger
from contracts.policy import MatchingPolicy as CohortPolicy
from contracts.policy import Objective
from services.matching.domain import OPEN, Cohort, Pair, PairStatus, Round, RoundSummary
from services.matching.engine import Candidate
from services.runtime.mongo import Database

Session = AsyncClientSession | None


class MatchingStore:
    def __init__(self, db: Database) -> None:
        self.cohorts = db["cohorts"]
        self.pool = db["pool"]
        self.pairs = db["pairs"]
        self.rounds = db["rounds"]

    async def ensure_indexes(self) -> None:
        await self.pool.create_index([("cohort_id", ASCENDING), ("role", ASCENDING)])
        await self.pairs.create_index([("cohort_id", ASCENDING), ("status", ASCENDING)])
        await self.pairs.create_index([("mentor_id", ASCENDING), ("tenant_id", ASCENDING)])
        await self.pairs.create_index([("mentee_id", ASCENDING), ("tenant_id", ASCENDING)])
        await self.rounds.create_index([("cohort_id", ASCENDING), ("created_at", ASCENDING)])

    # cohorts -------------------------------------------------------------------------------
    async def save_cohort(
        self, tenant_id: str, cohort_id: str, policy: CohortPolicy, session: Session
    ) -> None:
        await self.cohorts.update_one(
            {"_id": cohort_id},
            {"$set": {"tenant_id": tenant_id, "policy": policy.model_dump(mode="json")}},
            upsert=True,
            session=session,
        )

    async def close_cohort(self, cohort_id: str, session: Session) -> None:
        await self.cohorts.update_one(
            {"_id": cohort_id}, {"$set": {"closed": True}}, session=session
        )

    async def cohort(self, tenant_id: str, cohort_id: str, session: Session = None
                     ) -> Cohort | None:
        doc = await self.cohorts.find_one({"_id": cohort_id, "tenant_id": tenant_id},
                                          session=session)
        if doc is None:
            return None
        return Cohort(tenant_id=doc["tenant_id"], cohort_id=doc["_id"],
                      policy=CohortPolicy.model_validate(doc["policy"]))

    # pool ----------------------------------------------------------------------------------
    async def add_to_pool(
        self, entries: list[tuple[str, Role, Candidate]], session: Session
    ) -> None:
        """Upsert participants in one round trip; a redelivered enrolment rewrites the same row."""
        if entries:
            await self.pool.bulk_write(
                [
                    UpdateOne(
                        {"_id": pool_key(cohort, c.participant_id)},
                        {
                            "$set": {
                                "cohort_id": cohort,
                                "role": role.value,
                                "active": True,
                                "candidate": _candidate_doc(c),
                            }
                        },
                        upsert=True,
                    )
                    for cohort, role, c in entries
                ],
                session=session,
            )

    async def withdraw(self, cohort_id: str, participant_id: str, withdrawn_at: datetime | None,
                       session: Session) -> None:
        """Leave the pool and erase every personal attribute: what remains is the pseudonymous
        id, the role and when the person left, which the counts and a late profile need.

        Goals from a profile of a later enrolment (the person enrolled again and that profile
        overtook this withdrawal) belong to the new enrolment and stay.
        """
        key = pool_key(cohort_id, participant_id)
        doc = await self.pool.find_one({"_id": key}, {"goals_enrolled_at": 1}, session=session)
        erased = {"candidate": ""}
        if not _later(doc.get("goals_enrolled_at") if doc else None, withdrawn_at):
            erased.update(goals="", goals_enrolled_at="")
        await self.pool.update_one(  # upsert: a late profile must find the withdrawal
            {"_id": key},
            {"$set": {"active": False, "withdrawn_at": withdrawn_at}, "$unset": erased},
            upsert=True, session=session,
        )

    async def save_goals(self, goals: list[tuple[str, str, str, datetime | None]],
                         session: Session) -> None:
        """Keep ``(cohort, participant, goals, enrolled at)`` from the profile topic, in one
        round trip after one read; a late copy of a withdrawn enrolment's profile is dropped."""
        keys = [pool_key(c, p) for c, p, _, _ in goals]
        withdrawn = {d["_id"]: d.get("withdrawn_at") async for d in self.pool.find(
            {"_id": {"$in": keys}}, {"withdrawn_at": 1}, session=session)}
        writes = [
            UpdateOne({"_id": key}, {"$set": {"goals": text, "goals_enrolled_at": enrolled_at}},
                      upsert=True)
            for key, (_, _, text, enrolled_at) in zip(keys, goals, strict=True)
            if withdrawn.get(key) is None or _later(enrolled_at, withdrawn[key])
        ]
        if writes:
            await self.pool.bulk_write(writes, session=session)

    async def erase_goals(self, enrolments: list[tuple[str, str]], session: Session) -> None:
        """The profiles' tombstones: their goals go; an entry that held nothing else goes too."""
        keys = [pool_key(c, p) for c, p in enrolments]
        await self.pool.update_many({"_id": {"$in": keys}},
                                    {"$unset": {"goals": "", "goals_enrolled_at": ""}},
                                    session=session)
        await self.pool.delete_many({"_id": {"$in": keys}, "role": {"$exists": False}},
                                    session=session)

    async def pool_of(
        self, cohort_id: str, session: Session
    ) -> tuple[list[Candidate], list[Candidate]]:
        mentors: list[Candidate] = []
        mentees: list[Candidate] = []
        async for doc in self.pool.find(
            {"cohort_id": cohort_id, "active": True}, session=session
        ).sort("_id", ASCENDING):
            (mentors if doc["role"] == Role.MENTOR.value else mentees).append(
                _candidate(doc["candidate"], doc.get("goals", ""))
            )
        return mentors, mentees

    # pairs ---------------------------------------------------------------------------------
    async def save_pairs(self, pairs: list[Pair], session: Session) -> None:
        if pairs:
            await self.pairs.bulk_write(
                [UpdateOne({"_id": p.pair_id}, {"$set": _pair_doc(p)}, upsert=True) for p in pairs],
                session=session,
            )

    async def pair(self, tenant_id: str, pair_id: str, session: Session = None) -> Pair | None:
        doc = await self.pairs.find_one({"_id": pair_id, "tenant_id": tenant_id},
                                        session=session)
        return _pair(doc) if doc else None

    async def pairs_of(
        self,
        cohort_id: str,
        statuses: tuple[PairStatus, ...] | None = None,
        session: Session = None,
        round_id: str | None = None,
    ) -> list[Pair]:
        query: dict[str, Any] = {"cohort_id": cohort_id}
        if statuses:
            query["status"] = {"$in": [s.value for s in statuses]}
        if round_id:
            query["round_id"] = round_id
        return [
            _pair(d) async for d in self.pairs.find(query, session=session).sort("_id", ASCENDING)
        ]

    async def open_pairs_of(
        self, tenant_id: str, cohort_id: str, participant_id: str, session: Session
    ) -> list[Pair]:
        """The person's proposals still waiting for answers in this one cohort."""
        query = {
            "cohort_id": cohort_id,
            "tenant_id": tenant_id,
            "status": {"$in": [s.value for s in OPEN]},
            "$or": [{"mentor_id": participant_id}, {"mentee_id": participant_id}],
        }
        return [_pair(d) async for d in self.pairs.find(query, session=session)]

    async def pairs_of_participant(self, tenant_id: str, participant_id: str) -> list[Pair]:
        query = {
            "tenant_id": tenant_id,
            "$or": [{"mentor_id": participant_id}, {"mentee_id": participant_id}],
            "status": {"$ne": PairStatus.DISCARDED.value},
        }
        return [_pair(d) async for d in self.pairs.find(query).sort("_id", ASCENDING)]

    # rounds --------------------------------------------------------------------------------
    async def save_round(self, rnd: Round, now: datetime, session: Session) -> None:
        doc = {
            "tenant_id": rnd.tenant_id,
            "cohort_id": rnd.cohort_id,
            "trigger": rnd.trigger.value,
            "objective": rnd.objective.value,
            "unmatched": rnd.unmatched,
            "statistics": rnd.statistics,
            "published": rnd.published,
            "pair_ids": [p.pair_id for p in rnd.pairs],
        }
        await self.rounds.update_one(
            {"_id": rnd.round_id},
            {"$set": doc, "$setOnInsert": {"created_at": now}},
            upsert=True,
            session=session,
        )

    async def round(self, cohort: Cohort, round_id: str, session: Session = None
                    ) -> Round | None:
        doc = await self.rounds.find_one(
            {"_id": round_id, "cohort_id": cohort.cohort_id, "tenant_id": cohort.tenant_id},
            session=session)
        if doc is None:
            return None
        pairs = await self.pairs_of(doc["cohort_id"], session=session, round_id=round_id)
        by_id = {p.pair_id: p for p in pairs}
        return Round(
            round_id=doc["_id"],
            tenant_id=doc["tenant_id"],
            cohort_id=doc["cohort_id"],
            trigger=RoundTrigger(doc["trigger"]),
            objective=Objective(doc["objective"]),
            pairs=[by_id[i] for i in doc["pair_ids"] if i in by_id],
            unmatched=doc["unmatched"],
            statistics=doc["statistics"],
            published=doc["published"],
        )

    async def rounds_of(self, cohort: Cohort) -> list[RoundSummary]:
        cursor = self.rounds.find(
            {"cohort_id": cohort.cohort_id, "tenant_id": cohort.tenant_id},
            {"unmatched": 0, "pair_ids": 0},
        ).sort("created_at", ASCENDING)
        return [
            RoundSummary(
                round_id=d["_id"],
                trigger=RoundTrigger(d["trigger"]),
                objective=Objective(d["objective"]),
                published=d["published"],
                statistics=RoundStatistics.model_validate(d["statistics"]),
            )
            async for d in cursor
        ]

    async def discard_drafts(
        self, cohort_id: str, session: Session, participant_id: str | None = None
    ) -> None:
        """A newer round supersedes the cohort's unpublished drafts; a withdrawal its own."""
        query: dict[str, Any] = {"cohort_id": cohort_id, "status": PairStatus.DRAFT.value}
        if participant_id:
            query["$or"] = [{"mentor_id": participant_id}, {"mentee_id": participant_id}]
        await self.pairs.update_many(
            query, {"$set": {"status": PairStatus.DISCARDED.value}}, session=session
        )


def pool_key(cohort_id: str, participant_id: str) -> str:
    """A pool entry's id: the enrolment, as the profile topic keys it."""
    return f"{cohort_id}/{participant_id}"


def _later(instant: datetime | None, than: datetime | None) -> bool:
    return instant is not None and than is not None and instant > than


def _candidate_doc(c: Candidate) -> dict[str, Any]:
    doc = asdict(c)
    del doc["goals"]  # kept beside the candidate, from the profile topic
    for key in ("topics_offered", "topics_wanted", "languages"):
        doc[key] = sorted(doc[key])
    doc["manager_chain"] = list(c.manager_chain)
    return doc


def _candidate(doc: dict[str, Any], goals: str) -> Candidate:
    return Candidate(
        participant_id=doc["participant_id"],
        department=doc["department"],
        manager_chain=tuple(doc["manager_chain"]),
        level=doc["level"],
        topics_offered=frozenset(doc["topics_offered"]),
        topics_wanted=frozenset(doc["topics_wanted"]),
        languages=frozenset(doc["languages"]),
        utc_offset_hours=doc["utc_offset_hours"],
        format=doc["format"],
        goals=goals,
    )


def _pair_doc(p: Pair) -> dict[str, Any]:
    doc = asdict(p)
    doc.pop("pair_id")
    doc["status"] = p.status.value
    return doc


def _pair(doc: dict[str, Any]) -> Pair:
    data = {k: v for k, v in doc.items() if k != "_id"}
    return Pair(pair_id=doc["_id"], **{**data, "status": PairStatus(doc["status"])})
