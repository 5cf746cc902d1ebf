"""What the matching HTTP API takes and returns: round requests and pair, round and person views.

Every response has a typed schema, so the OpenAPI document tells a client exactly what a pair's
explanation or a round's statistics hold.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from contracts.base import ReasonCode
from contracts.enrolment import Role
from contracts.matching import RoundStatistics, RoundTrigger
from contracts.policy import Objective
from services.matching.domain import Pair, PairStatus, Round, RoundSummary


class RoundRequest(BaseModel):
    draft: bool = Field(False, description="Keep the round unannounced until it is published.")
    objective: Objective | None = Field(None, description="Override the cohort's objective.")


class FixedPairRequest(BaseModel):
    mentor_id: str = Field(min_length=1, max_length=100)
    mentee_id: str = Field(min_length=1, max_length=100)


class DeclineRequest(BaseModel):
    reason: ReasonCode | None = Field(
        None, description="Optional short code such as no_common_ground; free text is refused "
        "because it would reach the append-only event log. Never shown to the other side.",
    )


class PairView(BaseModel):
    """A proposed pair with why it was proposed and what each side answered."""

    pair_id: str
    cohort_id: str
    round_id: str
    mentor_id: str
    mentee_id: str
    score: float = Field(description="Total score under the cohort's policy.")
    explanation: dict[str, float] = Field(
        description="Each factor's weighted contribution; they sum to the score.")
    shared_topics: list[str] = Field(description="Topics the mentor offers and the mentee wants.")
    reverse_shared_topics: list[str] = Field(
        description="Topics the mentee offers and the mentor wants.")
    status: PairStatus
    mentor_accepted: bool
    mentee_accepted: bool
    locked: bool = Field(description="Kept whatever re-solving of its draft does.")

    @classmethod
    def of(cls, pair: Pair) -> PairView:
        return cls(
            pair_id=pair.pair_id, cohort_id=pair.cohort_id, round_id=pair.round_id,
            mentor_id=pair.mentor_id, mentee_id=pair.mentee_id, score=pair.score,
            explanation=pair.explanation, shared_topics=pair.shared_topics,
            reverse_shared_topics=pair.reverse_shared_topics, status=pair.status,
            mentor_accepted=pair.mentor_accepted, mentee_accepted=pair.mentee_accepted,
            locked=pair.locked,
        )


class UnmatchedView(BaseModel):
    """Someone the round left without a partner, and why."""

    participant_id: str
    role: Role
    reason: str = Field(
        description="no_feasible_partner | declined_all | capacity_exhausted | not_selected")


class RoundView(BaseModel):
    round_id: str
    cohort_id: str
    trigger: RoundTrigger
    objective: Objective
    published: bool
    pairs: list[PairView] = Field(description="The pairs this round added.")
    unmatched: list[UnmatchedView]
    statistics: RoundStatistics

    @classmethod
    def of(cls, rnd: Round) -> RoundView:
        return cls(
            round_id=rnd.round_id, cohort_id=rnd.cohort_id, trigger=rnd.trigger,
            objective=rnd.objective, published=rnd.published,
            pairs=[PairView.of(p) for p in rnd.pairs],
            unmatched=[UnmatchedView(participant_id=pid, role=role, reason=reason)
                       for pid, role, reason in rnd.unmatched_people()],
            statistics=RoundStatistics.model_validate(rnd.statistics),
        )


class RoundSummaryView(BaseModel):
    round_id: str
    trigger: RoundTrigger
    published: bool
    statistics: RoundStatistics

    @classmethod
    def of(cls, summary: RoundSummary) -> RoundSummaryView:
        return cls(round_id=summary.round_id, trigger=summary.trigger,
                   published=summary.published, statistics=summary.statistics)
