"""Assignment: choose pairs among candidate pairs so that the objective is maximal.

Mentor capacity is handled by giving a mentor `capacity` identical slots; each mentee takes at
most one slot.

Two regimes, matching the two candidate regimes of `candidates`:

* Complete candidates (small cohorts): the exact optimum of the policy's objective, by sparse
  Jonker-Volgenant (`scipy.sparse.csgraph.min_weight_full_bipartite_matching`). That solver
  needs a matching covering every row, so every mentee also gets a private 'stay unmatched'
  column of value 0. It minimises cost and treats stored values as edges, so costs are shifted
  to be strictly positive: cost = top - value, top above every value; every mentee row is
  matched exactly once, so the constant shift does not change which matching is optimal.
  'max_matched' adds a bonus larger than any score total to every real pair: the solver then
  maximises the number of pairs first and the score among those (lexicographic).

* Pruned candidates whose solve fits `SolverBudget.sparse_cells`: the same exact solve of the
  policy's objective, on the candidates (optimal among them, not proven optimal overall).

* Pruned candidates beyond that (large cohorts): lexicographic for both objectives, via the
  structural decomposition in `auction` (maximum matching size first, then score). Each region
  is solved by sparse Jonker-Volgenant when small and by the auction when large (Jonker-
  Volgenant grows about quadratically: 0.4 s at 5,000 mentees, 7.9 s at 20,000, 82 s at
  50,000; the auctions take 2-4 s at 50,000). Every call is bounded (`solvers`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from contracts.policy import Objective
from services.matching.engine.auction import auction, regions
from services.matching.engine.solvers import (
    GRID_LEVELS,
    SolverBudget,
    SolverLog,
    dense_max_value,
    greedy_completion,
    on_grid,
    sparse_fits,
    sparse_min_cost,
)

AUCTION_FROM_BIDDERS = 6_000


def matched_bonus(objective: Objective, max_score: float, n_pairs: int) -> float:
    """Per-pair bonus making 'max_matched' lexicographic: count first, then score."""
    if objective == Objective.MAX_SCORE:
        return 0.0
    return (max_score + 1.0) * (n_pairs + 1)


def compact(rows: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(distinct values ascending, each entry's index among them); a sort-free np.unique."""
    present = np.bincount(rows)
    used = np.flatnonzero(present)
    local = np.zeros(len(present), np.intp)
    local[used] = np.arange(len(used))
    return used, local[rows]


