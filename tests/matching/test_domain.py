"""Pure rules of pairs: two yeses confirm, one no ends it, explanations match scores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts.catalogue import example_data
from contracts.enrolment import ParticipantEnrolled
from contracts.matching import PairAccepted, PairConfirmed
from contracts.policy import MatchingPolicy as CohortPolicy
from services.matching.domain import (
    Pair,
    PairStatus,
    candidate_from,
)
from services.runtime.errors import Conflict, NotFound

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
    declined = pair.decline("m", NOW, "no_common_ground")
    assert (declined.reason, declined.by_role.value) == ("no_common_ground", "mentor")
    assert pair.status is PairStatus.DECLINED
    with pytest.raises(Conflict) as refused:
        pair.accept("e", NOW)
    assert refused.value.code == "pair-not-open"


def test_only_members_of_the_pair_can_answer_and_others_get_its_404() -> None:
    with pytest.raises(NotFound) as stranger:
        proposed_pair().accept("stranger", NOW)
    assert stranger.value.code == "pair-not-found"


def test_a_decline_reason_is_a_code_never_free_text() -> None:
    with pytest.raises(ValidationError):
        proposed_pair().decline("m", NOW, "Dana was rude to me")


def test_drafts_and_other_business_units_never_see_a_pair() -> None:
    pair = proposed_pair()
    assert pair.visible_to("bu", "m", admin=False)
    assert pair.visible_to("bu", None, admin=True)
    assert not pair.visible_to("bu", "stranger", admin=False)
    assert not pair.visible_to("other-bu", "m", admin=True)
    assert not proposed_pair(status=PairStatus.DRAFT).visible_to("bu", "m", admin=True)


def test_a_confirmed_pair_cannot_be_declined() -> None:
    pair = proposed_pair(mentor_accepted=True)
    pair.accept("e", NOW)
    with pytest.raises(Conflict):
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
