"""Pricing: which pairs left out of the shortlists could still improve the answer.

A shortlisted solve is optimal among the shortlisted pairs only. Linear-programming duality
says when it is optimal among ALL pairs: with a price z for every mentor slot and y for every
mentee (both >= 0) such that y_e + z_s >= value(e, s) for every pair and equality on the chosen
ones, no pair can improve the total (complementary slackness). `duals` computes such prices
for the chosen pairs; the screen then looks for pairs with value - y - z > 0 ('priced' pairs,
`candidates.priced_pairs`), which join the candidates for another solve. When no pair prices
out, the answer is the optimum over every feasible pair, up to the screen's float32 scoring.

The prices are the shortest-path distances of a system of difference constraints over the
mentors (Bellman-Ford, vectorised, stopping as soon as nothing changes; scipy's runs all
V - 1 passes). On the solver's integer grid the chosen answer is exactly optimal on its
candidates, so the system has no negative cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from contracts.policy import MatchingPolicy, Objective
from services.matching.engine.assignment import exact_grid, solve_sparse
from services.matching.engine.candidates import (
    Candidates,
    Screen,
    SearchBudget,
    exception_matrix,
    joined,
    nonzero_columns,
)
from services.matching.engine.encoding import Side
from services.matching.engine.feasibility import PairSet, feasible, penalty_features
from services.matching.engine.scoring import max_score, pair_factors, screening_features, total
from services.matching.engine.shortlists import top_k_per_column

if TYPE_CHECKING:
    from services.matching.engine.rounds import MatchingRun

# Bellman-Ford passes (each relaxes every arc at once, O(arcs)); prices settle after as many
# passes as the longest chain of displaced mentees, a few dozen on the benchmark profiles.
MAX_RELAXATIONS = 500
PRICE_TOLERANCE = 1e-4  # of the best pair score: above the screen's float32 scoring error
GAP_TARGET = 2e-5  # stop pricing once the first round is proven this close to the optimum


def duals(
    n_mentors: int,
    n_mentees: int,
    capacity: NDArray[np.int64],
    mentor: NDArray[np.intp],
    mentee: NDArray[np.intp],
    value: NDArray[np.float64],
    chosen_m: NDArray[np.intp],
    chosen_e: NDArray[np.intp],
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """(price of each mentee, cheapest slot price of each mentor) for an answer that is optimal
    on the candidate pairs (mentor, mentee, value); values on an integer grid.

    Mentors with a free slot cost 0; unmatched mentees 0. None when the prices do not settle
    within MAX_RELAXATIONS (the answer was not optimal on its candidates).
    """
    mentee_price = np.zeros(n_mentees)
    mentor_price = np.zeros(n_mentors)
    if len(chosen_m) == 0 or len(mentor) == 0:
        return mentee_price, mentor_price
    full = np.bincount(chosen_m, minlength=n_mentors) >= capacity
    node = np.zeros(n_mentors, np.intp)  # 0: a mentor with a free slot (price 0)
    full_mentors = np.flatnonzero(full)
    node[full_mentors] = np.arange(1, len(full_mentors) + 1)
    # A full mentor's slots all hold a chosen pair; they are interchangeable, so the mentor is
    # one node whose price is its cheapest slot's. Keep one chosen pair per node: the one of
    # lowest value (the slot a better pair would push out first).
    key = np.lexsort((value_of(chosen_m, chosen_e, mentor, mentee, value), chosen_m))
    pick = key[np.concatenate([[True], chosen_m[key][1:] != chosen_m[key][:-1]])]
    holder_of = np.full(n_mentors, -1, np.intp)
    holder_value = np.zeros(n_mentors)
    holder_of[chosen_m[pick]] = chosen_e[pick]
    holder_value[chosen_m[pick]] = value_of(chosen_m[pick], chosen_e[pick], mentor, mentee, value)
    match_of = np.full(n_mentees, -1, np.intp)
    match_of[chosen_e] = chosen_m
    own_value = np.zeros(n_mentees)
    own_value[chosen_e] = value_of(chosen_m, chosen_e, mentor, mentee, value)
    # mentee e holds mentor s and could take mentor t instead:  z_s - z_t <= v(e,s) - v(e,t),
    # an arc t -> s. An unmatched mentee e bounds z_t >= v(e,t): an arc t -> 0 of -v(e,t).
    held = match_of[mentee] >= 0
    s_node = node[match_of[mentee[held]]]
    t_node = node[mentor[held]]
    arcs_from = [t_node]
    arcs_to = [s_node]
    arcs_w = [own_value[mentee[held]] - value[held]]
    free = ~held & full[mentor]
    arcs_from.append(node[mentor[free]])
    arcs_to.append(np.zeros(int(free.sum()), np.intp))
    arcs_w.append(-value[free])
    # z_s <= value of the pair it holds (its mentee's price stays >= 0): an arc 0 -> s
    arcs_from.append(np.zeros(len(full_mentors), np.intp))
    arcs_to.append(node[full_mentors])
    arcs_w.append(holder_value[full_mentors])
    # z_s >= 0: an arc s -> 0 of weight 0
    arcs_from.append(node[full_mentors])
    arcs_to.append(np.zeros(len(full_mentors), np.intp))
    arcs_w.append(np.zeros(len(full_mentors)))
    u, v, w = np.concatenate(arcs_from), np.concatenate(arcs_to), np.concatenate(arcs_w)
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    order = np.lexsort((w, v, u))  # parallel arcs: keep the shortest (csr would add them up)
    u, v, w = u[order], v[order], w[order]
    first = np.concatenate([[True], (u[1:] != u[:-1]) | (v[1:] != v[:-1])])[: len(u)]
    z = _shortest_distances(len(full_mentors) + 1, u[first], v[first], w[first])
    if z is None:
        return None
    mentor_price[full_mentors] = np.maximum(z[1:], 0.0)
    matched = np.flatnonzero(match_of >= 0)
    mentee_price[matched] = np.maximum(
        own_value[matched] - mentor_price[match_of[matched]], 0.0
    )
    return mentee_price, mentor_price


def value_of(
    m: NDArray[np.intp],
    e: NDArray[np.intp],
    mentor: NDArray[np.intp],
    mentee: NDArray[np.intp],
    value: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The candidate value of each listed (m, e) pair (every one must be a candidate)."""
    n = int(max(mentee.max(initial=0), e.max(initial=0))) + 1
    keys = mentor.astype(np.int64) * n + mentee
    order = np.argsort(keys)
    pos = order[np.searchsorted(keys[order], m.astype(np.int64) * n + e)]
    out: NDArray[np.float64] = value[pos]
    return out


