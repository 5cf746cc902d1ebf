"""Candidate screen: which feasible pairs the assignment solver gets to see.

Whenever the feasible pairs fit `SearchBudget.exact_pairs`, the solver gets every one of them,
so its answer is the true optimum: what counts is how many pairs pass the hard rules, not the
cohort's size, so a large cohort with tight rules or many declines is solved exactly. The
screen counts them on the way (one pass, blockwise) and keeps collecting them until the budget
is exceeded. Beyond it (50,000 x 50,000 is 2.5 billion pairs) the screen keeps, for every mentee,
its best `per_mentee` mentors, and for every mentor left with fewer than `per_mentor`
candidates (unpopular profiles) its best mentees too, so that no mentor is invisible to the
solver just because others score higher for everybody.

Ranking uses the score minus POPULARITY_DISCOUNT times each side's popularity (its mean score
against the whole other side). Without it every mentee's shortlist names the same few
all-round mentors, who can take only one mentee each; with it shortlists spread out and the
optimum on the candidates gets closer to the true one (on the benchmark cohort: 0.13 % below
the exact optimum instead of 0.73 % at the same list length). The solver scores pairs exactly.

Why it is fast and memory-bounded:

* Mentors and mentees are sorted by UTC offset, so a block of mentees only needs the contiguous
  range of mentors within the time-zone gap (clustered time zones cut most of the work).
* One float32 matrix product per block computes the ranking value AND the hard-rule penalties
  of every pair in the block (`scoring.screening_features`, `feasibility.penalty_features`).
* Shortlists are cut from each block without sorting it (`shortlists`); the mentors' own
  shortlists come from the same blocks, not from a second, transposed pass.
* A block holds at most `block_cells` float32 values, whatever the cohort size.

The screen also records each person's reach (has a feasible partner / only declined ones /
none): that is what the unmatched reasons are built from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from contracts.policy import MatchingPolicy
from services.matching.engine.encoding import Side
from services.matching.engine.feasibility import (
    DECLINED,
    FEASIBLE_FLOOR,
    INFEASIBLE_FLOOR,
    PENALTY,
    PairSet,
    feasible,
    penalty_features,
    time_zone_window,
)
from services.matching.engine.scoring import max_score, screening_features
from services.matching.engine.shortlists import MENTOR_CHUNK, MentorPicks, top_k_per_column

REACH_NONE, REACH_DECLINED_ONLY, REACH_FEASIBLE = 0, 1, 2
PRICED_UP_TO = 4_000
LONG_LISTS_FROM_MENTEES = 10_000
POPULARITY_DISCOUNT = 0.5  # tuned on the benchmark cohort: 0.3-0.7 all work, 2.0 is too much
TIE_COLUMNS = 4
TZ_CHUNK = 256  # mentor rows per time-zone check of a merged block
MERGED_WINDOW = 1.25  # a merged block's column window, relative to its first offset's
TIE_SPREAD = 1e-4  # of the [0, 1] ranking scale: reorders only near-ties


@dataclass(frozen=True)
class SearchBudget:
    """How much of the pair space the solver sees (`for_cohort` picks it by default)."""

    exact_pairs: int = 1_000_000  # up to this many FEASIBLE pairs: no pruning (exact)
    per_mentee: int = 10
    per_mentor: int = 5
    block_cells: int = 16_000_000  # float32 cells per screened block (64 MB)
    pricing_rounds: int = 0  # after pruning: screens for pairs that price out (`pricing`)

    @classmethod
    def for_cohort(cls, n_mentees: int) -> SearchBudget:
        """Shortlists and pricing by cohort size, within each size's time budget.

        Up to 4,000 mentees, three pricing rounds (`pricing`) bring the pruned answer to the
        exact optimum on every benchmark profile at 3,000 x 3,000 (without them, 10/5 lists lost
        up to 0.36 %, 40/20 up to 0.13 % on the tie-heavy profile). Up to 10,000 the short
        lists alone keep a 5,000 cohort's round near one second at about 0.15-0.3 % below the
        optimum. Beyond, more near-equal alternatives compete and the auction absorbs extra
        pairs cheaply: on the 50,000 x 50,000 benchmark cohort lists of 20/10 raise the
        objective by 0.34 % over 10/5 for about 3 s; 60/30 adds only 0.07 % more.
        """
        if n_mentees <= PRICED_UP_TO:
            return cls(pricing_rounds=3)
        if n_mentees > LONG_LISTS_FROM_MENTEES:
            return cls(per_mentee=20, per_mentor=10)
        return cls()


@dataclass(frozen=True)
class Candidates:
    """Feasible (mentor row, mentee row) pairs for the solver, and each person's reach."""

    mentor: NDArray[np.intp]
    mentee: NDArray[np.intp]
    mentor_reach: NDArray[np.int8]
    mentee_reach: NDArray[np.int8]
    complete: bool
    feasible_pairs: int = 0  # pairs passing the screen's rules, whether kept or not


