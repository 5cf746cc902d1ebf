"""Programme KPIs of one large cohort: maintained counters, aggregation pipelines, and loading
every document into Python, on the same database in one run.

Writes ``--mentorships`` mentorships and ``--sessions`` sessions (held ones with feedback from
both sides) of one cohort through the service's store, so its KPI counters are maintained as in
production, then times:
  * counters: ``SessionsStore.kpis``, what ``GET /cohorts/{id}/kpis`` runs — sum the cohort's
    counter documents, count the active mentorships on track;
  * pipelines: the same figures by aggregation pipelines over the documents ($group, $facet,
    $unwind), the alternative the service does not use;
  * baseline: every mentorship and session document of the cohort loaded into Python
    (``kpis.recount``).
All three must give the same KPIs. Each read runs ``--repeat`` times; medians are reported.

Picks the infrastructure tier as the tests do: external URLs, containers, else embedded.
Usage: python benchmarks/sessions_kpis.py [--mentorships 5000] [--sessions 50000] [--repeat 3]
       [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.sessions import SessionFormat
from services.runtime.clock import to_millis
from services.runtime.log import configure_logging
from services.runtime.mongo import connect
from services.sessions.domain import (
    Feedback,
    Mentorship,
    MentorshipStatus,
    Plan,
    Session,
    SessionStatus,
)
from services.sessions.kpis import TOP_TOPICS, Figures, Kpis, kpis_of, recount
from services.sessions.store import SessionsStore
from services.stack.infra import open_infra

TENANT, COHORT = "bu-bench", "coh-bench"
DEPARTMENTS = ("IT", "Sales", "Finance", "HR", "Operations", "Marketing", "Legal")
TOPICS = ("genai", "prompting", "social-media", "negotiation", "strategy", "budgeting",
          "collaboration-tools", "data-literacy", "leadership", "stakeholders", "excel", "ai-act")
CADENCE = timedelta(days=30)
TARGET = 6


def generate(mentorships: int, sessions: int, now: datetime, seed: int
             ) -> tuple[list[Mentorship], list[Session]]:
    """A cohort whose states obey the service's rules (an active mentorship is below target)."""
    rng = random.Random(seed)
    pairs, meetings = [], []
    for i in range(mentorships):
        m = Mentorship(f"pair-{i:06d}", TENANT, COHORT, f"m-{i}", f"e-{i}",
                       to_millis(now - timedelta(days=rng.randint(1, 200))), TARGET,
                       departments={"mentor": rng.choice(DEPARTMENTS),
                                    "mentee": rng.choice(DEPARTMENTS)})
        for n in range(sessions // mentorships + (i < sessions % mentorships)):
            state = rng.choices(list(SessionStatus), weights=(3, 5, 2))[0]
            starts = to_millis(m.confirmed_at + timedelta(days=7 * n))
            s = Session(f"sess-{i:06d}-{n:03d}", TENANT, COHORT, m.pair_id, m.mentor_id,
                        m.mentee_id, n + 1, Plan(starts, 60, SessionFormat.VIDEO,
                                                 video_link="https://meet.example.com/b"),
                        status=state)
            if state is SessionStatus.HELD:
                s.held_at = starts
                m.sessions_held += 1
                s.mentor_feedback, s.mentee_feedback = (
                    Feedback(rng.randint(1, 5), rng.random() < 0.7,
                             tuple(rng.sample(TOPICS, rng.randint(1, 3))), starts)
                    for _ in range(2))
            m.sessions_planned += 1
            meetings.append(s)
        m.status = (MentorshipStatus.COMPLETED if m.sessions_held >= TARGET else
                    MentorshipStatus.ENDED_EARLY if rng.random() < 0.1 else
                    MentorshipStatus.ACTIVE)
        pairs.append(m)
    return pairs, meetings


def _count(condition: dict[str, Any]) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def mentorship_pipeline(now: datetime) -> list[dict[str, Any]]:
    due = {"$min": ["$session_target", {"$floor": {"$divide": [
        {"$subtract": [now, "$confirmed_at"]}, CADENCE.total_seconds() * 1000]}}]}
    return [
        {"$match": {"tenant_id": TENANT, "cohort_id": COHORT}},
        {"$group": {
            "_id": None, "confirmed": {"$sum": 1},
            **{s.value: _count({"$eq": ["$status", s.value]}) for s in MentorshipStatus},
            "on_track": _count({"$and": [{"$eq": ["$status", "active"]},
                                         {"$gte": ["$sessions_held", due]}]}),
            "cross": _count({"$eq": ["$cross_department", True]}),
            "known": _count({"$in": ["$cross_department", [True, False]]}),
        }},
    ]


def session_pipeline() -> list[dict[str, Any]]:
    def learned(side: str) -> list[dict[str, Any]]:
        topics = f"${side}_feedback.topics"
        return [{"$match": {f"{side}_feedback.learned_something": True}}, {"$unwind": topics},
                {"$group": {"_id": topics, "n": {"$sum": 1}}},
                {"$sort": {"n": -1, "_id": 1}}, {"$limit": TOP_TOPICS}]

    states = {"upcoming": "scheduled", "held": "held", "cancelled": "cancelled"}
    return [
        {"$match": {"tenant_id": TENANT, "cohort_id": COHORT}},
        {"$facet": {
            "counts": [{"$group": {
                "_id": None, "scheduled": {"$sum": 1},
                **{k: _count({"$eq": ["$status", v]}) for k, v in states.items()},
                **{f"{side}_{k}": {"$sum": value} for side in ("mentor", "mentee")
                   for k, value in (("sum", f"${side}_feedback.rating"),
                                    ("count", {"$cond": [
                                        {"$gt": [f"${side}_feedback.rating", 0]}, 1, 0]}))},
            }}],
            "mentee": learned("mentee"), "mentor": learned("mentor"),
        }},
    ]


async def by_pipelines(store: SessionsStore, now: datetime) -> Kpis:
    m = await anext(aiter(await store.mentorships.aggregate(mentorship_pipeline(now))))
    s = await anext(aiter(await store.sessions.aggregate(session_pipeline())))
    counted: Figures = Counter({("mentorships", k): m[k] for k in
                                ("confirmed", "active", "completed", "ended_early", "cross",
                                 "known")})
    counts = s["counts"][0]
    counted.update({("sessions", k): counts[k] for k in
                    ("scheduled", "upcoming", "held", "cancelled")})
    counted.update({("ratings", k): counts[k] for k in
                    ("mentor_sum", "mentor_count", "mentee_sum", "mentee_count")})
    learned = {side: [(t["_id"], t["n"]) for t in s[side]] for side in ("mentor", "mentee")}
    return kpis_of(TENANT, COHORT, now, counted, m["on_track"], learned)


async def timed(repeat: int, work: Callable[[], Awaitable[Kpis]]) -> tuple[float, Kpis]:
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await work()
        seconds.append(time.perf_counter() - started)
    assert result is not None
    return statistics.median(seconds), result


async def measure(infra: Any, mentorships: int, sessions: int, repeat: int, seed: int
                  ) -> dict[str, Any]:
    client = connect(infra.mongodb_uri, app_name="bench-sessions-kpis")
    db = client[f"sessions_bench_{uuid.uuid4().hex[:8]}"]
    store = SessionsStore(db)
    await store.ensure_indexes()
    now = to_millis(datetime.now(UTC))
    pairs, meetings = generate(mentorships, sessions, now, seed)
    started = time.perf_counter()
    for m in pairs:
        await store.add_mentorship(m, None)
    for start in range(0, len(meetings), 1000):
        await store.save_sessions(meetings[start:start + 1000], None)
    setup_s = time.perf_counter() - started

    async def baseline() -> Kpis:
        return recount(TENANT, COHORT, now, CADENCE,
                       await store.mentorships_of(TENANT, cohort_id=COHORT),
                       await store.sessions_of_cohort(TENANT, COHORT))

    try:
        counters_s, by_counters = await timed(repeat, lambda: store.kpis(TENANT, COHORT, now,
                                                                         CADENCE))
        pipelines_s, by_pipeline = await timed(repeat, lambda: by_pipelines(store, now))
        baseline_s, by_python = await timed(repeat, baseline)
        assert by_counters == by_pipeline == by_python, (by_counters, by_pipeline, by_python)
    finally:
        await client.drop_database(db.name)
        await client.close()
    return {
        "mentorships": mentorships, "sessions": sessions, "repeat": repeat,
        "setup_through_store_s": round(setup_s, 2),
        "counters_read_median_s": round(counters_s, 4),
        "pipelines_read_median_s": round(pipelines_s, 4),
        "baseline_load_into_python_median_s": round(baseline_s, 4),
        "counters_speedup_vs_baseline": round(baseline_s / counters_s, 1),
        "pipelines_speedup_vs_baseline": round(baseline_s / pipelines_s, 2),
        "sessions_held": by_counters.sessions.held,
        "same_figures": True,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentorships", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("bench", level="WARNING")
    with open_infra() as tier:  # the tests' rule: external, containers, else embedded
        result = asyncio.run(measure(tier.infra, args.mentorships, args.sessions, args.repeat,
                                     args.seed))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:36} {value}")


if __name__ == "__main__":
    main()
