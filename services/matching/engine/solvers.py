"""Bounded solver calls: every assignment solve has a budget, and a fallback when it runs out.

Why: scipy's sparse Jonker-Volgenant (`min_weight_full_bipartite_matching`) is fast on most
inputs but has no time limit and cannot be interrupted (it holds the GIL and ignores signals).
Two things make it slow: float costs whose tiny rounding differences keep its augmenting-row
reduction (run only on square inputs) and its shortest-path search busy with near-ties (compare
scipy issue #17269, where a float input looped for good), and sheer size (its search scans
every column once per distance level, quadratic or worse in the region's size). So:

* Costs go to the solver on an integer grid (`on_grid`): GRID_LEVELS steps between the
  cheapest and the dearest option. Integer-valued float64 costs keep its arithmetic exact, so
  near-ties are exact ties, never 1e-16 apart. The grid's step (1.5e-11 of the cost range) is far
  below any score difference that matters, so optimality is kept to that precision.
* The solver never gets a square input (one spare column is added), so the augmenting-row
  reduction, the one loop of scipy's solver without a bound, never runs.
* A sparse solve is admitted only up to `SolverBudget.sparse_cells` rows x columns; beyond
  that the caller uses the auction, whose rounds are counted (`SolverBudget.auction_rounds`).
  An auction that runs out of rounds falls back to the dense solver (`linear_sum_assignment`,
  O(rows^2 x columns), no iteration-dependent loops) where it fits `dense_cells`, else to a
  greedy completion (O(edges log edges)). Each fallback is counted in `SolverLog` (reported in
  `MatchStats.solver_fallbacks`) and logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

log = logging.getLogger("services.matching.engine")

GRID_LEVELS = float(2**36)  # sums of thousands of such costs stay exact in float64


@dataclass(frozen=True)
class SolverBudget:
    """How much work one solver call may do before the next solver takes over.

    sparse_cells: rows x columns up to which scipy's sparse solver runs (measured: about
    0.05-0.2 s at 3,000 x 6,000 on the benchmark profiles; 0.4 s at 5,000 x 10,000).
    auction_rounds, auction_passes: the auction gives up after that many bidding rounds, or
    once it has weighed that many times as many options as its region has pairs (all phases
    together): its time is at most auction_passes x the region's pairs (plus per-round
    overhead). The 50,000 x 50,000 benchmark cohort's largest auction needs 40-100 passes
    (3 s); cut at 40 and completed greedily it lost 0.03 %, at 20 passes 0.75 %.
    dense_cells: rows x columns the dense fallback may allocate (8 bytes each).
    """

    sparse_cells: int = 60_000_000
    auction_rounds: int = 200_000
    auction_passes: int = 200
    dense_cells: int = 25_000_000


@dataclass
class SolverLog:
    """Which solver answered each call, and how often a budget ran out."""

    solves: Counter[str] = field(default_factory=Counter)
    fallbacks: int = 0

    def solved(self, solver: str) -> None:
        self.solves[solver] += 1

    def fell_back(self, solver: str, to: str, rows: int, cols: int) -> None:
        self.fallbacks += 1
        log.warning(
            "matching solver budget exhausted",
            extra={"solver": solver, "fallback": to, "rows": rows, "columns": cols},
        )


def on_grid(cost: NDArray[np.float64], top: float) -> NDArray[np.float64]:
    """Costs in [0, top] as integer-valued floats 1..GRID_LEVELS + 1 (never 0: scipy drops 0)."""
    return np.rint(cost * (GRID_LEVELS / max(top, 1e-300))) + 1.0


def sparse_fits(rows: int, cols: int, budget: SolverBudget) -> bool:
    return rows * (cols + 1) <= budget.sparse_cells


def sparse_min_cost(
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
    cost: NDArray[np.float64],
    shape: tuple[int, int],
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Min-cost matching covering every row; grid costs; never a square input.

    The spare column is reachable from row 0 only, at a cost above any full matching, so it is
    never part of the optimum when a matching covering every row exists (callers guarantee it).
    """
    n_rows, n_cols = shape
    spare = float(n_rows) * (GRID_LEVELS + 2.0)
    matrix = sp.csr_matrix(
        (np.append(cost, spare), (np.append(rows, 0), np.append(cols, n_cols))),
        shape=(n_rows, n_cols + 1),
    )
    row_ind, col_ind = min_weight_full_bipartite_matching(matrix)
    real = col_ind < n_cols
    return row_ind[real].astype(np.intp), col_ind[real].astype(np.intp)


def dense_max_value(
    bidder: NDArray[np.intp],
    obj: NDArray[np.intp],
    value: NDArray[np.float64],
    shape: tuple[int, int],
) -> NDArray[np.intp]:
    """Object of each bidder in a maximum-value matching covering every bidder (-1: none)."""
    n_bidders = shape[0]
    absent = -(float(np.abs(value).sum()) + 1.0) * 2.0
    matrix = np.full(shape, absent)
    matrix[bidder, obj] = value
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    won = np.full(n_bidders, -1, np.intp)
    real = matrix[rows, cols] > absent
    won[rows[real]] = cols[real]
    return won


def greedy_completion(
    won: NDArray[np.intp],
    bidder: NDArray[np.intp],
    obj: NDArray[np.intp],
    value: NDArray[np.float64],
    n_objects: int,
) -> NDArray[np.intp]:
    """Keep the assigned bidders; give each other one its best still-free object, best first."""
    won = won.copy()
    taken = np.zeros(n_objects, bool)
    taken[won[won >= 0]] = True
    open_edge = np.flatnonzero(won[bidder] < 0)
    order = open_edge[np.argsort(-value[open_edge], kind="stable")]
    for b, o in zip(bidder[order].tolist(), obj[order].tolist(), strict=True):
        if won[b] < 0 and not taken[o]:
            won[b], taken[o] = o, True
    return won
