"""Matching engine: propose mentor/mentee pairs for one cohort. Pure: no I/O, no framework.

    result = match(mentors, mentees, cohort_policy,           # contracts.policy.MatchingPolicy
                   declined={(mentor_id, mentee_id), ...},   # never proposed again
                   fixed=[(mentor_id, mentee_id), ...],      # locked pairs, kept as they are
                   objective=Objective.MAX_MATCHED)          # this run only; None: the policy's

This package is the engine's only entrance: the service imports from `services.matching.engine`,
never from its modules. The policy is the cohort's contract (`contracts.policy.MatchingPolicy`),
so its defaults and validation live in one place; `factor_weight` and `max_score` say how the
engine reads it (the department bonus counts only when the rule is 'preferred'). An admin's
objective for one round is the `objective` keyword, not a changed copy of the policy: the
cohort's policy stays what it announced.

A run, stage by stage (each stage is its own module):

1. `encoding` encodes both sides as arrays against one vocabulary.
2. Locked pairs (`fixed`) are kept: their mentees leave the pool, their mentors keep only the
   remaining capacity. A locked pair that breaks a hard rule, names an unknown person or
   overfills a mentor raises `FixedPairError` instead of being silently dropped or kept.
3. `candidates` screens the pool, blockwise, and counts the feasible pairs on the way. When
   they fit `SearchBudget.exact_pairs`, every one goes to the solver, whatever the cohort's
   size. Otherwise it keeps the best few mentors per mentee and the best few mentees per
   thinly connected mentor.
4. `assignment` picks the pairs. With every feasible pair in hand the answer is the exact
   optimum of the policy's objective ('max_score': highest total score; 'max_matched': most
   pairs, then highest score) and `stats.exact` is True. Pruned candidates are solved for
   the objective too where the sparse solver takes them, lexicographically (most pairs, then
   score, with the auction) beyond. Every solver call is bounded and falls back when its
   budget runs out (`solvers`, `stats.solver_fallbacks`).
   `pricing` then asks, with the answer's dual prices, which left-out pairs could still
   improve it; the screen finds them, they join the candidates, and the solve repeats
   (`SearchBudget.pricing_rounds`, on by default up to 4,000 mentees).
5. Residual rounds (`rounds`) give still-unmatched mentees the mentors with capacity left,
   until no feasible pair of two free people is left.
6. `outcome`: every pair carries each factor's weighted contribution (summing to its score)
   and what the two share by name; every unmatched person carries the reason.

Hard rules (`feasibility`): mentor level <= mentee level - min_level_gap; a common language;
UTC offsets at most max_timezone_gap_hours apart; neither in the other's reporting line (when
exclude_reporting_line) and not the same person; different departments when cross_department
is 'required'; never a declined pair; mentor capacity; one mentor per mentee. Format is a soft
factor (see `scoring`).

`exact_match` solves the same problem with a dense solver (`scipy.optimize.
linear_sum_assignment`): the reference for tests and the benchmark, limited to
EXACT_DENSE_CELLS mentee x mentor-slot cells.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np

from contracts.policy import MatchingPolicy, Objective
from services.matching.engine.assignment import matched_bonus, solve_dense
from services.matching.engine.candidates import SearchBudget
from services.matching.engine.encoding import Candidate
from services.matching.engine.outcome import (
    MatchResult,
    MatchStats,
    ProposedPair,
    Role,
    Unmatched,
    UnmatchedReason,
)
from services.matching.engine.pricing import solve_priced
from services.matching.engine.rounds import FixedPairError, MatchingRun
from services.matching.engine.scoring import FACTORS, factor_weight, grid_factors, max_score, total
from services.matching.engine.solvers import SolverBudget

__all__ = [
    "EXACT_DENSE_CELLS",
    "FACTORS",
    "Candidate",
    "FixedPairError",
    "MatchResult",
    "MatchStats",
    "ProposedPair",
    "Role",
    "SearchBudget",
    "SolverBudget",
    "Unmatched",
    "UnmatchedReason",
    "exact_match",
    "factor_weight",
    "match",
    "max_score",
]

EXACT_DENSE_CELLS = 25_000_000  # mentee x mentor-slot cells exact_match accepts (5,000 x 5,000)
_DENSE_ROWS = 256  # mentees per block when filling the dense matrix


def match(
    mentors: Sequence[Candidate],
    mentees: Sequence[Candidate],
    policy: MatchingPolicy,
    declined: Collection[tuple[str, str]] = frozenset(),
    fixed: Iterable[tuple[str, str]] = (),
    *,
    objective: Objective | None = None,
    budget: SearchBudget | None = None,
    solver_budget: SolverBudget | None = None,
) -> MatchResult:
    """Propose pairs for a cohort under `policy` (see the module docstring)."""
    budget = budget or SearchBudget.for_cohort(len(mentees))
    run = MatchingRun(mentors, mentees, policy, declined, fixed, solver_budget)
    pool_m, pool_e = run.open_mentors(), run.open_mentees()
    first = run.screen(pool_m, pool_e, budget)
    exact = solve_priced(run, first, pool_m, pool_e, objective or policy.objective, budget)
    run.fill_residual(budget)
    return run.result(first, exact=exact)


def exact_match(
    mentors: Sequence[Candidate],
    mentees: Sequence[Candidate],
    policy: MatchingPolicy,
    declined: Collection[tuple[str, str]] = frozenset(),
    fixed: Iterable[tuple[str, str]] = (),
    *,
    objective: Objective | None = None,
) -> MatchResult:
    """The exact optimum by dense linear_sum_assignment; small instances only."""
    run = MatchingRun(mentors, mentees, policy, declined, fixed)
    pool_m, pool_e = run.open_mentors(), run.open_mentees()
    slot_owner = np.repeat(pool_m, run.capacity[pool_m])
    if len(pool_e) * len(slot_owner) > EXACT_DENSE_CELLS:
        raise ValueError(f"exact_match is limited to {EXACT_DENSE_CELLS} mentee x slot cells")
    # this screen only measures each person's reach (for the reasons); the dense solve decides
    first = run.screen(pool_m, pool_e, SearchBudget(exact_pairs=0, per_mentee=1, per_mentor=0))
    if len(pool_e) and len(slot_owner):
        n_pairs = min(len(pool_e), len(slot_owner))
        bonus = matched_bonus(objective or policy.objective, max_score(policy), n_pairs)
        value = np.zeros((len(pool_e), len(slot_owner)))
        for start in range(0, len(pool_e), _DENSE_ROWS):
            rows = pool_e[start : start + _DENSE_ROWS]
            grid = total(grid_factors(run.mentors, run.mentees, policy, rows))[:, slot_owner]
            m, e = np.meshgrid(slot_owner, rows)
            ok = run.feasible(m.ravel(), e.ravel()).reshape(m.shape)
            value[start : start + len(rows)] = np.where(ok, grid + bonus, 0.0)
        m_rows, e_rows = solve_dense(value, slot_owner)
        run.accept(m_rows, pool_e[e_rows])
    run.fill_residual(SearchBudget(exact_pairs=EXACT_DENSE_CELLS))
    return run.result(first, exact=True)
