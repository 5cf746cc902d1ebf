"""Cohort shapes that stress the matching engine, generated independently of the default cohort.

Each profile is a cohort generator and the policy it runs under. They reproduce what an
operations-research review found (issue 10) and stay as benchmark scenarios:

* continuous-tz: every person has their own UTC offset, never a whole or quarter hour (remote
  staff, offsets drawn from a continuum). This once stalled scipy's sparse solver for minutes.
* few-topics: three topics, no goal texts, one language: nearly every pair scores the same, so
  the optimum is a sea of ties.
* declined-heavy: a second round: every mentee has already declined the mentors closest to them
  (same site, shared topics), and the time-zone rule is tight, so most pairs are infeasible.
* tight-rules: many languages, each person speaking one or two, and a one-hour time-zone gap:
  only a small share of the mentor x mentee pairs is feasible.
* wide-vocabulary: 1,500 topics and rich goal texts from 4,000 words, weighted heavily on goal
  similarity: shortlists must rank on a score the screen can only approximate.
* nobody-feasible: every mentor is more senior than every mentee, reporting chains are long and
  cross the two groups: the round must find zero pairs, fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from contracts.enrolment import PreferredFormat
from contracts.policy import CrossDepartment, MatchingPolicy, Objective, ScoringWeights
from services.matching.engine import Candidate

Cohort = tuple[list[Candidate], list[Candidate], set[tuple[str, str]]]
FORMATS = tuple(PreferredFormat)


@dataclass(frozen=True)
class Shape:
    """How one profile's people are drawn."""

    topics: int = 30
    offered: tuple[int, int] = (1, 6)  # [lo, hi) topics a person offers
    wanted: tuple[int, int] = (1, 4)
    goal_words: int = 300
    goal_length: tuple[int, int] = (0, 10)
    languages: int = 4  # language i is spoken by a share 0.9 / (i + 1)
    one_language_each: bool = False
    departments: int = 12
    mentor_levels: tuple[int, int] = (1, 6)
    mentee_levels: tuple[int, int] = (4, 11)
    continuous_tz: bool = False
    chain: tuple[int, int] = (0, 3)
    declined_per_mentee: int = 0


