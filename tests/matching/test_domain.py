"""Pure rules of pairs: two yeses confirm, one no ends it, explanations match scores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.catalogue import example_data
from contracts.enrolment import ParticipantEnrolled
from contracts.matching import PairAccepted, PairConfirmed
from contracts.policy import MatchingPolicy as CohortPolicy
from services.matching.domain import (
    AnswerRefused,
    Pair,
    PairStatus,
    candidate_from,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def proposed_pair(**fields: object) -> Pair:
    base: dict[str, object] = dict(
        pair_id="pair-1", tenant_id="bu", cohort_id="c", round_id="r", mentor_id="m",
        mentee_id="e", score=0.9, explanation={"topic_fit": 0.5, "format": 0.2,
                                               "cross_department": 0.2},
        shared_topics=["genai"], reverse_shared_topics=[], status=PairStatus.PROPOSED)
    base.update(fields)
    return Pair(**base)  # type: ignore[arg-type]


def test_one_acceptance_waits_for_the_other_side() -> None:
    pair = proposed_pair()
    events = pair.accept("e", NOW)
    assert [type(e) for e in events] == [PairAccepted]
    assert pair.status is PairStatus.PROPOSED


def test_second_acceptance_confirms_the_mentorship() -> None:
    pair = proposed_pair()
    pair.accept("m", NOW)
    events = pair.accept("e", NOW)
    assert [type(e) for e in events] == [PairAccepted, PairConfirmed]
    assert pair.status is PairStatus.CONFIRMED


def test_accepting_twice_announces_nothing_new() -> None:
    pair = proposed_pair()
    pair.accept("m", NOW)
    assert pair.accept("m", NOW) == []


def test_a_decline_ends_the_proposal_and_no_answer_is_taken_after() -> None:
    pair = proposed_pair()
    declined = pair.decline("m", NOW, "no spark")
    assert declined.reason == "no spark" and declined.by_role.value == "mentor"
    assert pair.status is PairStatus.DECLINED
    with pytest.raises(AnswerRefused):
        pair.accept("e", NOW)


def test_only_members_of_the_pair_can_answer() -> None:
    with pytest.raises(LookupError):
        proposed_pair().accept("stranger", NOW)


def test_a_confirmed_pair_cannot_be_declined() -> None:
    pair = proposed_pair(mentor_accepted=True)
    pair.accept("e", NOW)
    with pytest.raises(AnswerRefused):
        pair.decline("m", NOW, None)


def test_announced_explanation_has_weights_values_and_sums_to_the_score() -> None:
    policy = CohortPolicy()
    event = proposed_pair().proposed(policy, NOW)
    assert {f.factor.value for f in event.explanation} >= {"topic_fit", "format"}
    assert sum(f.contribution for f in event.explanation) == pytest.approx(0.9)
    topic = next(f for f in event.explanation if f.factor.value == "topic_fit")
    assert topic.weight == policy.weights.topic_fit
    assert topic.value == pytest.approx(0.5 / policy.weights.topic_fit)


def test_engine_sees_the_reporting_line_and_no_personal_contact_data() -> None:
    enrolled = ParticipantEnrolled.model_validate(
        {**example_data(ParticipantEnrolled), "manager_id": "boss", "manager_chain": []})
    candidate = candidate_from(enrolled)
    assert candidate.manager_chain == ("boss",)
    assert not hasattr(candidate, "email") and not hasattr(candidate, "name")
