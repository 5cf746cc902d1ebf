"""Explanations, unmatched reasons and statistics of the matching engine."""

from __future__ import annotations

import math

import pytest
from hypothesis import given

from contracts.enrolment import PreferredFormat
from contracts.matching import ScoreFactorName
from contracts.policy import CrossDepartment, MatchingPolicy
from services.matching.engine import FACTORS, SearchBudget, match
from tests.unit.matching.strategies import (
    CHECKS,
    PRUNED,
    Cohort,
    allowed,
    cohort_policy,
    cohorts,
    person,
    policies,
    reference_score,
    weighted,
)


@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_factor_contributions_sum_to_the_pair_score(cohort: Cohort, policy: MatchingPolicy) -> None:
    mentors, mentees, declined = cohort
    for p in match(mentors, mentees, policy, declined=declined).pairs:
        assert set(p.explanation) == set(FACTORS)
        assert math.fsum(p.explanation.values()) == pytest.approx(p.score, abs=1e-12)


@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_pair_score_follows_the_documented_formula(cohort: Cohort, policy: MatchingPolicy) -> None:
    mentors, mentees, declined = cohort
    mentor = {c.participant_id: c for c in mentors}
    mentee = {c.participant_id: c for c in mentees}
    for p in match(mentors, mentees, policy, declined=declined, budget=PRUNED).pairs:
        expected = reference_score(mentor[p.mentor_id], mentee[p.mentee_id], policy)
        assert p.score == pytest.approx(expected, abs=1e-9)


@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_shared_topics_are_named_in_both_directions(cohort: Cohort, policy: MatchingPolicy) -> None:
    mentors, mentees, declined = cohort
    mentor = {c.participant_id: c for c in mentors}
    mentee = {c.participant_id: c for c in mentees}
    for p in match(mentors, mentees, policy, declined=declined).pairs:
        m, e = mentor[p.mentor_id], mentee[p.mentee_id]
        assert p.shared_topics == tuple(sorted(m.topics_offered & e.topics_wanted))
        assert p.reverse_shared_topics == tuple(sorted(e.topics_offered & m.topics_wanted))


