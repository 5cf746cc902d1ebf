"""Optimality of the matching engine: against brute force, the dense exact solver, and on the
large-cohort path against the exact optimum of a realistic cohort."""

from __future__ import annotations

import itertools
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import maximum_bipartite_matching

from contracts.policy import MatchingPolicy, Objective
from services.matching.engine import (
    MatchResult,
    SearchBudget,
    assignment,
    exact_match,
    match,
    scoring,
)
from services.matching.engine.auction import FINE_EPSILON
from services.matching.engine.shortlists import CHUNK, top_k_per_column
from tests.unit.matching.strategies import (
    Cohort,
    allowed,
    cohort_policy,
    cohorts,
    enterprise_cohort,
    person,
    policies,
    reference_score,
)

MAX_SCORE, MAX_MATCHED = Objective.MAX_SCORE, Objective.MAX_MATCHED
CHECKS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def brute_force(cohort: Cohort, policy: MatchingPolicy) -> tuple[int, float]:
    """(pairs, total score) of the best assignment, by trying every assignment."""
    mentors, mentees, declined = cohort
    options = [
        [None] + [i for i, m in enumerate(mentors) if allowed(m, e, policy, declined)]
        for e in mentees
    ]
    best, best_key = (0, 0.0), (-1.0, -1.0)
    for choice in itertools.product(*options):
        used = [c for c in choice if c is not None]
        if any(used.count(i) > policy.mentor_capacity for i in set(used)):
            continue
        score = sum(
            reference_score(mentors[c], mentees[j], policy)
            for j, c in enumerate(choice)
            if c is not None
        )
        key = (len(used), score) if policy.objective == "max_matched" else (0.0, score)
        if key[0] > best_key[0] or (key[0] == best_key[0] and key[1] > best_key[1] + 1e-12):
            best_key, best = key, (len(used), score)
    return best


def objective(result: MatchResult, policy: MatchingPolicy) -> tuple[int, float]:
    if policy.objective == "max_matched":
        return result.stats.pairs, result.stats.total_score
    return 0, result.stats.total_score


