"""Events of the matching service: proposed pairs, both sides' answers, and round statistics.

A pair becomes a mentorship only when both sides accept (sympathy is the precondition), so the
service publishes each answer and then ``PairConfirmed``; a decline returns both to the pool.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.base import Event, Identifier, ReasonCode, Timestamp
from contracts.enrolment import COUNT_MAX, TOPICS_MAX, Role, Topic
from contracts.policy import Objective

_PRODUCER = "matching"
_TENANT = "bu-retail-banking"
_COHORT = "coh-2025-autumn"
_PAIR = {
    "tenant_id": _TENANT,
    "cohort_id": _COHORT,
    "pair_id": "pair-9d2e41b7",
    "mentor_id": "p-4f1c9e2a",
    "mentee_id": "p-b83a0c55",
}


class ScoreFactorName(StrEnum):
    """The soft factors of a pair's score; the names equal the cohort's ``ScoringWeights``."""

    TOPIC_FIT = "topic_fit"
    REVERSE_TOPIC_FIT = "reverse_topic_fit"
    FORMAT = "format"
    CROSS_DEPARTMENT = "cross_department"
    GOAL_SIMILARITY = "goal_similarity"


UnmatchedReason = Annotated[str, Field(min_length=1, max_length=64)]


class RoundTrigger(StrEnum):
    """What started a matching round."""

    COHORT_CLOSED = "cohort_closed"
    ADMIN = "admin"
    ROLLING = "rolling"


class ScoreFactor(BaseModel):
    """One factor's share of a pair's score, so admins and participants can see why they met."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    factor: ScoreFactorName = Field(description="Which soft factor this is.")
    weight: float = Field(ge=0, description="The cohort policy's weight for the factor.")
    value: float = Field(ge=0, le=1, description="The factor's normalised value in [0, 1].")
    contribution: float = Field(ge=0, description="weight × value: its share of the score.")


class PairProposed(Event):
    """The engine proposed a mentor and a mentee to each other; both must accept.

    The contributions of ``explanation`` sum to ``score`` (within rounding), which is checked
    here so that an explanation can never contradict the score it explains.
    """

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PAIR,
                    "round_id": "round-2025-09-30-01",
                    "score": 1.34,
                    "explanation": [
                        {"factor": "topic_fit", "weight": 1.0, "value": 0.5, "contribution": 0.5},
                        {
                            "factor": "reverse_topic_fit",
                            "weight": 0.4,
                            "value": 0.5,
                            "contribution": 0.2,
                        },
                        {"factor": "format", "weight": 0.2, "value": 1.0, "contribution": 0.2},
                        {
                            "factor": "cross_department",
                            "weight": 0.3,
                            "value": 1.0,
                            "contribution": 0.3,
                        },
                        {
                            "factor": "goal_similarity",
                            "weight": 0.2,
                            "value": 0.7,
                            "contribution": 0.14,
                        },
                    ],
                    "shared_topics": ["genai"],
                    "reverse_shared_topics": ["negotiation"],
                    "proposed_at": "2025-09-30T18:04:12+02:00",
                }
            ]
        }
    )

    pair_id: Identifier = Field(description="Id of the proposed pair.")
    round_id: Identifier = Field(description="Matching round that proposed the pair.")
    mentor_id: Identifier = Field(description="Participant id of the (junior) mentor.")
    mentee_id: Identifier = Field(description="Participant id of the (senior) mentee.")
    score: float = Field(ge=0, description="Total score of the pair under the cohort policy.")
    explanation: list[ScoreFactor] = Field(
        default_factory=list,
        max_length=16,
        description="Per-factor contributions; they sum to score.",
    )
    shared_topics: list[Topic] = Field(
        default_factory=list,
        max_length=TOPICS_MAX,
        description="Topics the mentor offers and the mentee wants.",
    )
    reverse_shared_topics: list[Topic] = Field(
        default_factory=list,
        max_length=TOPICS_MAX,
        description="Topics the mentee offers and the mentor wants.",
    )
    proposed_at: Timestamp = Field(description="When the pair was proposed.")

    @model_validator(mode="after")
    def _explanation_sums_to_score(self) -> PairProposed:
        total = sum(part.contribution for part in self.explanation)
        if self.explanation and not math.isclose(total, self.score, rel_tol=1e-6, abs_tol=1e-3):
            raise ValueError(f"explanation sums to {total}, not to score {self.score}")
        return self

    def subject(self) -> str:
        """The pair the fact is about."""
        return self.pair_id


