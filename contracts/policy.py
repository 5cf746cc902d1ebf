"""A cohort's matching policy: the rules and weights every matching round of the cohort follows.

It travels inside ``CohortOpened``, so the matching service needs no other source of truth and
a round can be replayed with exactly the policy it ran under.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class MatchingMode(StrEnum):
    """``batch`` matches everyone once enrolment closes; ``rolling`` matches as people arrive."""

    BATCH = "batch"
    ROLLING = "rolling"


class CrossDepartment(StrEnum):
    """Whether mentor and mentee must, should, or may come from different departments."""

    REQUIRED = "required"
    PREFERRED = "preferred"
    IGNORED = "ignored"


class Objective(StrEnum):
    """What the matching engine optimises: total score, or number of mentees matched first."""

    MAX_SCORE = "max_score"
    MAX_MATCHED = "max_matched"


class ScoringWeights(BaseModel):
    """Weights of the soft factors of a pair's score; a weight of 0 switches a factor off.

    ``reverse_topic_fit`` (what the mentee can teach the mentor) counts less than ``topic_fit``
    by default: the programme is about the junior teaching the senior, learning back is a bonus.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)

    topic_fit: float = Field(
        1.0, ge=0, description="Weight of mentor's offered topics matching mentee's wanted ones."
    )
    reverse_topic_fit: float = Field(
        0.4, ge=0, description="Weight of mentee's offered topics matching mentor's wanted ones."
    )
    format: float = Field(0.2, ge=0, description="Weight of compatible preferred formats.")
    cross_department: float = Field(
        0.3, ge=0, description="Weight of mentor and mentee being in different departments."
    )
    goal_similarity: float = Field(
        0.2, ge=0, description="Weight of the textual similarity of both sides' goals."
    )


class MatchingPolicy(BaseModel):
    """The cohort's matching rules, fixed when it opens so every round is reproducible."""

    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)

    mode: MatchingMode = Field(MatchingMode.BATCH, description="When matching rounds run.")
    mentor_capacity: int = Field(
        1, ge=1, le=3, description="How many mentees one mentor may have at the same time."
    )
    min_level_gap: int = Field(
        2, ge=0, le=100, description="Minimum of mentee career level minus mentor career level."
    )
    cross_department: CrossDepartment = Field(
        CrossDepartment.PREFERRED,
        description="required: hard constraint; preferred: scored; ignored: not considered.",
    )
    max_timezone_gap_hours: float = Field(
        6.0, ge=0, le=26, description="Largest allowed difference of the two UTC offsets, hours."
    )
    exclude_reporting_line: bool = Field(
        True, description="Never pair a mentee with someone in their own reporting line."
    )
    objective: Objective = Field(Objective.MAX_SCORE, description="What a round optimises.")
    weights: ScoringWeights = Field(
        ScoringWeights(), description="Weights of the soft scoring factors."
    )
