"""The engine reads the cohort's contract policy: its weights, its rules, a round's objective."""

from __future__ import annotations

import pytest

from contracts.enrolment import PreferredFormat
from contracts.matching import ScoreFactorName
from contracts.policy import CrossDepartment, MatchingPolicy, Objective
from services.matching.engine import Candidate, exact_match, factor_weight, match, max_score
from tests.unit.matching.strategies import cohort_policy, person, weighted


def _one_star_mentor_cohort() -> tuple[list[Candidate], list[Candidate]]:
    """'a' fits 'x' perfectly and 'y' not at all; 'b' may only take 'x' and fits nobody.

    Highest score: a-x alone (1.0). Most pairs: a-y and b-x (score 0).
    """
    ai = frozenset({"ai"})
    mentors = [person("a", 1, topics_offered=ai), person("b", 4)]
    mentees = [person("x", 5, topics_wanted=ai), person("y", 2)]
    return mentors, mentees


@pytest.mark.parametrize("solver", ["match", "exact_match"])
@pytest.mark.parametrize(
    ("cohort_objective", "round_objective", "pairs"),
    [
        (Objective.MAX_SCORE, None, {("a", "x")}),
        (Objective.MAX_SCORE, Objective.MAX_MATCHED, {("a", "y"), ("b", "x")}),
        (Objective.MAX_MATCHED, None, {("a", "y"), ("b", "x")}),
        (Objective.MAX_MATCHED, Objective.MAX_SCORE, {("a", "x")}),
    ],
)
def test_a_rounds_objective_overrides_the_cohorts_for_that_round_only(
    solver: str,
    cohort_objective: Objective,
    round_objective: Objective | None,
    pairs: set[tuple[str, str]],
) -> None:
    mentors, mentees = _one_star_mentor_cohort()
    policy = weighted(topic_fit=1.0).model_copy(update={"objective": cohort_objective})
    solve = match if solver == "match" else exact_match
    result = solve(mentors, mentees, policy, objective=round_objective)
    assert {(p.mentor_id, p.mentee_id) for p in result.pairs} == pairs


@pytest.mark.parametrize(
    ("rule", "weight"),
    [
        (CrossDepartment.PREFERRED, 0.3),
        (CrossDepartment.REQUIRED, 0.0),
        (CrossDepartment.IGNORED, 0.0),
    ],
)
def test_department_bonus_is_weighted_only_when_mixing_is_preferred(
    rule: CrossDepartment, weight: float
) -> None:
    policy = MatchingPolicy(cross_department=rule)
    assert factor_weight(policy, ScoreFactorName.CROSS_DEPARTMENT) == weight
    assert factor_weight(policy, ScoreFactorName.TOPIC_FIT) == policy.weights.topic_fit


def test_best_possible_pair_score_is_the_sum_of_the_counted_weights() -> None:
    assert max_score(cohort_policy()) == pytest.approx(1.0)
    assert max_score(cohort_policy(cross_department=CrossDepartment.REQUIRED)) == (
        pytest.approx(0.85)
    )
    assert max_score(weighted()) == 0.0


def test_the_cohorts_defaults_are_the_contracts() -> None:
    """One source of defaults: a cohort that stated nothing matches under the contract's."""
    mentor = person("m", 1, department="hr")
    mentee = person("e", 3, department="it", utc_offset_hours=6.0)
    defaults = MatchingPolicy()
    (pair,) = match([mentor], [mentee], defaults).pairs  # level gap 2, 6 h apart: allowed
    assert pair.explanation[ScoreFactorName.CROSS_DEPARTMENT] == defaults.weights.cross_department
    assert pair.explanation[ScoreFactorName.FORMAT] == defaults.weights.format


def test_a_stored_format_string_becomes_the_contracts_format() -> None:
    assert person("m", 1, format="video").format is PreferredFormat.VIDEO