@pytest.mark.parametrize("budget", [SearchBudget(), PRUNED], ids=["complete", "pruned"])
@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_unmatched_reasons_follow_the_hard_rules(
    budget: SearchBudget, cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentors, mentees, declined = cohort
    result = match(mentors, mentees, policy, declined=declined, budget=budget)
    for u in result.unmatched:
        if u.role == "mentor":
            me = next(c for c in mentors if c.participant_id == u.participant_id)
            pairs = [(me, other) for other in mentees]
        else:
            me = next(c for c in mentees if c.participant_id == u.participant_id)
            pairs = [(other, me) for other in mentors]
        if any(allowed(m, e, policy, declined) for m, e in pairs):
            assert u.reason == "capacity_exhausted"
        elif any(allowed(m, e, policy, set()) for m, e in pairs):
            assert u.reason == "declined_all"
        else:
            assert u.reason == "no_feasible_partner"


@pytest.mark.parametrize("budget", [SearchBudget(), PRUNED], ids=["complete", "pruned"])
@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_no_feasible_pair_of_two_free_people_is_left(
    budget: SearchBudget, cohort: Cohort, policy: MatchingPolicy
) -> None:
    mentors, mentees, declined = cohort
    result = match(mentors, mentees, policy, declined=declined, budget=budget)
    taken = {p.mentee_id for p in result.pairs}
    load = {m.participant_id: 0 for m in mentors}
    for p in result.pairs:
        load[p.mentor_id] += 1
    for m in mentors:
        if load[m.participant_id] < policy.mentor_capacity:
            for e in mentees:
                assert e.participant_id in taken or not allowed(m, e, policy, declined)


@CHECKS
@given(cohort=cohorts(), policy=policies())
def test_statistics_agree_with_the_pairs(cohort: Cohort, policy: MatchingPolicy) -> None:
    mentors, mentees, declined = cohort
    result = match(mentors, mentees, policy, declined=declined)
    stats = result.stats
    mentor_department = {c.participant_id: c.department for c in mentors}
    mentee_department = {c.participant_id: c.department for c in mentees}
    assert stats.pairs == len(result.pairs)
    assert stats.total_score == pytest.approx(sum(p.score for p in result.pairs))
    assert stats.matched_mentors == len({p.mentor_id for p in result.pairs})
    assert sum(stats.unmatched_mentees.values()) == len(mentees) - stats.pairs
    assert sum(stats.unmatched_mentors.values()) == len(mentors) - stats.matched_mentors
    if result.pairs:
        assert stats.mean_score == pytest.approx(stats.total_score / stats.pairs)
        cross = sum(
            mentor_department[p.mentor_id] != mentee_department[p.mentee_id]
            for p in result.pairs
        )  # one id may be enrolled in both roles, with a department in each
        assert stats.cross_department_share == pytest.approx(cross / stats.pairs)


def test_declined_all_when_the_only_partner_declined() -> None:
    result = match([person("m", 1)], [person("e", 5)], cohort_policy(), declined={("m", "e")})
    assert result.pairs == ()
    assert {(u.participant_id, u.reason) for u in result.unmatched} == {
        ("e", "declined_all"),
        ("m", "declined_all"),
    }


def test_capacity_exhausted_when_the_only_mentor_is_taken() -> None:
    mentor = person("m", 1, topics_offered=frozenset({"ai"}))
    keen = person("keen", 5, topics_wanted=frozenset({"ai"}))
    other = person("other", 5)
    result = match([mentor], [keen, other], weighted(topic_fit=1.0))
    assert [(p.mentor_id, p.mentee_id) for p in result.pairs] == [("m", "keen")]
    assert [(u.participant_id, u.reason) for u in result.unmatched] == [
        ("other", "capacity_exhausted")
    ]


def test_no_feasible_partner_for_a_mentor_more_senior_than_every_mentee() -> None:
    result = match([person("boss", 9)], [person("e", 5)], cohort_policy())
    assert {u.reason for u in result.unmatched} == {"no_feasible_partner"}


def test_capacity_exhausted_when_the_mentor_is_filled_by_a_locked_pair() -> None:
    mentor, first, second = person("m", 1), person("e1", 5), person("e2", 5)
    result = match([mentor], [first, second], cohort_policy(), fixed=[("m", "e1")])
    assert [(p.mentee_id, p.locked) for p in result.pairs] == [("e1", True)]
    assert [(u.participant_id, u.reason) for u in result.unmatched] == [
        ("e2", "capacity_exhausted")
    ]


def test_format_clash_is_allowed_but_earns_no_format_points() -> None:
    mentor = person("m", 1, format=PreferredFormat.IN_PERSON)
    mentee = person("e", 5, format=PreferredFormat.VIDEO)
    (pair,) = match([mentor], [mentee], cohort_policy()).pairs
    assert pair.explanation[ScoreFactorName.FORMAT] == 0.0


@pytest.mark.parametrize(
    ("rule", "bonus"),
    [
        (CrossDepartment.PREFERRED, 0.15),
        (CrossDepartment.REQUIRED, 0.0),
        (CrossDepartment.IGNORED, 0.0),
    ],
)
def test_cross_department_bonus_counts_only_when_preferred(
    rule: CrossDepartment, bonus: float
) -> None:
    mentor, mentee = person("m", 1, department="hr"), person("e", 5, department="it")
    (pair,) = match([mentor], [mentee], cohort_policy(cross_department=rule)).pairs
    assert pair.explanation[ScoreFactorName.CROSS_DEPARTMENT] == pytest.approx(bonus)


def test_zero_weight_factor_contributes_nothing() -> None:
    mentor = person("m", 1, topics_offered=frozenset({"ai"}), goals="prompt writing")
    mentee = person("e", 5, topics_wanted=frozenset({"ai"}), goals="prompt writing")
    (pair,) = match([mentor], [mentee], weighted(goal_similarity=1.0)).pairs
    assert pair.explanation == {
        "topic_fit": 0.0,
        "reverse_topic_fit": 0.0,
        "format": 0.0,
        "cross_department": 0.0,
        "goal_similarity": pytest.approx(1.0),
    }
    assert pair.shared_topics == ("ai",)
    assert pair.shared_goal_terms == ("prompt", "writing")


def test_reverse_topic_fit_measures_what_the_mentee_teaches_back() -> None:
    mentor = person("m", 1, topics_wanted=frozenset({"leadership", "budgeting"}))
    mentee = person("e", 5, topics_offered=frozenset({"leadership"}))
    policy = weighted(reverse_topic_fit=1.0)
    (pair,) = match([mentor], [mentee], policy).pairs
    assert pair.explanation[ScoreFactorName.REVERSE_TOPIC_FIT] == pytest.approx(0.5)
    assert pair.reverse_shared_topics == ("leadership",)