class PairAccepted(Event):
    """One side of a proposed pair accepted it; the pair waits for the other side."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PAIR,
                    "by_participant_id": "p-b83a0c55",
                    "by_role": "mentee",
                    "accepted_at": "2025-10-01T08:47:00+02:00",
                }
            ]
        }
    )

    pair_id: Identifier = Field(description="The pair that was accepted.")
    mentor_id: Identifier = Field(description="Participant id of the mentor.")
    mentee_id: Identifier = Field(description="Participant id of the mentee.")
    by_participant_id: Identifier = Field(description="Who accepted.")
    by_role: Role = Field(description="Which side accepted.")
    accepted_at: Timestamp = Field(description="When the answer was given.")

    def subject(self) -> str:
        """The pair the fact is about."""
        return self.pair_id


class PairDeclined(Event):
    """One side declined: both return to the pool and this pair is never proposed again."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PAIR,
                    "by_participant_id": "p-4f1c9e2a",
                    "by_role": "mentor",
                    "declined_at": "2025-10-01T12:05:00+02:00",
                    "reason": None,
                }
            ]
        }
    )

    pair_id: Identifier = Field(description="The pair that was declined.")
    mentor_id: Identifier = Field(description="Participant id of the mentor.")
    mentee_id: Identifier = Field(description="Participant id of the mentee.")
    by_participant_id: Identifier = Field(description="Who declined.")
    by_role: Role = Field(description="Which side declined.")
    declined_at: Timestamp = Field(description="When the answer was given.")
    reason: ReasonCode | None = Field(
        None,
        description="Optional reason code (participant_withdrew when a withdrawal declined it); "
        "nobody has to justify a decline. Never shown to the other side.",
    )

    def subject(self) -> str:
        """The pair the fact is about."""
        return self.pair_id


class PairConfirmed(Event):
    """Both sides accepted: the mentorship starts and sessions can be scheduled."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_PAIR, "confirmed_at": "2025-10-01T14:20:00+02:00"}]}
    )

    pair_id: Identifier = Field(description="The pair, from now on also the mentorship id.")
    mentor_id: Identifier = Field(description="Participant id of the mentor.")
    mentee_id: Identifier = Field(description="Participant id of the mentee.")
    confirmed_at: Timestamp = Field(description="When the second acceptance arrived.")

    def subject(self) -> str:
        """The pair the fact is about."""
        return self.pair_id


class RoundStatistics(BaseModel):
    """What a round achieved, for the cohort KPIs and for tuning the policy."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    pairs_proposed: int = Field(ge=0, le=COUNT_MAX, description="Pairs proposed in this round.")
    mentors_in_pool: int = Field(
        ge=0, le=COUNT_MAX, description="Unpaired mentors the round started with."
    )
    mentees_in_pool: int = Field(
        ge=0, le=COUNT_MAX, description="Unpaired mentees the round started with."
    )
    mentors_matched: int = Field(
        ge=0, le=COUNT_MAX, description="Mentors that received at least one pair."
    )
    mentees_matched: int = Field(ge=0, le=COUNT_MAX, description="Mentees that received a pair.")
    unmatched_by_reason: dict[UnmatchedReason, Annotated[int, Field(ge=0, le=COUNT_MAX)]] = Field(
        default_factory=dict,
        max_length=32,
        description="Unmatched participants per reason, e.g. no_eligible_partner: 3.",
    )
    total_score: float = Field(ge=0, description="Sum of the proposed pairs' scores.")
    mean_score: float = Field(ge=0, description="Mean score per proposed pair (0 when none).")
    cross_department_share: float = Field(
        ge=0, le=1, description="Share of proposed pairs across departments."
    )
    engine_seconds: float = Field(ge=0, description="Wall time the engine needed, seconds.")


class MatchingRoundCompleted(Event):
    """A matching round finished; its proposals were published before this event."""

    producer = _PRODUCER
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": _TENANT,
                    "cohort_id": _COHORT,
                    "round_id": "round-2025-09-30-01",
                    "trigger": "cohort_closed",
                    "objective": "max_score",
                    "completed_at": "2025-09-30T18:04:13+02:00",
                    "statistics": {
                        "pairs_proposed": 181,
                        "mentors_in_pool": 212,
                        "mentees_in_pool": 187,
                        "mentors_matched": 160,
                        "mentees_matched": 181,
                        "unmatched_by_reason": {"no_eligible_partner": 4, "timezone_gap": 2},
                        "total_score": 203.7,
                        "mean_score": 1.1254,
                        "cross_department_share": 0.87,
                        "engine_seconds": 0.42,
                    },
                }
            ]
        }
    )

    round_id: Identifier = Field(description="Id of the round.")
    trigger: RoundTrigger = Field(description="What started the round.")
    objective: Objective = Field(description="What the round optimised.")
    completed_at: Timestamp = Field(description="When the round finished.")
    statistics: RoundStatistics = Field(description="What the round achieved.")

    def subject(self) -> str:
        """The round the fact is about."""
        return self.round_id