@CHECKS
@given(cohort=cohorts(max_side=4), policy=policies())
def test_exact_solver_agrees_with_brute_force_on_tiny_cohorts(
    cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentors, mentees, declined = cohort
    pairs, score = brute_force(cohort, policy)
    result = exact_match(mentors, mentees, policy, declined=declined)
    if policy.objective == "max_matched":
        assert result.stats.pairs == pairs
    assert result.stats.total_score == pytest.approx(score, abs=1e-9)


@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_engine_objective_equals_exact_solver_on_small_cohorts(
    cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentors, mentees, declined = cohort
    engine = match(mentors, mentees, policy, declined=declined)
    exact = exact_match(mentors, mentees, policy, declined=declined)
    assert engine.stats.exact
    got, want = objective(engine, policy), objective(exact, policy)
    assert got[0] == want[0]
    assert got[1] == pytest.approx(want[1], abs=1e-9)


@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_max_matched_pairs_at_least_as_many_people_as_max_score(
    cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentors, mentees, declined = cohort
    scored = match(mentors, mentees, policy, declined=declined, objective=Objective.MAX_SCORE)
    counted = match(mentors, mentees, policy, declined=declined, objective=Objective.MAX_MATCHED)
    assert counted.stats.pairs >= scored.stats.pairs
    assert counted.stats.total_score <= scored.stats.total_score + 1e-9


@pytest.mark.parametrize("auction", [False, True], ids=["jonker_volgenant", "auction"])
@pytest.mark.parametrize("capacity", [1, 2])
def test_pruned_search_stays_near_the_exact_optimum_on_a_realistic_cohort(
    auction: bool, capacity: int
) -> None:
    mentors, mentees, declined = enterprise_cohort(300, 360, seed=11)
    policy = cohort_policy(mentor_capacity=capacity, max_timezone_gap_hours=3.0)
    pruned = SearchBudget(exact_pairs=0)
    with mock.patch.object(assignment, "AUCTION_FROM_BIDDERS", 1 if auction else 10**9):
        result = match(mentors, mentees, policy, declined=declined, budget=pruned)
    best = exact_match(mentors, mentees, policy, declined=declined).stats.total_score
    assert not result.stats.exact
    assert result.stats.total_score >= 0.995 * best


def test_pruned_search_stays_near_the_optimum_with_a_goal_vocabulary_wider_than_the_screen() -> (
    None
):
    mentors, mentees, declined = enterprise_cohort(200, 240, seed=5)
    policy = cohort_policy(max_timezone_gap_hours=3.0)
    with mock.patch.object(scoring, "SCREEN_GOAL_COLUMNS", 4):  # the SVD-projected goal screen
        pruned = SearchBudget(exact_pairs=0)
        result = match(mentors, mentees, policy, declined=declined, budget=pruned)
    best = exact_match(mentors, mentees, policy, declined=declined).stats.total_score
    assert result.stats.total_score >= 0.995 * best


def test_mentor_capacity_above_one_is_used() -> None:
    ai = {"topics_offered": frozenset({"ai"}), "topics_wanted": frozenset({"ai"})}
    seniors = [person(f"e{i}", 8, **ai) for i in range(4)]
    result = match([person("m", 2, **ai)], seniors, cohort_policy(mentor_capacity=3))
    assert result.stats.pairs == 3
    assert [u.reason for u in result.unmatched] == ["capacity_exhausted"]


def test_same_cohort_gives_the_same_proposal() -> None:
    mentors, mentees, declined = enterprise_cohort(120, 150, seed=3)
    policy = cohort_policy(max_timezone_gap_hours=3.0)
    budget = SearchBudget(exact_pairs=0)
    first = match(mentors, mentees, policy, declined=declined, budget=budget)
    again = match(mentors, mentees, policy, declined=declined, budget=budget)
    assert first == again


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 3 * CHUNK * 4),
    columns=st.integers(1, 5),
    k=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_top_k_per_column_returns_the_k_largest_values(
    width: int, columns: int, k: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 50, size=(width, columns)).astype(np.float32)  # with ties
    rows, cols = top_k_per_column(values, k)
    for c in range(columns):
        picked = np.sort(values[rows[cols == c], c])[::-1]
        assert len(set(rows[cols == c].tolist())) == len(picked) == min(k, width)
        assert picked.tolist() == np.sort(values[:, c])[::-1][: min(k, width)].tolist()


@pytest.mark.parametrize("auction", [False, True], ids=["jonker_volgenant", "auction"])
@settings(max_examples=25, deadline=None)
@given(
    n_mentors=st.integers(1, 30),
    n_mentees=st.integers(1, 30),
    degree=st.integers(1, 4),
    capacity=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_large_cohort_assignment_finds_a_maximum_matching_with_near_best_score(
    auction: bool, n_mentors: int, n_mentees: int, degree: int, capacity: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    mentee = np.repeat(np.arange(n_mentees), degree)
    mentor = rng.integers(0, n_mentors, len(mentee))
    keys = np.unique(mentor * n_mentees + mentee)
    mentor, mentee = keys // n_mentees, keys % n_mentees
    score = rng.integers(1, 20, len(mentor)) / 20.0
    cap = np.full(n_mentors, capacity, np.int64)
    with mock.patch.object(assignment, "AUCTION_FROM_BIDDERS", 1 if auction else 10**9):
        m, e, _ = assignment.solve_sparse(cap, mentor, mentee, score, MAX_SCORE, complete=False)
    best_m, best_e, _ = assignment.solve_sparse(cap, mentor, mentee, score, MAX_MATCHED, True)
    assert len(set(e.tolist())) == len(e)
    assert np.bincount(m, minlength=n_mentors).max(initial=0) <= capacity
    lookup = dict(zip(keys.tolist(), score.tolist(), strict=True))
    got = sum(lookup[a * n_mentees + b] for a, b in zip(m.tolist(), e.tolist(), strict=True))
    want = sum(
        lookup[a * n_mentees + b] for a, b in zip(best_m.tolist(), best_e.tolist(), strict=True)
    )
    slots = sp.csr_matrix(
        (
            np.ones(len(mentor) * capacity),
            (np.repeat(mentee, capacity), _slot_of(mentor, capacity)),
        ),
        shape=(n_mentees, n_mentors * capacity),
    )
    assert len(e) == np.count_nonzero(maximum_bipartite_matching(slots, perm_type="column") >= 0)
    assert len(e) == len(best_e)
    assert got >= want - len(e) * FINE_EPSILON * score.max() - 1e-9


def _slot_of(mentor: np.ndarray, capacity: int) -> np.ndarray:
    return (mentor[:, None] * capacity + np.arange(capacity)).ravel()
