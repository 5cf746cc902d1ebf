"""The KPI counter documents the store keeps next to mentorships and sessions.

A cohort's figures are spread over :data:`COUNTER_SHARDS` documents (a pair always writes the
same one), so two pairs of one cohort acting at the same moment rarely write the same counter
and do not have to re-run their transactions. Topics learned are counted in documents of their
own, one per cohort, side, topic and shard: a topic label is free to hold any character, which
a field name is not.
"""

from __future__ import annotations

import zlib
from collections import Counter
from datetime import datetime

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from services.runtime.mongo import Database
from services.sessions.domain import Mentorship, Session
from services.sessions.kpis import Figures, Kpis, kpis_of, top_topics

COUNTER_SHARDS = 8
COUNTED = [
    *(f"mentorships_{k}" for k in ("confirmed", "active", "completed", "ended_early", "known",
                                   "cross")),
    *(f"sessions_{k}" for k in ("scheduled", "upcoming", "held", "cancelled")),
    *(f"ratings_{side}_{k}" for side in ("mentor", "mentee") for k in ("sum", "count")),
]
Shard = tuple[str, str, int]


def shard_of(owner: Mentorship | Session) -> Shard:
    """``(tenant, cohort, shard)`` of a mentorship or session: the pair's counter document."""
    return (owner.tenant_id, owner.cohort_id,
            zlib.crc32(owner.pair_id.encode()) % COUNTER_SHARDS)


class KpiCounters:
    def __init__(self, db: Database) -> None:
        self.counters = db["kpi_counters"]
        self.learned = db["kpi_learned_topics"]

    async def ensure_indexes(self) -> None:
        for counted in (self.counters, self.learned):
            await counted.create_index([("tenant_id", ASCENDING), ("cohort_id", ASCENDING)])

    async def count(self, changes: dict[Shard, Figures], session: AsyncClientSession | None
                    ) -> None:
        """Apply figure changes (``$inc``) in the caller's transaction."""
        for (tenant_id, cohort_id, shard), figures in changes.items():
            owner = {"tenant_id": tenant_id, "cohort_id": cohort_id}
            plain = {"_".join(k): n for k, n in figures.items() if k[0] != "learned" and n}
            if plain:
                await self.counters.update_one(
                    {"_id": f"{tenant_id}/{cohort_id}/{shard}"},
                    {"$inc": plain, "$setOnInsert": owner}, upsert=True, session=session)
            topics = [
                UpdateOne({"_id": f"{tenant_id}/{cohort_id}/{side}/{topic}/{shard}"},
                          {"$inc": {"sessions": n},
                           "$setOnInsert": {**owner, "side": side, "topic": topic}},
                          upsert=True)
                for (_, side, topic), n in ((k, n) for k, n in figures.items()
                                               if k[0] == "learned" and n)
            ]
            if topics:
                await self.learned.bulk_write(topics, session=session)

    async def kpis(self, tenant_id: str, cohort_id: str | None, now: datetime, on_track: int
                   ) -> Kpis:
        """Sum the counters of one cohort, or of every cohort of the business unit."""
        match = {"tenant_id": tenant_id, **({"cohort_id": cohort_id} if cohort_id else {})}
        counted: Figures = Counter()
        sums = await self.counters.aggregate([
            {"$match": match},
            {"$group": {"_id": None, **{f: {"$sum": f"${f}"} for f in COUNTED}}}])
        async for doc in sums:
            for field in COUNTED:
                counted[tuple(field.split("_", 1))] += int(doc[field])
        topics = await self.learned.aggregate([
            {"$match": match},
            {"$group": {"_id": {"side": "$side", "topic": "$topic"},
                        "sessions": {"$sum": "$sessions"}}}])
        async for doc in topics:
            counted[("learned", doc["_id"]["side"], doc["_id"]["topic"])] += doc["sessions"]
        return kpis_of(tenant_id, cohort_id, now, counted, on_track,
                       {side: top_topics(counted, side) for side in ("mentor", "mentee")})
