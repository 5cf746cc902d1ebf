"""What a matching run hands back: proposed pairs with their explanation, unmatched people with
their reason, and the run's statistics. Plain frozen dataclasses, ready to be mapped onto events
and API responses by the service.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from contracts.matching import ScoreFactorName
from services.matching.engine.solvers import SolverLog

Role = Literal["mentor", "mentee"]
# no_feasible_partner: nobody on the other side passes the hard rules with this person.
# declined_all: the only partners passing the rules are in declined pairs with this person.
# capacity_exhausted: feasible partners exist, but every one of them is paired elsewhere
#   (mentors full, mentees taken); no feasible pair of two free people is left.
# not_selected: a feasible partner is still free, but the search budget ran out first (large
#   cohorts only, after MAX_RESIDUAL_ROUNDS; not observed in the benchmarks).
UnmatchedReason = Literal[
    "no_feasible_partner", "declined_all", "capacity_exhausted", "not_selected"
]


@dataclass(frozen=True, slots=True)
class ProposedPair:
    mentor_id: str
    mentee_id: str
    score: float
    explanation: Mapping[ScoreFactorName, float]  # weighted contributions; they sum to `score`
    shared_topics: tuple[str, ...]  # the mentor offers and the mentee wants
    reverse_shared_topics: tuple[str, ...]  # the mentee offers and the mentor wants
    shared_goal_terms: tuple[str, ...]  # content words both goal texts contain
    locked: bool = False  # kept from a locked (fixed) pair of a draft round


@dataclass(frozen=True, slots=True)
class Unmatched:
    participant_id: str
    role: Role
    reason: UnmatchedReason


@dataclass(frozen=True)
class MatchStats:
    pairs: int  # equals the number of matched mentees
    matched_mentors: int
    locked_pairs: int
    total_score: float
    mean_score: float
    cross_department_share: float  # share of pairs whose departments differ
    unmatched_mentees: Mapping[str, int]  # reason -> count
    unmatched_mentors: Mapping[str, int]
    exact: bool  # the solver saw every feasible pair and solved exactly: a proven optimum
    candidate_pairs: int  # pairs the solver was offered, over all rounds
    feasible_pairs: int = 0  # pairs of the open pool passing every hard rule (first round)
    solver_fallbacks: int = 0  # solver calls whose budget ran out (see engine.solvers)
    solves: Mapping[str, int] = field(default_factory=dict)  # solver -> calls answered
    priced_pairs: int = 0  # candidates added because they priced out (see engine.pricing)
    # pruned runs with pricing: proven upper bound of (optimum - total) / total of the first
    # round, from its dual prices (up to the screen's float32 scoring); None when not priced
    gap_bound: float | None = None


@dataclass(frozen=True)
class MatchResult:
    pairs: tuple[ProposedPair, ...]  # best score first
    unmatched: tuple[Unmatched, ...]  # mentees first, each role in input order
    stats: MatchStats


def summarise(
    pairs: tuple[ProposedPair, ...],
    unmatched: tuple[Unmatched, ...],
    cross_department: int,
    exact: bool,
    candidate_pairs: int,
    feasible_pairs: int = 0,
    solver_log: SolverLog | None = None,
    priced_pairs: int = 0,
    gap_bound: float | None = None,
) -> MatchResult:
    """Bundle pairs and unmatched people with their statistics."""
    n = len(pairs)
    total = sum(p.score for p in pairs)
    stats = MatchStats(
        pairs=n,
        matched_mentors=len({p.mentor_id for p in pairs}),
        locked_pairs=sum(p.locked for p in pairs),
        total_score=total,
        mean_score=total / n if n else 0.0,
        cross_department_share=cross_department / n if n else 0.0,
        unmatched_mentees=dict(Counter(u.reason for u in unmatched if u.role == "mentee")),
        unmatched_mentors=dict(Counter(u.reason for u in unmatched if u.role == "mentor")),
        exact=exact,
        candidate_pairs=candidate_pairs,
        feasible_pairs=feasible_pairs,
        solver_fallbacks=solver_log.fallbacks if solver_log else 0,
        solves=dict(solver_log.solves) if solver_log else {},
        priced_pairs=priced_pairs,
        gap_bound=gap_bound,
    )
    return MatchResult(pairs=pairs, unmatched=unmatched, stats=stats)
