"""Hard rules of the matching engine, checked on random small cohorts by plain Python.

Each property runs on both search regimes: 'complete' (every feasible pair reaches the
solver, as for small cohorts) and 'pruned' (the large-cohort path: top-k screening in tiny
blocks, structural decomposition, auction), so the scale path is held to the same rules.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.policy import MatchingPolicy
from services.matching.engine import Candidate, FixedPairError, match
from tests.unit.matching.strategies import (
    CHECKS,
    Cohort,
    cohort_policy,
    cohorts,
    person,
    policies,
    run,
)


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


def test_locked_pair_that_breaks_a_hard_rule_is_refused() -> None:
    senior_mentor, junior_mentee = person("m", 5), person("e", 2)
    with pytest.raises(FixedPairError, match="hard matching rule"):
        match([senior_mentor], [junior_mentee], cohort_policy(), fixed=[("m", "e")])


def test_locked_pair_that_was_declined_is_refused() -> None:
    mentor, mentee = person("m", 1), person("e", 5)
    with pytest.raises(FixedPairError):
        match([mentor], [mentee], cohort_policy(), declined={("m", "e")}, fixed=[("m", "e")])


def test_locked_pairs_beyond_mentor_capacity_are_refused() -> None:
    mentor, mentees = person("m", 1), [person("e1", 5), person("e2", 5)]
    with pytest.raises(FixedPairError, match="capacity"):
        match([mentor], mentees, cohort_policy(), fixed=[("m", "e1"), ("m", "e2")])


def test_locked_pair_naming_an_unknown_person_is_refused() -> None:
    with pytest.raises(FixedPairError, match="unknown"):
        match([person("m", 1)], [person("e", 5)], cohort_policy(), fixed=[("m", "x")])


def test_duplicate_participant_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        match([person("m", 1), person("m", 2)], [person("e", 5)], cohort_policy())


@pytest.mark.parametrize(
    "change",
    [
        {"mentor_capacity": 4},
        {"min_level_gap": -1},
        {"cross_department": "sometimes"},
        {"max_timezone_gap_hours": float("nan")},
        {"max_timezone_gap_hours": float("inf")},
        {"weights": {"topic_fit": -1.0}},
        {"weights": {"topic_fit": float("inf")}},
        {"weights": {"goal_similarity": float("nan")}},
        {"objective": "max_fun"},
    ],
)
def test_invalid_policy_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MatchingPolicy.model_validate(change)


def test_weight_of_an_unknown_factor_is_never_scored() -> None:
    """The contract ignores fields it does not know (a newer producer may add a factor), so an
    unknown weight cannot reach the score: it is not one of the five factors."""
    with_unknown = MatchingPolicy.model_validate({"weights": {"charisma": 100.0}})
    assert with_unknown == MatchingPolicy()


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        person("m", 1, format="hologram")
