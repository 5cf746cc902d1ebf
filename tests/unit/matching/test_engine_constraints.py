"""Hard rules of the matching engine, checked on random small cohorts by plain Python.

Each property runs on both search regimes: 'complete' (every feasible pair reaches the
solver, as for small cohorts) and 'pruned' (the large-cohort path: top-k screening in tiny
blocks, structural decomposition, auction), so the scale path is held to the same rules.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching import assignment
from services.matching.engine import (
    FACTORS,
    Candidate,
    FixedPairError,
    Format,
    MatchingPolicy,
    MatchResult,
    SearchBudget,
    match,
)

DEPARTMENTS = ("finance", "hr", "it")
TOPICS = ("ai", "video", "social", "data", "leadership")
LANGUAGES = ("en", "de", "fr")
OFFSETS = (-5.0, 0.0, 1.0, 2.5, 8.0)
PHRASES = ("learn ai tools", "grow my network", "lead teams", "social media", "data skills")
FORMATS: tuple[Format, ...] = ("in_person", "video", "either")

PRUNED = SearchBudget(complete_pairs=0, per_mentee=2, per_mentor=1, block_cells=8)
SEARCHES = {"complete": SearchBudget(), "pruned": PRUNED}
CHECKS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Cohort = tuple[list[Candidate], list[Candidate], set[tuple[str, str]]]


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

    def person(pid: str) -> Candidate:
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

    mentors = [person(pid) for pid in mentor_ids]
    mentees = [person(pid) for pid in mentee_ids]
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
        cross_department=draw(st.sampled_from(("required", "preferred", "ignored"))),
        max_timezone_gap_hours=draw(st.sampled_from((0.0, 1.0, 3.0, 24.0))),
        exclude_reporting_line=draw(st.booleans()),
        weights={f: draw(st.sampled_from((0.0, 0.25, 1.0))) for f in FACTORS},
        objective=draw(st.sampled_from(("max_score", "max_matched"))),
    )


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


def people(cohort: Cohort) -> tuple[dict[str, Candidate], dict[str, Candidate]]:
    mentors, mentees, _ = cohort
    return {c.participant_id: c for c in mentors}, {c.participant_id: c for c in mentees}


REGIMES = pytest.mark.parametrize("regime", ["complete", "pruned"])


@REGIMES
@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_mentor_is_never_more_senior_than_mentee_minus_gap(
    regime: str, cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentor, mentee = people(cohort)
    for p in run(cohort, policy, regime).pairs:
        assert mentor[p.mentor_id].level <= mentee[p.mentee_id].level - policy.min_level_gap


@REGIMES
@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_every_pair_shares_a_language(regime: str, cohort: Cohort, policy: MatchingPolicy) -> None:
    mentor, mentee = people(cohort)
    for p in run(cohort, policy, regime).pairs:
        assert mentor[p.mentor_id].languages & mentee[p.mentee_id].languages


@REGIMES
@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_time_zone_gap_never_exceeds_the_policy(
    regime: str, cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentor, mentee = people(cohort)
    for p in run(cohort, policy, regime).pairs:
        gap = abs(mentor[p.mentor_id].utc_offset_hours - mentee[p.mentee_id].utc_offset_hours)
        assert gap <= policy.max_timezone_gap_hours


@REGIMES
@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_nobody_is_paired_within_their_reporting_line(
    regime: str, cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentor, mentee = people(cohort)
    for p in run(cohort, policy, regime).pairs:
        assert p.mentor_id != p.mentee_id
        if policy.exclude_reporting_line:
            assert p.mentor_id not in mentee[p.mentee_id].manager_chain
            assert p.mentee_id not in mentor[p.mentor_id].manager_chain


@REGIMES
@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_departments_differ_when_cross_department_is_required(
    regime: str, cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentor, mentee = people(cohort)
    for p in run(cohort, policy, regime).pairs:
        if policy.cross_department == "required":
            assert mentor[p.mentor_id].department != mentee[p.mentee_id].department


@REGIMES
@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_mentor_capacity_and_one_mentor_per_mentee_hold(
    regime: str, cohort: Cohort, policy: MatchingPolicy
) -> None:
    result = run(cohort, policy, regime)
    assert max(Counter(p.mentor_id for p in result.pairs).values(), default=0) <= (
        policy.mentor_capacity
    )
    assert max(Counter(p.mentee_id for p in result.pairs).values(), default=0) <= 1


@REGIMES
@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_declined_pair_is_never_proposed_again(
    regime: str, cohort: Cohort, policy: MatchingPolicy
) -> None:
    declined = cohort[2]
    for p in run(cohort, policy, regime).pairs:
        assert (p.mentor_id, p.mentee_id) not in declined


@CHECKS
@given(cohort=cohorts(), policy=policies(), data=st.data())
def test_locked_pairs_are_kept_and_use_mentor_capacity(
    cohort: Cohort, policy: MatchingPolicy, data: st.DataObject
) -> None:
    mentors, mentees, declined = cohort
    free = match(mentors, mentees, policy, declined=declined)
    chosen = (
        data.draw(st.sets(st.integers(0, len(free.pairs) - 1), max_size=3)) if free.pairs else set()
    )
    fixed = [(free.pairs[i].mentor_id, free.pairs[i].mentee_id) for i in sorted(chosen)]
    result = match(mentors, mentees, policy, declined=declined, fixed=fixed)
    proposed = {(p.mentor_id, p.mentee_id): p for p in result.pairs}
    for pair in fixed:
        assert proposed[pair].locked
    assert sum(p.locked for p in result.pairs) == len(fixed) == result.stats.locked_pairs
    assert max(Counter(p.mentor_id for p in result.pairs).values(), default=0) <= (
        policy.mentor_capacity
    )


def _person(pid: str, level: int, **overrides: object) -> Candidate:
    fields: dict[str, object] = {
        "participant_id": pid,
        "department": "it",
        "manager_chain": (),
        "level": level,
        "topics_offered": frozenset({"ai"}),
        "topics_wanted": frozenset({"ai"}),
        "languages": frozenset({"en"}),
        "utc_offset_hours": 1.0,
        "format": "either",
        "goals": "",
    }
    fields.update(overrides)
    return Candidate(**fields)  # type: ignore[arg-type]


def test_locked_pair_that_breaks_a_hard_rule_is_refused() -> None:
    senior_mentor, junior_mentee = _person("m", 5), _person("e", 2)
    with pytest.raises(FixedPairError, match="hard matching rule"):
        match([senior_mentor], [junior_mentee], MatchingPolicy(), fixed=[("m", "e")])


def test_locked_pair_that_was_declined_is_refused() -> None:
    mentor, mentee = _person("m", 1), _person("e", 5)
    with pytest.raises(FixedPairError):
        match([mentor], [mentee], MatchingPolicy(), declined={("m", "e")}, fixed=[("m", "e")])


def test_locked_pairs_beyond_mentor_capacity_are_refused() -> None:
    mentor, mentees = _person("m", 1), [_person("e1", 5), _person("e2", 5)]
    with pytest.raises(FixedPairError, match="capacity"):
        match([mentor], mentees, MatchingPolicy(), fixed=[("m", "e1"), ("m", "e2")])


def test_locked_pair_naming_an_unknown_person_is_refused() -> None:
    with pytest.raises(FixedPairError, match="unknown"):
        match([_person("m", 1)], [_person("e", 5)], MatchingPolicy(), fixed=[("m", "x")])


def test_duplicate_participant_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        match([_person("m", 1), _person("m", 2)], [_person("e", 5)], MatchingPolicy())


@pytest.mark.parametrize(
    "change",
    [
        {"mentor_capacity": 4},
        {"min_level_gap": -1},
        {"cross_department": "sometimes"},
        {"max_timezone_gap_hours": float("nan")},
        {"weights": {"charisma": 1.0}},
        {"weights": {"topic_fit": -1.0}},
        {"objective": "max_fun"},
    ],
)
def test_invalid_policy_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MatchingPolicy(**change)  # type: ignore[arg-type]


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        _person("m", 1, format="hologram")
