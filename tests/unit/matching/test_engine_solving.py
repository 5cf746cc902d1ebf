"""Bounded solving: grid costs, no square inputs, budgets that fall back, exactness by the
number of feasible pairs. Properties only; speed is measured in benchmarks/matching.py."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.policy import MatchingPolicy, Objective
from services.matching.engine import (
    SearchBudget,
    SolverBudget,
    exact_match,
    match,
    max_score,
    solvers,
)
from services.matching.engine.assignment import solve_sparse
from services.matching.engine.pricing import duals, value_of
from tests.unit.matching.strategies import (
    CHECKS,
    PRUNED,
    Cohort,
    allowed,
    cohort_policy,
    cohorts,
    enterprise_cohort,
    policies,
)

STARVED = SolverBudget(sparse_cells=0, auction_rounds=1)


@pytest.fixture
def sparse_inputs() -> Iterator[list[sp.csr_matrix]]:
    """Every matrix handed to scipy's sparse solver during the test."""
    seen: list[sp.csr_matrix] = []
    real = solvers.min_weight_full_bipartite_matching

    def spy(matrix: sp.csr_matrix, *args: Any, **kwargs: Any) -> Any:
        seen.append(matrix.copy())
        return real(matrix, *args, **kwargs)

    with mock.patch.object(solvers, "min_weight_full_bipartite_matching", spy):
        yield seen


def continuous_time_zones(cohort: Cohort, seed: int) -> Cohort:
    """Every person their own UTC offset, never a whole or quarter hour."""
    rng = np.random.default_rng(seed)
    mentors, mentees, declined = cohort

    def shift(people: list[Any]) -> list[Any]:
        jitter = rng.uniform(-0.49, 0.49, len(people)) + 0.0007
        moved = zip(people, jitter.tolist(), strict=True)
        return [replace(p, utc_offset_hours=p.utc_offset_hours + j) for p, j in moved]

    return shift(mentors), shift(mentees), declined


@pytest.mark.parametrize("budget", [SearchBudget(), PRUNED], ids=["complete", "pruned"])
def test_sparse_solver_gets_integer_costs_and_never_a_square_matrix(
    budget: SearchBudget, sparse_inputs: list[sp.csr_matrix]
) -> None:
    mentors, mentees, declined = continuous_time_zones(enterprise_cohort(60, 60, seed=2), 2)
    match(mentors, mentees, cohort_policy(), declined=declined, budget=budget)
    assert sparse_inputs
    for matrix in sparse_inputs:
        assert matrix.shape[0] != matrix.shape[1]
        assert np.array_equal(matrix.data, np.rint(matrix.data))
        assert matrix.data.min() >= 1.0 and matrix.data.max() < 2.0**53


def test_continuous_time_zone_cohort_is_solved_exactly_on_the_grid(
    sparse_inputs: list[sp.csr_matrix],
) -> None:
    """The shape that stalled scipy's solver for minutes: 400 x 400, every offset its own."""
    mentors, mentees, declined = continuous_time_zones(enterprise_cohort(400, 400, seed=9), 9)
    policy = cohort_policy(max_timezone_gap_hours=3.0)
    result = match(mentors, mentees, policy, declined=declined)
    best = exact_match(mentors, mentees, policy, declined=declined)
    assert result.stats.exact and result.stats.solver_fallbacks == 0
    assert result.stats.total_score == pytest.approx(best.stats.total_score, rel=1e-9)
    assert all(m.shape[0] != m.shape[1] for m in sparse_inputs)