def _reach(best: NDArray[np.float32]) -> NDArray[np.int8]:
    reach = np.full(best.shape, REACH_NONE, np.int8)
    reach[best >= INFEASIBLE_FLOOR] = REACH_DECLINED_ONLY
    reach[best >= FEASIBLE_FLOOR] = REACH_FEASIBLE
    return reach


@dataclass(frozen=True)
class Block:
    rows: NDArray[np.intp]  # offset-sorted row positions
    lo: int  # offset-sorted column range within the time-zone gap of every row
    hi: int
    mixed: bool = False  # rows of several offsets: the time-zone rule is checked per pair


class Screen:
    """One direction of the screen: rows (mentees, or mentors) against all columns.

    Both sides are sorted by UTC offset. Rows are processed in blocks that share one offset, so
    the time-zone window of a block is one exact, contiguous column range.
    """

    def __init__(
        self,
        rows: Side,
        cols: Side,
        row_features: NDArray[np.float32],
        col_features: NDArray[np.float32],
        exceptions: sp.csr_matrix,
        policy: MatchingPolicy,
    ) -> None:
        self.row_order = np.argsort(rows.utc_offset, kind="stable")
        self.col_order = np.argsort(cols.utc_offset, kind="stable")
        self.row_tz = rows.utc_offset[self.row_order]
        self.col_tz = cols.utc_offset[self.col_order]
        self.row_features = np.ascontiguousarray(row_features[self.row_order])
        self.col_features = np.ascontiguousarray(col_features[self.col_order])
        self.exceptions = exceptions[self.row_order][:, self.col_order].tocsr()
        self.policy = policy

    def blocks(self, rows: NDArray[np.intp], block_cells: int) -> list[Block]:
        """Blocks of the given sorted row positions, at most `block_cells` cells each.

        Rows sharing an offset share one exact column window. Consecutive offsets whose
        windows hardly differ (continuous time zones: every person their own offset) share a
        block over the union of their windows, at most MERGED_WINDOW times the first one's
        width, so a block holds many rows, not one.
        """
        runs: list[tuple[list[NDArray[np.intp]], int, int, int, int]] = []  # + width, rows
        cuts = np.flatnonzero(np.diff(self.row_tz[rows])) + 1
        for group in np.split(rows, cuts):
            if len(group) == 0:
                continue
            lo, hi = time_zone_window(self.col_tz, float(self.row_tz[group[0]]), self.policy)
            if hi <= lo:
                continue
            if runs:
                parts, r_lo, r_hi, width, n_rows = runs[-1]
                u_lo, u_hi = min(lo, r_lo), max(hi, r_hi)
                n_rows += len(group)
                if u_hi - u_lo <= MERGED_WINDOW * width and n_rows * (u_hi - u_lo) <= block_cells:
                    parts.append(group)
                    runs[-1] = (parts, u_lo, u_hi, width, n_rows)
                    continue
            runs.append(([group], lo, hi, hi - lo, len(group)))
        out: list[Block] = []
        for parts, lo, hi, _, _ in runs:
            group = np.concatenate(parts)
            step = max(1, block_cells // (hi - lo))
            if step > MENTOR_CHUNK:  # whole chunks keep `MentorPicks` on contiguous memory
                step -= step % MENTOR_CHUNK
            mixed = len(parts) > 1
            out.extend(
                Block(group[i : i + step], lo, hi, mixed) for i in range(0, len(group), step)
            )
        return out

    def values(self, block: Block) -> NDArray[np.float32]:
        """Screen values of a block, column range x block rows (transposed on purpose, see
        `top_k_per_column`): score, hard-rule penalties and pair exceptions."""
        rows, lo, hi = block.rows, block.lo, block.hi
        values: NDArray[np.float32] = self.col_features[lo:hi] @ self.row_features[rows].T
        if block.mixed:  # the same float expression as `feasibility.attribute_feasible`
            row_tz, limit = self.row_tz[None, rows], self.policy.max_timezone_gap_hours
            for start in range(lo, hi, TZ_CHUNK):  # chunks keep the float64 gaps small
                stop = min(start + TZ_CHUNK, hi)
                far = np.abs(self.col_tz[start:stop, None] - row_tz) > limit
                values[start - lo : stop - lo][far] = -2 * PENALTY
        sub = self.exceptions[rows][:, lo:hi].tocoo()
        if sub.nnz:
            hit = values[sub.col, sub.row]
            declined = np.where(hit >= FEASIBLE_FLOOR, DECLINED, hit)
            values[sub.col, sub.row] = np.where(sub.data >= 2, -2 * PENALTY, declined)
        return values


def exception_matrix(excluded: PairSet, declined: PairSet, n_m: int, n_e: int) -> sp.csr_matrix:
    """mentee x mentor matrix: 2 = excluded by rule, 1 = declined (excluded wins)."""
    rows = np.concatenate([excluded.mentee, declined.mentee])
    cols = np.concatenate([excluded.mentor, declined.mentor])
    data = np.concatenate([np.full(len(excluded), 2.0), np.full(len(declined), 1.0)])
    matrix = sp.coo_matrix((data, (rows, cols)), shape=(n_e, n_m)).tocsr()  # sums duplicates
    matrix.data = np.minimum(matrix.data, 2.0)
    return matrix


def _features(
    mentors: Side, mentees: Side, policy: MatchingPolicy, n_topics: int, ranked: bool
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Ranking and penalty columns; columns zero on either side add nothing and are dropped.

    Without `ranked` (complete screens keep every feasible pair) only the penalties are built.
    """
    if not ranked:
        rule_m, rule_e = penalty_features(mentors, mentees, policy)
        return nonzero_columns(rule_m, rule_e)
    score_m, score_e = screening_features(mentors, mentees, policy, n_topics)
    score_e /= np.float32(max_score(policy) or 1.0)  # rank on [0, 1] whatever the weights' scale
    rule_m, rule_e = penalty_features(mentors, mentees, policy)
    # popularity: a person's mean score against the whole other side
    mentor_pop = score_m @ score_e.mean(axis=0)
    mentee_pop = score_e @ score_m.mean(axis=0)
    ones_m, ones_e = np.ones((len(mentors), 1), np.float32), np.ones((len(mentees), 1), np.float32)
    a = np.float32(POPULARITY_DISCOUNT)
    # tie-breaking: a tiny pseudo-random value per pair, so that mentees who rank many mentors
    # equal do not all shortlist the same few of them
    rng = np.random.default_rng(0)
    spread = np.float32(TIE_SPREAD / np.sqrt(TIE_COLUMNS))
    tie_m = rng.standard_normal((len(mentors), TIE_COLUMNS)).astype(np.float32)
    tie_e = (spread * rng.standard_normal((len(mentees), TIE_COLUMNS))).astype(np.float32)
    mentor_features = np.hstack([score_m, -a * mentor_pop[:, None], ones_m, tie_m, rule_m])
    mentee_features = np.hstack([score_e, ones_e, -a * mentee_pop[:, None], tie_e, rule_e])
    return nonzero_columns(mentor_features, mentee_features)


def nonzero_columns(
    mentor_features: NDArray[np.float32], mentee_features: NDArray[np.float32]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    used = np.any(mentor_features != 0, axis=0) & np.any(mentee_features != 0, axis=0)
    if not used.any():
        used[0] = True
    return (
        np.ascontiguousarray(mentor_features[:, used]),
        np.ascontiguousarray(mentee_features[:, used]),
    )


def screen(
    mentors: Side,
    mentees: Side,
    policy: MatchingPolicy,
    excluded: PairSet,
    declined: PairSet,
    n_topics: int,
    budget: SearchBudget,
) -> Candidates:
    """Screen the cohort and return the candidate pairs for the solver."""
    n_m, n_e = len(mentors), len(mentees)
    if n_m == 0 or n_e == 0:
        empty = np.zeros(0, np.intp)
        return Candidates(empty, empty, np.zeros(n_m, np.int8), np.zeros(n_e, np.int8), True)
    small = n_m * n_e <= budget.exact_pairs  # every pair fits: no ranking needed
    mentor_features, mentee_features = _features(mentors, mentees, policy, n_topics, not small)
    exceptions = exception_matrix(excluded, declined, n_m, n_e)
    sides = Screen(mentees, mentors, mentee_features, mentor_features, exceptions, policy)
    mentee_best = np.full(n_e, -np.inf, np.float32)
    picks = MentorPicks()
    every_m: list[NDArray[np.intp]] = []  # every feasible pair, while they fit the budget
    every_e: list[NDArray[np.intp]] = []
    short_m: list[NDArray[np.intp]] = []  # shortlists (offset-sorted positions)
    short_e: list[NDArray[np.intp]] = []
    n_feasible, complete = 0, True
    blocks = sides.blocks(np.arange(n_e), budget.block_cells)

    def shortlist(block: Block, values: NDArray[np.float32], ok: NDArray[np.bool_]) -> None:
        c, r = top_k_per_column(values, budget.per_mentee)
        keep = ok[c, r]
        short_m.append(c[keep] + block.lo)
        short_e.append(block.rows[r[keep]])

    for i, block in enumerate(blocks):
        values = sides.values(block)
        ok = values >= FEASIBLE_FLOOR
        n_block = int(np.count_nonzero(ok))
        n_feasible += n_block
        if complete and n_feasible > budget.exact_pairs:
            # too many to keep them all: shortlists after all, also for the blocks already seen
            complete, every_m, every_e = False, [], []
            for seen in blocks[:i]:
                again = sides.values(seen)
                shortlist(seen, again, again >= FEASIBLE_FLOOR)
        if complete and n_block:
            c, r = np.nonzero(ok)
            every_m.append(c + block.lo)
            every_e.append(block.rows[r])
        if not complete and n_block:
            shortlist(block, values, ok)
        mentee_best[block.rows] = values.max(axis=0)
        picks.propose(values, block.lo, block.rows)
    if complete:
        mentor_sorted, mentee_sorted = joined(every_m), joined(every_e)
    else:
        mentor_sorted, mentee_sorted = joined(short_m), joined(short_e)
        # thinly connected mentors (unpopular profiles) add their own best mentees
        degree = np.bincount(mentor_sorted, minlength=n_m)
        m_extra, e_extra = picks.top(degree < budget.per_mentor, budget.per_mentor)
        mentor_sorted = np.concatenate([mentor_sorted, m_extra])
        mentee_sorted = np.concatenate([mentee_sorted, e_extra])
    mentor = sides.col_order[mentor_sorted]
    mentee = sides.row_order[mentee_sorted]
    mentee_reach = np.empty(n_e, np.int8)
    mentee_reach[sides.row_order] = _reach(mentee_best)
    mentor_reach = np.empty(n_m, np.int8)
    mentor_reach[sides.col_order] = _reach(picks.best(n_m))
    keys = np.sort(mentor.astype(np.int64) * n_e + mentee)
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
    mentor, mentee = (keys // n_e).astype(np.intp), (keys % n_e).astype(np.intp)
    ok_pairs = feasible(mentors, mentees, policy, excluded, declined, mentor, mentee)
    return Candidates(
        mentor[ok_pairs], mentee[ok_pairs], mentor_reach, mentee_reach, complete, n_feasible
    )


def joined(parts: list[NDArray[np.intp]]) -> NDArray[np.intp]:
    return np.concatenate(parts) if parts else np.zeros(0, np.intp)