def _zipf(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def _offsets(rng: np.random.Generator, n: int, continuous: bool) -> np.ndarray:
    sites = np.array([-8.0, -5.0, 0.0, 1.0, 2.0, 5.5, 8.0, 9.0])
    base = sites[rng.choice(len(sites), n, p=_zipf(len(sites), 0.7))]
    if not continuous:
        return base
    # never a whole or quarter hour: a continuum around each site
    return np.round(base + rng.normal(0.0, 1.2, n), 4) + 0.0007


def people(shape: Shape, n_mentors: int, n_mentees: int, seed: int) -> Cohort:
    rng = np.random.default_rng(seed)
    topics = np.array([f"t{i}" for i in range(shape.topics)])
    words = np.array([f"w{i}" for i in range(shape.goal_words)])
    topic_p, word_p = _zipf(shape.topics, 0.9), _zipf(shape.goal_words, 0.6)
    languages = [f"l{i}" for i in range(shape.languages)]
    n = n_mentors + n_mentees
    ids = [f"r{i}" for i in range(n_mentors)] + [f"s{i}" for i in range(n_mentees)]
    tz = _offsets(rng, n, shape.continuous_tz)
    departments = rng.choice(shape.departments, n, p=_zipf(shape.departments, 0.5))
    fmt = rng.choice(len(FORMATS), n, p=[0.25, 0.3, 0.45])

    def draw(lo_hi: tuple[int, int], pool: np.ndarray, p: np.ndarray) -> frozenset[str]:
        k = min(int(rng.integers(*lo_hi)), len(pool))
        return frozenset(str(x) for x in rng.choice(pool, k, replace=False, p=p))

    def spoken() -> frozenset[str]:
        if shape.one_language_each:
            first = int(rng.choice(shape.languages, p=_zipf(shape.languages, 0.4)))
            extra = {languages[(first + 1) % shape.languages]} if rng.random() < 0.2 else set()
            return frozenset({languages[first], *extra})
        return frozenset(x for i, x in enumerate(languages) if rng.random() < 0.9 / (i + 1)) or (
            frozenset({languages[0]})
        )

    def chain(i: int) -> tuple[str, ...]:
        length = int(rng.integers(*shape.chain))
        return tuple(ids[j] for j in rng.choice(n, length, replace=False) if j != i)

    out: list[Candidate] = []
    for i in range(n):
        mentor = i < n_mentors
        levels = shape.mentor_levels if mentor else shape.mentee_levels
        goal = " ".join(rng.choice(words, int(rng.integers(*shape.goal_length)), p=word_p))
        out.append(
            Candidate(
                participant_id=ids[i],
                department=f"d{departments[i]}",
                manager_chain=chain(i),
                level=int(rng.integers(*levels)),
                topics_offered=draw(shape.offered, topics, topic_p),
                topics_wanted=draw(shape.wanted, topics, topic_p),
                languages=spoken(),
                utc_offset_hours=float(tz[i]),
                format=FORMATS[fmt[i]],
                goals=goal,
            )
        )
    mentors, mentees = out[:n_mentors], out[n_mentors:]
    return mentors, mentees, _declines(shape, mentors, mentees, rng)


def _declines(
    shape: Shape, mentors: list[Candidate], mentees: list[Candidate], rng: np.random.Generator
) -> set[tuple[str, str]]:
    """Each mentee declined mentors close to them: same site (within 1 h), a shared topic."""
    if not shape.declined_per_mentee or not mentors:
        return set()
    tz = np.array([m.utc_offset_hours for m in mentors])
    order = np.argsort(tz)
    declined: set[tuple[str, str]] = set()
    for e in mentees:
        lo, hi = np.searchsorted(tz[order], [e.utc_offset_hours - 1, e.utc_offset_hours + 1])
        near = order[lo:hi]
        fits = [j for j in near.tolist() if mentors[j].topics_offered & e.topics_wanted]
        k = min(shape.declined_per_mentee, len(fits))
        for j in rng.choice(len(fits), k, replace=False).tolist() if k else []:
            declined.add((mentors[fits[j]].participant_id, e.participant_id))
    return declined


WEIGHTS = ScoringWeights(
    topic_fit=1.0, reverse_topic_fit=0.4, format=0.2, cross_department=0.3, goal_similarity=0.2
)


@dataclass(frozen=True)
class Profile:
    shape: Shape
    policy: MatchingPolicy


def _policy(**changes: object) -> MatchingPolicy:
    rules: dict[str, object] = {
        "min_level_gap": 1,
        "max_timezone_gap_hours": 3.0,
        "cross_department": CrossDepartment.PREFERRED,
        "weights": WEIGHTS,
        **changes,
    }
    return MatchingPolicy.model_validate(rules)


PROFILES: dict[str, Profile] = {
    "continuous-tz": Profile(Shape(continuous_tz=True), _policy()),
    "few-topics": Profile(
        Shape(topics=3, offered=(1, 3), wanted=(1, 2), goal_length=(0, 1), languages=1),
        _policy(),
    ),
    "declined-heavy": Profile(
        Shape(declined_per_mentee=40, languages=6, one_language_each=True),
        _policy(max_timezone_gap_hours=1.5),
    ),
    "tight-rules": Profile(
        Shape(languages=8, one_language_each=True, continuous_tz=True),
        _policy(max_timezone_gap_hours=1.0, cross_department=CrossDepartment.REQUIRED),
    ),
    "wide-vocabulary": Profile(
        Shape(topics=1500, offered=(3, 12), wanted=(2, 8), goal_words=4000, goal_length=(8, 30)),
        _policy(
            weights=ScoringWeights(
                topic_fit=0.5,
                reverse_topic_fit=0.2,
                format=0.1,
                cross_department=0.1,
                goal_similarity=1.5,
            )
        ),
    ),
    "nobody-feasible": Profile(
        Shape(mentor_levels=(7, 11), mentee_levels=(1, 5), chain=(10, 25)),
        _policy(),
    ),
}


def generator(name: str) -> Callable[[int, int, int], Cohort]:
    shape = PROFILES[name].shape
    return lambda n_mentors, n_mentees, seed: people(shape, n_mentors, n_mentees, seed)


def policy(name: str, capacity: int, objective: Objective) -> MatchingPolicy:
    rules = {**PROFILES[name].policy.model_dump(), "mentor_capacity": capacity}
    return MatchingPolicy.model_validate({**rules, "objective": objective})