def _slots(
    capacity: NDArray[np.int64], mentor: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Per pair copy: its slot, the pair it copies; and each slot's mentor."""
    first_slot = np.concatenate([[0], np.cumsum(capacity)[:-1]])
    copies = capacity[mentor]
    source = np.repeat(np.arange(len(mentor)), copies)
    offset = np.arange(len(source)) - np.repeat(np.cumsum(copies) - copies, copies)
    slot = first_slot[mentor[source]] + offset
    return slot, source, np.repeat(np.arange(len(capacity)), capacity)


@dataclass(frozen=True)
class Grid:
    """How an exact solve saw the pairs: value + bonus on the solver's integer grid."""

    bonus: float
    top: float

    def values(self, score: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each pair's value in grid units, exactly as the solver optimised it."""
        return on_grid(np.full(1, self.top), self.top)[0] - on_grid(
            self.top - (score + self.bonus), self.top
        )

    def to_score(self, grid_value: NDArray[np.float64]) -> NDArray[np.float64]:
        return grid_value * (self.top / GRID_LEVELS)


def exact_grid(
    capacity: NDArray[np.int64],
    mentor: NDArray[np.intp],
    mentee: NDArray[np.intp],
    score: NDArray[np.float64],
    objective: Objective,
    complete: bool,
    budget: SolverBudget,
    on_candidates: bool = False,
) -> Grid | None:
    """The grid `solve_sparse` solves these pairs exactly on, or None if it solves them
    lexicographically (too large for the sparse solver, or pruned and not `on_candidates`)."""
    usable = capacity[mentor] > 0
    if not usable.any():
        return None
    n_rows = len(np.unique(mentee[usable]))
    n_slots = int(capacity[np.unique(mentor[usable])].sum())
    if not (
        sparse_fits(n_rows, n_slots + n_rows, budget)
        and (complete or (on_candidates and n_rows < AUCTION_FROM_BIDDERS))
    ):
        return None
    bonus = matched_bonus(objective, float(score[usable].max()), min(n_rows, n_slots))
    return Grid(bonus=bonus, top=float((score[usable] + bonus).max()) + 1.0)


def solve_sparse(
    capacity: NDArray[np.int64],
    mentor: NDArray[np.intp],
    mentee: NDArray[np.intp],
    score: NDArray[np.float64],
    objective: Objective,
    complete: bool,
    budget: SolverBudget | None = None,
    log: SolverLog | None = None,
    on_candidates: bool = False,
) -> tuple[NDArray[np.intp], NDArray[np.intp], bool]:
    """Chosen (mentor, mentee) rows among the candidate pairs, and whether they are the exact
    optimum (see the module docstring). `on_candidates`: pruned pairs are solved for the
    objective exactly where that fits, instead of lexicographically."""
    budget, log = budget or SolverBudget(), log if log is not None else SolverLog()
    usable = capacity[mentor] > 0
    mentor, mentee, score = mentor[usable], mentee[usable], score[usable]
    if len(mentor) == 0:
        empty = np.zeros(0, np.intp)
        return empty, empty, complete
    mentors_used, m_local = compact(mentor)
    mentees_used, e_local = compact(mentee)
    slot, source, slot_owner = _slots(capacity[mentors_used], m_local)
    e_copy, value = e_local[source], score[source]
    n_slots = len(slot_owner)
    grid = exact_grid(capacity, mentor, mentee, score, objective, complete, budget, on_candidates)
    exact = complete and grid is not None
    if grid is not None:
        s, e = _exact_with_unmatched(n_slots, slot, e_copy, value + grid.bonus)
        log.solved("sparse")
    else:
        s, e = _lexicographic(n_slots, slot, e_copy, value, budget, log)
    return mentors_used[slot_owner[s]], mentees_used[e], exact


def _exact_with_unmatched(
    n_slots: int, slot: NDArray[np.intp], mentee: NDArray[np.intp], value: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    n_rows = int(mentee.max()) + 1
    top = float(value.max()) + 1.0
    cost = on_grid(np.concatenate([top - value, np.full(n_rows, top)]), top)
    rows = np.concatenate([mentee, np.arange(n_rows)])
    cols = np.concatenate([slot, n_slots + np.arange(n_rows)])
    row_ind, col_ind = sparse_min_cost(rows, cols, cost, (n_rows, n_slots + n_rows))
    real = col_ind < n_slots
    return col_ind[real], row_ind[real]


def _lexicographic(
    n_slots: int,
    slot: NDArray[np.intp],
    mentee: NDArray[np.intp],
    value: NDArray[np.float64],
    budget: SolverBudget,
    log: SolverLog,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    chosen_s: list[NDArray[np.intp]] = []
    chosen_e: list[NDArray[np.intp]] = []
    scale = max(float(value.max()), 1e-9)
    for region in regions(n_slots, slot, mentee):
        inside = region.slots[slot] & region.mentees[mentee]
        slots, s_local = compact(slot[inside])
        mentees, e_local = compact(mentee[inside])
        bidder, obj = (s_local, e_local) if region.slots_bid else (e_local, s_local)
        won = _region(bidder, obj, value[inside], region.balanced, scale, budget, log)
        held = won >= 0
        if region.slots_bid:
            chosen_s.append(slots[held])
            chosen_e.append(mentees[won[held]])
        else:
            chosen_s.append(slots[won[held]])
            chosen_e.append(mentees[held])
    if not chosen_s:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    return np.concatenate(chosen_s), np.concatenate(chosen_e)


def _region(
    bidder: NDArray[np.intp],
    obj: NDArray[np.intp],
    value: NDArray[np.float64],
    balanced: bool,
    scale: float,
    budget: SolverBudget,
    log: SolverLog,
) -> NDArray[np.intp]:
    """Object of each bidder in a best matching covering every bidder (one exists by
    construction): sparse Jonker-Volgenant where it fits, else the auction, else a fallback."""
    n_bidders, n_objects = int(bidder.max()) + 1, int(obj.max()) + 1
    if n_bidders < AUCTION_FROM_BIDDERS and sparse_fits(n_bidders, n_objects, budget):
        top = float(value.max()) + 1.0
        rows, cols = sparse_min_cost(bidder, obj, on_grid(top - value, top), (n_bidders, n_objects))
        won = np.full(n_bidders, -1, np.intp)
        won[rows] = cols
        log.solved("sparse")
        return won
    max_bids = budget.auction_passes * len(bidder)
    won, finished = auction(
        n_bidders, n_objects, bidder, obj, value, balanced, scale, budget.auction_rounds, max_bids
    )
    if finished:
        log.solved("auction")
        return won
    if n_bidders * n_objects <= budget.dense_cells:
        log.fell_back("auction", "dense", n_bidders, n_objects)
        log.solved("dense")
        return dense_max_value(bidder, obj, value, (n_bidders, n_objects))
    log.fell_back("auction", "greedy", n_bidders, n_objects)
    log.solved("greedy")
    return greedy_completion(won, bidder, obj, value, n_objects)


def solve_dense(
    value: NDArray[np.float64], slot_owner: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Exact optimum on a dense mentee x slot value matrix (0 where a pair is infeasible).

    Values are >= 0, so forcing every row of the smaller side to be assigned costs nothing:
    a pair of value 0 can be dropped afterwards. Returns (mentor, mentee) rows of pairs with a
    positive value; callers decide about value-0 feasible pairs.
    """
    rows, cols = linear_sum_assignment(value, maximize=True)
    positive = value[rows, cols] > 0
    return slot_owner[cols[positive]], rows[positive]
