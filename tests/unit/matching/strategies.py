"""Cohorts, people and policies for the engine's tests: one place, shared by every test module.

Policies are the cohort's contract (`contracts.policy.MatchingPolicy`), the one the engine
takes. The engine tests were written against values that differ from the contract's defaults
(level gap 1, time-zone gap 4 h, weights 0.45/0.15/0.10/0.15/0.15); `cohort_policy` states them, so
each test says exactly which rules it runs under, and `weighted` builds a policy in which only
the named factors count.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from contracts.enrolment import PreferredFormat
from contracts.policy import CrossDepartment, MatchingPolicy, Objective, ScoringWeights
from services.matching.engine import (
    FACTORS,
    Candidate,
    MatchResult,
    SearchBudget,
    assignment,
    match,
)
from services.matching.engine.encoding import goal_terms

Cohort = tuple[list[Candidate], list[Candidate], set[tuple[str, str]]]

DEPARTMENTS = ("finance", "hr", "it")
TOPICS = ("ai", "video", "social", "data", "leadership")
LANGUAGES = ("en", "de", "fr")
OFFSETS = (-5.0, 0.0, 1.0, 2.5, 8.0)
PHRASES = ("learn ai tools", "grow my network", "lead teams", "social media", "data skills")
FORMATS = tuple(PreferredFormat)
WORDS = "ai video social data cloud leadership budget network strategy coaching trust".split()

TEST_WEIGHTS = ScoringWeights(
    topic_fit=0.45, reverse_topic_fit=0.15, format=0.10, cross_department=0.15, goal_similarity=0.15
)
PRUNED = SearchBudget(exact_pairs=0, per_mentee=2, per_mentor=1, block_cells=8)
SEARCHES = {"complete": SearchBudget(), "pruned": PRUNED}
CHECKS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cohort_policy(**changes: Any) -> MatchingPolicy:
    """The rules the engine tests assume unless they say otherwise: level gap 1, time-zone gap
    4 h, department mixing preferred, reporting lines excluded, TEST_WEIGHTS."""
    rules: dict[str, Any] = {
        "min_level_gap": 1,
        "max_timezone_gap_hours": 4.0,
        "weights": TEST_WEIGHTS,
        **changes,
    }
    return MatchingPolicy.model_validate(rules)


def weighted(**weights: float) -> MatchingPolicy:
    """`cohort_policy()` in which only the named factors count (every other weight is 0)."""
    zero = dict.fromkeys((f.value for f in FACTORS), 0.0)
    return cohort_policy(weights=ScoringWeights(**{**zero, **weights}))


def person(pid: str, level: int, **overrides: Any) -> Candidate:
    """An English-speaking 'it' person at UTC+0 with no topics and no goals, unless overridden."""
    base = Candidate(
        participant_id=pid,
        department="it",
        manager_chain=(),
        level=level,
        topics_offered=frozenset(),
        topics_wanted=frozenset(),
        languages=frozenset({"en"}),
        utc_offset_hours=0.0,
    )
    return replace(base, **overrides)


def random_cohort(n_mentors: int, n_mentees: int, seed: int) -> Cohort:
    """A small cohort with every kind of clash: seniority, language, time zone, department,
    reporting lines across the two groups, one person enrolled on both sides, declines."""
    rng = random.Random(seed)
    mentor_ids = [f"m{i}" for i in range(n_mentors)]
    mentee_ids = [f"e{i}" for i in range(n_mentees)]
    if mentor_ids and mentee_ids and rng.random() < 0.3:
        mentee_ids[0] = mentor_ids[0]  # the same person on both sides
    everyone = [*mentor_ids, *mentee_ids, "ceo"]

    def some(options: tuple[str, ...], most: int) -> frozenset[str]:
        return frozenset(rng.sample(options, rng.randint(0, most)))

    def one(pid: str) -> Candidate:
        chain = rng.sample(everyone, rng.randint(0, 2))
        return Candidate(
            participant_id=pid,
            department=rng.choice(DEPARTMENTS),
            manager_chain=tuple(c for c in chain if c != pid),
            level=rng.randint(1, 6),
            topics_offered=some(TOPICS, 3),
            topics_wanted=some(TOPICS, 3),
            languages=some(LANGUAGES, 2) if rng.random() < 0.9 else frozenset(),
            utc_offset_hours=rng.choice(OFFSETS),
            format=rng.choice(FORMATS),
            goals=" ".join(rng.choices(PHRASES, k=rng.randint(0, 3))),
        )

    mentors = [one(pid) for pid in mentor_ids]
    mentees = [one(pid) for pid in mentee_ids]
    declined = {
        (rng.choice(mentor_ids), rng.choice(mentee_ids))
        for _ in range(rng.randint(0, 6) if mentor_ids and mentee_ids else 0)
    }
    return mentors, mentees, declined


def cohorts(max_side: int = 7) -> st.SearchStrategy[Cohort]:
    """Hypothesis draws the sizes and a seed (cheap, and it still shrinks the sizes)."""
    side = st.integers(0, max_side)
    return st.builds(random_cohort, side, side, st.integers(0, 2**32 - 1))


@st.composite
def policies(draw: st.DrawFn) -> MatchingPolicy:
    return MatchingPolicy(
        mentor_capacity=draw(st.integers(1, 3)),
        min_level_gap=draw(st.integers(0, 2)),
        cross_department=draw(st.sampled_from(tuple(CrossDepartment))),
        max_timezone_gap_hours=draw(st.sampled_from((0.0, 1.0, 3.0, 24.0))),
        exclude_reporting_line=draw(st.booleans()),
        weights=ScoringWeights(**{f: draw(st.sampled_from((0.0, 0.25, 1.0))) for f in FACTORS}),
        objective=draw(st.sampled_from(tuple(Objective))),
    )


def enterprise_cohort(n_mentors: int, n_mentees: int, seed: int) -> Cohort:
    """A seeded cohort shaped like the benchmark's: junior mentors, senior mentees, popular
    topics, mostly English, clustered time zones, a few reporting lines and declines."""
    rng = np.random.default_rng(seed)
    topics = [f"topic-{i}" for i in range(20)]
    popular = 1.0 / np.arange(1, 21)
    popular /= popular.sum()

    def one(pid: str, levels: tuple[int, int], boss: str) -> Candidate:
        return Candidate(
            participant_id=pid,
            department=f"dept-{rng.integers(8)}",
            manager_chain=(boss,) if rng.random() < 0.1 else (),
            level=int(rng.integers(*levels)),
            topics_offered=frozenset(rng.choice(topics, rng.integers(1, 5), False, popular)),
            topics_wanted=frozenset(rng.choice(topics, rng.integers(1, 4), False, popular)),
            languages=frozenset({"en", "de"} if rng.random() < 0.3 else {"en"}),
            utc_offset_hours=float(rng.choice([-5.0, 0.0, 1.0, 2.0, 8.0])),
            format=PreferredFormat(str(rng.choice(["in_person", "video", "either"]))),
            goals=" ".join(rng.choice(WORDS, 5)),
        )

    mentors = [one(f"m{i}", (1, 6), f"e{i}") for i in range(n_mentors)]
    mentees = [one(f"e{i}", (4, 11), "ceo") for i in range(n_mentees)]
    declined = {(f"m{rng.integers(n_mentors)}", f"e{rng.integers(n_mentees)}") for _ in range(20)}
    return mentors, mentees, declined


def allowed(
    m: Candidate, e: Candidate, policy: MatchingPolicy, declined: set[tuple[str, str]]
) -> bool:
    """Every hard rule, written out independently of the engine."""
    return (
        m.level <= e.level - policy.min_level_gap
        and bool(m.languages & e.languages)
        and abs(m.utc_offset_hours - e.utc_offset_hours) <= policy.max_timezone_gap_hours
        and m.participant_id != e.participant_id
        and not (
            policy.exclude_reporting_line
            and (m.participant_id in e.manager_chain or e.participant_id in m.manager_chain)
        )
        and not (policy.cross_department == "required" and m.department == e.department)
        and (m.participant_id, e.participant_id) not in declined
    )


def reference_score(m: Candidate, e: Candidate, policy: MatchingPolicy) -> float:
    """The documented score formula, written out independently of the engine."""
    a, b = goal_terms(m.goals), goal_terms(e.goals)
    factors = {
        "topic_fit": len(m.topics_offered & e.topics_wanted) / max(len(e.topics_wanted), 1),
        "reverse_topic_fit": len(e.topics_offered & m.topics_wanted) / max(len(m.topics_wanted), 1),
        "format": 0.0 if {m.format, e.format} == {"in_person", "video"} else 1.0,
        "cross_department": float(m.department != e.department)
        if policy.cross_department == "preferred"
        else 0.0,
        "goal_similarity": len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0,
    }
    return sum(getattr(policy.weights, f) * v for f, v in factors.items())


@contextmanager
def search(name: str) -> Iterator[SearchBudget]:
    """The budget of a search regime; 'pruned' also forces the auction on tiny regions."""
    if name == "pruned":
        with mock.patch.object(assignment, "AUCTION_FROM_BIDDERS", 1):
            yield PRUNED
    else:
        yield SEARCHES[name]


def run(cohort: Cohort, policy: MatchingPolicy, regime: str) -> MatchResult:
    mentors, mentees, declined = cohort
    with search(regime) as budget:
        return match(mentors, mentees, policy, declined=declined, budget=budget)