def _shortest_distances(
    n_nodes: int, u: NDArray[np.intp], v: NDArray[np.intp], w: NDArray[np.float64]
) -> NDArray[np.float64] | None:
    """Distances from node 0 along arcs u -> v of weight w (some negative), or None when they
    have not settled after MAX_RELAXATIONS passes."""
    order = np.argsort(v, kind="stable")
    u, v, w = u[order], v[order], w[order]
    starts = np.flatnonzero(np.concatenate([[True], v[1:] != v[:-1]])) if len(v) else v
    targets = v[starts]
    dist = np.full(n_nodes, np.inf)
    dist[0] = 0.0
    for _ in range(MAX_RELAXATIONS):
        if len(v) == 0:
            return dist
        best = np.minimum(dist[targets], np.minimum.reduceat(dist[u] + w, starts))
        if np.array_equal(best, dist[targets]):
            return dist
        dist[targets] = best
    return None


@dataclass(frozen=True)
class PricingScreen:
    """The score and rule columns of one pool, built once for all its pricing rounds."""

    mentors: Side
    mentees: Side
    excluded: PairSet
    declined: PairSet
    mentor_features: NDArray[np.float32]
    mentee_features: NDArray[np.float32]
    exceptions: sp.csr_matrix

    @classmethod
    def build(
        cls,
        mentors: Side,
        mentees: Side,
        policy: MatchingPolicy,
        excluded: PairSet,
        declined: PairSet,
        n_topics: int,
    ) -> PricingScreen:
        score_m, score_e = screening_features(mentors, mentees, policy, n_topics)
        rule_m, rule_e = penalty_features(mentors, mentees, policy)
        mentor_features, mentee_features = nonzero_columns(
            np.hstack([score_m, rule_m]), np.hstack([score_e, rule_e])
        )
        exceptions = exception_matrix(excluded, declined, len(mentors), len(mentees))
        return cls(
            mentors, mentees, excluded, declined, mentor_features, mentee_features, exceptions
        )

    def priced_pairs(
        self,
        policy: MatchingPolicy,
        budget: SearchBudget,
        mentor_price: NDArray[np.float64],
        mentee_offset: NDArray[np.float64],
        tolerance: float,
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """Feasible pairs whose score + mentee_offset - mentor_price exceeds `tolerance`: the
        pairs that could improve an answer with these prices; at most `per_mentee` of the
        best per mentee. Also each mentee's best such excess (0 if none), which bounds the
        gain still possible. The score is the screen's float32 one (goal similarity
        projected on SCREEN_GOAL_COLUMNS when the vocabulary is wider)."""
        f32 = np.float32
        n_m, n_e = len(self.mentors), len(self.mentees)
        mentor_features = np.hstack(
            [self.mentor_features, -mentor_price.astype(f32)[:, None], np.ones((n_m, 1), f32)]
        )
        mentee_features = np.hstack(
            [self.mentee_features, np.ones((n_e, 1), f32), mentee_offset.astype(f32)[:, None]]
        )
        sides = Screen(
            self.mentees, self.mentors, mentee_features, mentor_features, self.exceptions, policy
        )
        found_m: list[NDArray[np.intp]] = []
        found_e: list[NDArray[np.intp]] = []
        excess = np.zeros(n_e)
        for block in sides.blocks(np.arange(n_e), budget.block_cells):
            values = sides.values(block)
            excess[sides.row_order[block.rows]] = np.maximum(values.max(axis=0), 0.0)
            c, r = top_k_per_column(values, budget.per_mentee)
            keep = values[c, r] > tolerance
            found_m.append(sides.col_order[c[keep] + block.lo])
            found_e.append(sides.row_order[block.rows[r[keep]]])
        mentor, mentee = joined(found_m), joined(found_e)
        ok = feasible(
            self.mentors, self.mentees, policy, self.excluded, self.declined, mentor, mentee
        )
        return mentor[ok], mentee[ok], excess


def solve_priced(
    run: MatchingRun,
    found: Candidates,
    pool_m: NDArray[np.intp],
    pool_e: NDArray[np.intp],
    objective: Objective,
    budget: SearchBudget,
) -> bool:
    """The first round on shortlists, then up to `pricing_rounds` screens for pairs that price
    out, each followed by an exact solve on the grown candidate set; it stops early once the
    prices prove the answer within GAP_TARGET of the optimum (`run.gap_bound`).

    Returns whether the answer is a proven optimum (only when the screen kept every pair).
    """
    mentor, mentee = found.mentor, found.mentee
    n_e = len(run.mentees)
    screen: PricingScreen | None = None
    for _ in range(budget.pricing_rounds):
        score = total(pair_factors(run.mentors, run.mentees, run.policy, mentor, mentee))
        grid = exact_grid(
            run.capacity, mentor, mentee, score, objective, False, run.solver_budget, True
        )
        if found.complete or grid is None:
            break
        m, e, _ = solve_sparse(
            run.capacity, mentor, mentee, score, objective, False,
            run.solver_budget, run.solver_log, on_candidates=True,
        )
        values = grid.values(score)
        prices = duals(len(run.mentors), n_e, run.capacity, mentor, mentee, values, m, e)
        if prices is None:
            run.accept(m, e)
            return False
        mentee_price, mentor_price = grid.to_score(prices[0]), grid.to_score(prices[1])
        if screen is None:
            mentors, mentees, excluded, declined = run.pool(pool_m, pool_e)
            screen = PricingScreen.build(
                mentors, mentees, run.policy, excluded, declined, len(run.vocabulary.topics)
            )
        more_m, more_e, excess = screen.priced_pairs(
            run.policy,
            budget,
            mentor_price[pool_m],
            grid.bonus - mentee_price[pool_e],
            PRICE_TOLERANCE * max(max_score(run.policy), 1.0),
        )
        # weak duality: raising each mentee's price by its best excess prices out every pair
        chosen = grid.to_score(value_of(m, e, mentor, mentee, values)).sum()
        bound = mentee_price.sum() + excess.sum() + (mentor_price * run.capacity).sum()
        scored = float(chosen) - grid.bonus * len(m)  # 'max_matched': relative to the score
        run.gap_bound = max(float(bound - chosen), 0.0) / max(scored, 1e-12)
        keys = np.unique(
            np.concatenate([mentor * n_e + mentee, pool_m[more_m] * n_e + pool_e[more_e]])
        )
        if len(keys) == len(mentor) or run.gap_bound <= GAP_TARGET:
            run.accept(m, e)
            return False
        run.priced_pairs += len(keys) - len(mentor)
        mentor, mentee = (keys // n_e).astype(np.intp), (keys % n_e).astype(np.intp)
    grown = Candidates(mentor, mentee, found.mentor_reach, found.mentee_reach, found.complete)
    return run.solve(grown, objective)[1]