def _price_war(n_slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n_slots + 1 mentees all wanting the same n_slots slots, scores a hair apart: the
    auction's worst case (prices rise by tiny steps)."""
    mentee = np.repeat(np.arange(n_slots + 1), n_slots)
    mentor = np.tile(np.arange(n_slots), n_slots + 1)
    score = 0.5 + 1e-9 * np.arange(len(mentor)) % 7
    return mentor, mentee, score


def _total(
    m: np.ndarray, e: np.ndarray, mentor: np.ndarray, mentee: np.ndarray, score: np.ndarray
) -> float:
    pairs = zip(mentor.tolist(), mentee.tolist(), score.tolist(), strict=True)
    lookup = {(a, b): s for a, b, s in pairs}
    return sum(lookup[(a, b)] for a, b in zip(m.tolist(), e.tolist(), strict=True))


def test_auction_out_of_rounds_falls_back_to_the_dense_optimum(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mentor, mentee, score = _price_war(30)
    capacity = np.ones(30, np.int64)
    log = solvers.SolverLog()
    with caplog.at_level(logging.WARNING, logger="services.matching.engine"):
        m, e, exact = solve_sparse(
            capacity, mentor, mentee, score, Objective.MAX_SCORE, False, STARVED, log
        )
    best_m, best_e, _ = solve_sparse(capacity, mentor, mentee, score, Objective.MAX_MATCHED, True)
    assert not exact
    assert log.fallbacks == 1 and log.solves == Counter({"dense": 1})
    assert [r.getMessage() for r in caplog.records] == ["matching solver budget exhausted"]
    assert len(e) == len(set(e.tolist())) == 30
    assert _total(m, e, mentor, mentee, score) == pytest.approx(
        _total(best_m, best_e, mentor, mentee, score), abs=1e-12
    )


def test_auction_out_of_rounds_without_room_for_dense_completes_greedily() -> None:
    mentor, mentee, score = _price_war(30)
    capacity = np.ones(30, np.int64)
    log = solvers.SolverLog()
    starved = SolverBudget(sparse_cells=0, auction_rounds=1, dense_cells=0)
    m, e, _ = solve_sparse(
        capacity, mentor, mentee, score, Objective.MAX_SCORE, False, starved, log
    )
    assert log.fallbacks == 1 and log.solves == Counter({"greedy": 1})
    assert len(e) == len(set(e.tolist())) == 30
    assert len(m) == len(set(m.tolist()))


@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_every_rule_holds_when_every_solver_budget_runs_out(
    cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentors, mentees, declined = cohort
    result = match(
        mentors, mentees, policy, declined=declined, budget=PRUNED, solver_budget=STARVED
    )
    mentor = {c.participant_id: c for c in mentors}
    mentee = {c.participant_id: c for c in mentees}
    for p in result.pairs:
        assert allowed(mentor[p.mentor_id], mentee[p.mentee_id], policy, declined)
    assert max(Counter(p.mentor_id for p in result.pairs).values(), default=0) <= (
        policy.mentor_capacity
    )
    assert max(Counter(p.mentee_id for p in result.pairs).values(), default=0) <= 1
    assert result.stats.solver_fallbacks == sum(
        n for solver, n in result.stats.solves.items() if solver in ("dense", "greedy")
    )


@CHECKS
@given(cohort=cohorts(), policy=policies(), room=st.integers(0, 12))
def test_search_is_exact_whenever_the_feasible_pairs_fit_the_budget(
    cohort: Cohort, policy: MatchingPolicy, room: int
) -> None:
    """Exactness is decided by the pairs passing the hard rules, not by mentors x mentees."""
    mentors, mentees, declined = cohort
    feasible = sum(allowed(m, e, policy, declined) for m in mentors for e in mentees)
    budget = SearchBudget(exact_pairs=room, per_mentee=1, per_mentor=1, block_cells=8)
    result = match(mentors, mentees, policy, declined=declined, budget=budget)
    assert result.stats.feasible_pairs == feasible
    assert result.stats.exact == (feasible <= room)
    if result.stats.exact:
        best = exact_match(mentors, mentees, policy, declined=declined)
        if policy.objective == Objective.MAX_MATCHED:
            assert result.stats.pairs == best.stats.pairs
        assert result.stats.total_score == pytest.approx(best.stats.total_score, abs=1e-9)


def test_large_cohort_with_few_feasible_pairs_is_solved_exactly() -> None:
    """A second round after many declines: 120 x 150 = 18,000 pairs, few of them feasible."""
    mentors, mentees, _ = enterprise_cohort(120, 150, seed=4)
    policy = cohort_policy(max_timezone_gap_hours=0.0)
    first = match(mentors, mentees, policy)
    declined = {(p.mentor_id, p.mentee_id) for p in first.pairs}
    budget = SearchBudget(exact_pairs=4_000)
    assert len(mentors) * len(mentees) > budget.exact_pairs
    result = match(mentors, mentees, policy, declined=declined, budget=budget)
    best = exact_match(mentors, mentees, policy, declined=declined)
    assert result.stats.exact
    assert result.stats.feasible_pairs <= budget.exact_pairs
    assert result.stats.total_score == pytest.approx(best.stats.total_score, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    n_mentors=st.integers(1, 12),
    n_mentees=st.integers(1, 12),
    degree=st.integers(1, 5),
    capacity=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_prices_certify_that_an_answer_is_optimal(
    n_mentors: int, n_mentees: int, degree: int, capacity: int, seed: int
) -> None:
    """Dual feasibility, complementary slackness and equal totals: no pair can improve it."""
    rng = np.random.default_rng(seed)
    mentee = np.repeat(np.arange(n_mentees), degree)
    mentor = rng.integers(0, n_mentors, len(mentee))
    keys = np.unique(mentor * n_mentees + mentee)
    mentor, mentee = keys // n_mentees, keys % n_mentees
    value = rng.integers(1, 50, len(mentor)).astype(np.float64)
    cap = np.full(n_mentors, capacity, np.int64)
    m, e, exact = solve_sparse(cap, mentor, mentee, value, Objective.MAX_SCORE, True)
    prices = duals(n_mentors, n_mentees, cap, mentor, mentee, value, m, e)
    assert exact and prices is not None
    y, z = prices
    assert np.all(y >= 0) and np.all(z >= 0)
    assert np.all(y[mentee] + z[mentor] >= value - 1e-9)
    chosen = value_of(m, e, mentor, mentee, value)
    assert np.allclose(y[e] + z[m], chosen)
    assert y.sum() + (z * cap).sum() == pytest.approx(chosen.sum())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pricing_brings_the_shortest_lists_to_the_exact_optimum(seed: int) -> None:
    """Two mentors per mentee lose 1-2 points of score here; priced pairs win them back."""
    mentors, mentees, declined = enterprise_cohort(120, 150, seed)
    policy = cohort_policy(max_timezone_gap_hours=3.0)
    shortest = SearchBudget(exact_pairs=0, per_mentee=2, per_mentor=1)
    best = exact_match(mentors, mentees, policy, declined=declined).stats.total_score
    unpriced = match(mentors, mentees, policy, declined=declined, budget=shortest)
    priced = match(
        mentors, mentees, policy, declined=declined, budget=replace(shortest, pricing_rounds=20)
    )
    assert unpriced.stats.total_score < best - 1.0
    assert priced.stats.priced_pairs > 0 and not priced.stats.exact
    assert priced.stats.total_score == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("rounds", [1, 2])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_priced_gap_bound_never_understates_the_distance_to_the_optimum(
    seed: int, rounds: int
) -> None:
    mentors, mentees, declined = enterprise_cohort(120, 150, seed)
    policy = cohort_policy(max_timezone_gap_hours=3.0)
    budget = SearchBudget(exact_pairs=0, per_mentee=2, per_mentor=1, pricing_rounds=rounds)
    result = match(mentors, mentees, policy, declined=declined, budget=budget)
    best = exact_match(mentors, mentees, policy, declined=declined).stats.total_score
    assert result.stats.gap_bound is not None and result.stats.gap_bound > 0
    slack = 1e-5 * max_score(policy) * len(mentees)  # the screen scores in float32
    assert best <= result.stats.total_score * (1 + result.stats.gap_bound) + slack
