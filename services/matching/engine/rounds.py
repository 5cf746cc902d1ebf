"""One matching run: the encoded cohort, locked pairs, capacity left, and the rounds.

The engine drives a run in rounds: a first round over the open pool with the policy's
objective, then residual rounds that offer still-unmatched mentees the mentors with capacity
left (maximising how many more get a partner) until no feasible pair of two free people is
left. That last property is what makes every unmatched reason a fact about the final state.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from contracts.matching import ScoreFactorName
from contracts.policy import MatchingPolicy, Objective
from services.matching.engine.assignment import solve_sparse
from services.matching.engine.candidates import (
    REACH_DECLINED_ONLY,
    REACH_FEASIBLE,
    Candidates,
    SearchBudget,
    screen,
)
from services.matching.engine.encoding import Candidate, Side, encode_sides
from services.matching.engine.feasibility import (
    PairSet,
    attribute_feasible,
    declined_pairs,
    excluded_pairs,
    feasible,
)
from services.matching.engine.outcome import (
    MatchResult,
    ProposedPair,
    Unmatched,
    UnmatchedReason,
    summarise,
)
from services.matching.engine.scoring import FACTORS, pair_factors, total
from services.matching.engine.solvers import SolverBudget, SolverLog

MAX_RESIDUAL_ROUNDS = 8
_REACH_CELLS = 2_000_000  # pairs checked at once when looking past the first round's pool


class FixedPairError(ValueError):
    """A locked pair cannot be kept: unknown person, over capacity, or a broken hard rule."""


class MatchingRun:
    def __init__(
        self,
        mentors: Sequence[Candidate],
        mentees: Sequence[Candidate],
        policy: MatchingPolicy,
        declined: Collection[tuple[str, str]],
        fixed: Iterable[tuple[str, str]],
        solver_budget: SolverBudget | None = None,
    ) -> None:
        for role, people in (("mentor", mentors), ("mentee", mentees)):
            ids = [p.participant_id for p in people]
            if len(set(ids)) != len(ids):
                raise ValueError(f"duplicate {role} participant ids")
        self.people_m, self.people_e, self.policy = list(mentors), list(mentees), policy
        self.mentors, self.mentees, self.vocabulary = encode_sides(mentors, mentees)
        self.excluded = excluded_pairs(mentors, mentees, policy)
        self.declined = declined_pairs(declined, mentors, mentees)
        self.capacity = np.full(len(mentors), policy.mentor_capacity, np.int64)
        self.mentee_taken = np.zeros(len(mentees), bool)
        self.pair_m: list[NDArray[np.intp]] = []
        self.pair_e: list[NDArray[np.intp]] = []
        self.still_open: tuple[NDArray[np.intp], NDArray[np.intp]] | None = None
        self.candidate_pairs = 0
        self.priced_pairs = 0  # candidates added by pricing
        self.gap_bound: float | None = None  # proven distance to the optimum (pricing)
        self.solver_budget = solver_budget or SolverBudget()
        self.solver_log = SolverLog()
        self.locked = self._lock(fixed)

    def _lock(self, fixed: Iterable[tuple[str, str]]) -> int:
        """Keep the locked pairs; they take their mentee and one slot of their mentor."""
        mentor_row = {m: i for i, m in enumerate(self.mentors.ids)}
        mentee_row = {e: i for i, e in enumerate(self.mentees.ids)}
        pairs = list(dict.fromkeys(fixed))
        for m_id, e_id in pairs:
            if m_id not in mentor_row or e_id not in mentee_row:
                raise FixedPairError(f"locked pair ({m_id}, {e_id}) names an unknown participant")
        m = np.array([mentor_row[p[0]] for p in pairs], np.intp)
        e = np.array([mentee_row[p[1]] for p in pairs], np.intp)
        if len(np.unique(e)) != len(e):
            raise FixedPairError("a mentee appears in more than one locked pair")
        if np.any(np.bincount(m, minlength=len(self.capacity)) > self.capacity):
            raise FixedPairError("locked pairs exceed a mentor's capacity")
        bad = ~self.feasible(m, e)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FixedPairError(f"locked pair {pairs[i]} breaks a hard matching rule")
        self.accept(m, e)
        return len(pairs)

    def feasible(self, m: NDArray[np.intp], e: NDArray[np.intp]) -> NDArray[np.bool_]:
        return feasible(self.mentors, self.mentees, self.policy, self.excluded, self.declined, m, e)

    def accept(self, m: NDArray[np.intp], e: NDArray[np.intp]) -> None:
        np.subtract.at(self.capacity, m, 1)
        self.mentee_taken[e] = True
        self.pair_m.append(m)
        self.pair_e.append(e)

    def open_mentors(self) -> NDArray[np.intp]:
        return np.flatnonzero(self.capacity > 0)

    def open_mentees(self) -> NDArray[np.intp]:
        return np.flatnonzero(~self.mentee_taken)

    def pool(
        self, pool_m: NDArray[np.intp], pool_e: NDArray[np.intp]
    ) -> tuple[Side, Side, PairSet, PairSet]:
        whole = len(pool_m) == len(self.mentors) and len(pool_e) == len(self.mentees)
        if whole:
            return self.mentors, self.mentees, self.excluded, self.declined
        return (
            self.mentors.take(pool_m),
            self.mentees.take(pool_e),
            self.excluded.restrict(pool_m, pool_e, len(self.mentors)),
            self.declined.restrict(pool_m, pool_e, len(self.mentors)),
        )

    def screen(
        self, pool_m: NDArray[np.intp], pool_e: NDArray[np.intp], budget: SearchBudget
    ) -> Candidates:
        """Screen a sub-cohort; pairs and reach come back in whole-cohort rows."""
        mentors, mentees, excluded, declined = self.pool(pool_m, pool_e)
        n_topics = len(self.vocabulary.topics)
        found = screen(mentors, mentees, self.policy, excluded, declined, n_topics, budget)
        self.candidate_pairs += len(found.mentor)
        mentor_reach = np.zeros(len(self.mentors), np.int8)
        mentee_reach = np.zeros(len(self.mentees), np.int8)
        mentor_reach[pool_m] = found.mentor_reach
        mentee_reach[pool_e] = found.mentee_reach
        return Candidates(
            pool_m[found.mentor],
            pool_e[found.mentee],
            mentor_reach,
            mentee_reach,
            found.complete,
            found.feasible_pairs,
        )

    def solve(self, found: Candidates, objective: Objective) -> tuple[int, bool]:
        """Assign among the screened pairs: (pairs added, whether they are the exact optimum)."""
        factors = pair_factors(self.mentors, self.mentees, self.policy, found.mentor, found.mentee)
        m, e, exact = solve_sparse(
            self.capacity,
            found.mentor,
            found.mentee,
            total(factors),
            objective,
            found.complete,
            self.solver_budget,
            self.solver_log,
            on_candidates=True,
        )
        self.accept(m, e)
        return len(m), exact

    def fill_residual(self, budget: SearchBudget) -> None:
        """Offer still-free mentees the mentors with capacity left, until nothing fits."""
        self.still_open = None
        for _ in range(MAX_RESIDUAL_ROUNDS):
            pool_m, pool_e = self.open_mentors(), self.open_mentees()
            if len(pool_m) == 0 or len(pool_e) == 0:
                return
            found = self.screen(pool_m, pool_e, budget)
            if len(found.mentor) == 0 or self.solve(found, Objective.MAX_MATCHED)[0] == 0:
                return
        pool_m, pool_e = self.open_mentors(), self.open_mentees()
        if len(pool_m) and len(pool_e):
            found = self.screen(pool_m, pool_e, budget)
            self.still_open = (found.mentor, found.mentee)

    def chosen(self) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(mentor, mentee) rows of all pairs, locked pairs first."""
        if not self.pair_m:
            return np.zeros(0, np.intp), np.zeros(0, np.intp)
        return np.concatenate(self.pair_m), np.concatenate(self.pair_e)

    def _pair_reach(self, m: NDArray[np.intp], e: NDArray[np.intp]) -> NDArray[np.int8]:
        rule_ok = attribute_feasible(self.mentors, self.mentees, self.policy, m, e)
        rule_ok &= ~self.excluded.contains(m, e)
        reach = np.where(rule_ok, REACH_DECLINED_ONLY, 0).astype(np.int8)
        reach[rule_ok & ~self.declined.contains(m, e)] = REACH_FEASIBLE
        return reach

    def _reach(self, first: Candidates) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
        """Each person's reach over the whole cohort.

        The first round's screen saw only the open pool; people in locked pairs are possible
        partners too, so whoever looked partnerless there is checked against them.
        """
        mentor_reach, mentee_reach = first.mentor_reach.copy(), first.mentee_reach.copy()
        if not self.locked:
            return mentor_reach, mentee_reach
        m_rows, e_rows = self.chosen()
        locked_m, locked_e = np.unique(m_rows[: self.locked]), e_rows[: self.locked]
        unpaired_m = np.bincount(m_rows, minlength=len(self.mentors)) == 0
        lonely_e = np.flatnonzero(~self.mentee_taken & (mentee_reach < REACH_FEASIBLE))
        lonely_m = np.flatnonzero(unpaired_m & (mentor_reach < REACH_FEASIBLE))
        step = max(1, _REACH_CELLS // max(len(locked_m), len(locked_e), 1))
        for i in range(0, len(lonely_e), step):
            rows = lonely_e[i : i + step]
            m, e = (a.ravel() for a in np.meshgrid(locked_m, rows, indexing="ij"))
            best = self._pair_reach(m, e).reshape(len(locked_m), len(rows)).max(axis=0)
            mentee_reach[rows] = np.maximum(mentee_reach[rows], best)
        for i in range(0, len(lonely_m), step):
            rows = lonely_m[i : i + step]
            m, e = (a.ravel() for a in np.meshgrid(rows, locked_e, indexing="ij"))
            best = self._pair_reach(m, e).reshape(len(rows), len(locked_e)).max(axis=1)
            mentor_reach[rows] = np.maximum(mentor_reach[rows], best)
        return mentor_reach, mentee_reach

    def result(self, first: Candidates, exact: bool) -> MatchResult:
        """Pairs with explanations, unmatched people with reasons, statistics."""
        m_rows, e_rows = self.chosen()
        factors = pair_factors(self.mentors, self.mentees, self.policy, m_rows, e_rows)
        contributions = zip(*(factors[f].tolist() for f in FACTORS), strict=True)
        scores = total(factors).tolist()
        rows = zip(m_rows.tolist(), e_rows.tolist(), scores, contributions, strict=True)
        pairs = [
            self._pair(m, e, score, dict(zip(FACTORS, c, strict=True)), i < self.locked)
            for i, (m, e, score, c) in enumerate(rows)
        ]
        pairs.sort(key=lambda p: (-p.score, p.mentor_id, p.mentee_id))
        mentor_reach, mentee_reach = self._reach(first)
        open_m, open_e = set(), set()
        if self.still_open is not None:
            open_m, open_e = set(self.still_open[0].tolist()), set(self.still_open[1].tolist())
        unpaired_m = np.bincount(m_rows, minlength=len(self.mentors)) == 0
        unmatched = [
            Unmatched(self.mentees.ids[i], "mentee", _reason(mentee_reach[i], i in open_e))
            for i in np.flatnonzero(~self.mentee_taken).tolist()
        ] + [
            Unmatched(self.mentors.ids[i], "mentor", _reason(mentor_reach[i], i in open_m))
            for i in np.flatnonzero(unpaired_m).tolist()
        ]
        cross = self.mentors.department[m_rows] != self.mentees.department[e_rows]
        return summarise(
            tuple(pairs),
            tuple(unmatched),
            int(cross.sum()),
            exact,
            self.candidate_pairs,
            first.feasible_pairs,
            self.solver_log,
            self.priced_pairs,
            self.gap_bound,
        )

    def _pair(
        self, m: int, e: int, score: float, explanation: dict[ScoreFactorName, float], locked: bool
    ) -> ProposedPair:
        mentor, mentee = self.people_m[m], self.people_e[e]
        shared_terms = self.mentors.goal_terms[m] & self.mentees.goal_terms[e]
        return ProposedPair(
            mentor_id=mentor.participant_id,
            mentee_id=mentee.participant_id,
            score=score,
            explanation=explanation,
            shared_topics=tuple(sorted(mentor.topics_offered & mentee.topics_wanted)),
            reverse_shared_topics=tuple(sorted(mentee.topics_offered & mentor.topics_wanted)),
            shared_goal_terms=tuple(sorted(shared_terms)),
            locked=locked,
        )


def _reason(reach: int, partner_still_free: bool) -> UnmatchedReason:
    if partner_still_free:
        return "not_selected"
    if reach >= REACH_FEASIBLE:
        return "capacity_exhausted"
    if reach == REACH_DECLINED_ONLY:
        return "declined_all"
    return "no_feasible_partner"
