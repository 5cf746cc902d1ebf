"""The event catalogue as docs/architecture.md specifies it, and the rules the models hold."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from contracts import ALL_EVENTS, EVENT_TYPES, Event
from contracts.catalogue import example_data, example_event
from contracts.enrolment import (
    CohortOpened,
    MatchingPolicy,
    ParticipantEnrolled,
    ScoringWeights,
)
from contracts.matching import (
    PairDeclined,
    PairProposed,
    RoundStatistics,
    ScoreFactor,
)
from contracts.notifications import NotificationDelivered
from contracts.sessions import SessionFeedback, SessionScheduled
from contracts.topics import ALL_TOPICS, topic_of

EVENTS = pytest.mark.parametrize("event_cls", ALL_EVENTS, ids=lambda cls: cls.__name__)
DESIGN_ORDER = [
    "CohortOpened", "CohortClosed", "ParticipantEnrolled", "ParticipantWithdrawn",
    "PairProposed", "PairAccepted", "PairDeclined", "PairConfirmed", "MatchingRoundCompleted",
    "SessionScheduled", "SessionCompleted", "SessionCancelled", "MentorshipCompleted",
    "NotificationDelivered", "NotificationFailed",
]  # fmt: skip


def test_the_catalogue_holds_the_fifteen_events_in_design_order() -> None:
    assert [cls.__name__ for cls in ALL_EVENTS] == DESIGN_ORDER
    assert list(EVENT_TYPES.values()) == list(ALL_EVENTS)


@EVENTS
def test_event_type_is_versioned_and_names_producer_and_event(event_cls: type[Event]) -> None:
    assert re.fullmatch(rf"revmentor\.[a-z]+\.{event_cls.__name__}\.v1", event_cls.event_type())
    assert topic_of(event_cls) in ALL_TOPICS


@EVENTS
def test_every_field_of_every_event_and_nested_model_is_described(event_cls: type[Event]) -> None:
    schema = event_cls.model_json_schema()
    models = [schema, *(d for d in schema.get("$defs", {}).values() if "properties" in d)]
    undescribed = [
        f"{model['title']}.{name}"
        for model in models
        for name, prop in model["properties"].items()
        if not prop.get("description")
    ]
    assert undescribed == []


@EVENTS
def test_every_event_documents_a_valid_example(event_cls: type[Event]) -> None:
    assert event_cls.model_json_schema()["examples"] == [example_data(event_cls)]
    assert isinstance(example_event(event_cls), event_cls)


@EVENTS
def test_events_are_frozen_and_ignore_unknown_fields(event_cls: type[Event]) -> None:
    assert event_cls.model_config.get("frozen") is True
    event = event_cls.model_validate({**example_data(event_cls), "added_in_v1_5": 1})
    assert not hasattr(event, "added_in_v1_5")


@EVENTS
def test_every_timestamp_must_carry_a_time_zone(event_cls: type[Event]) -> None:
    properties = event_cls.model_json_schema()["properties"]
    timestamps = [name for name, prop in properties.items() if prop.get("format") == "date-time"]
    assert timestamps, "every fact says when it happened"
    for name in timestamps:
        with pytest.raises(ValidationError):
            event_cls.model_validate({**example_data(event_cls), name: "2025-10-01T12:00:00"})


@pytest.mark.parametrize(
    ("event_name", "subject_field"),
    [
        ("CohortOpened", "cohort_id"), ("CohortClosed", "cohort_id"),
        ("ParticipantEnrolled", "participant_id"), ("ParticipantWithdrawn", "participant_id"),
        ("PairProposed", "pair_id"), ("PairAccepted", "pair_id"), ("PairDeclined", "pair_id"),
        ("PairConfirmed", "pair_id"), ("MatchingRoundCompleted", "round_id"),
        ("SessionScheduled", "session_id"), ("SessionCompleted", "session_id"),
        ("SessionCancelled", "session_id"), ("MentorshipCompleted", "pair_id"),
        ("NotificationDelivered", "notification_id"), ("NotificationFailed", "notification_id"),
    ],
)  # fmt: skip
def test_subject_is_the_entity_the_fact_is_about(event_name: str, subject_field: str) -> None:
    event_cls = next(cls for cls in ALL_EVENTS if cls.__name__ == event_name)
    event = example_event(event_cls)
    assert event.subject() == getattr(event, subject_field)


def test_only_participant_enrolled_carries_name_and_email() -> None:
    carriers = [
        cls.__name__
        for cls in ALL_EVENTS
        if {"email", "name"} & set(cls.model_json_schema()["properties"])
    ]
    assert carriers == ["CohortOpened", "ParticipantEnrolled"]  # CohortOpened: the cohort's name
    assert "email" not in CohortOpened.model_fields
    for field in ("name", "email", "goals"):
        description = ParticipantEnrolled.model_fields[field].description or ""
        assert "PERSONAL DATA" in description and "withdrawal" in description


def test_a_notification_never_names_its_recipient_by_address() -> None:
    data = {**example_data(NotificationDelivered), "recipient_id": "lea.schneider@example.com"}
    with pytest.raises(ValidationError, match="recipient_id"):
        NotificationDelivered.model_validate(data)


def test_a_proposal_explanation_must_add_up_to_the_score() -> None:
    data = example_data(PairProposed)
    assert PairProposed.model_validate({**data, "score": 1.3404}).score == 1.3404  # rounding
    with pytest.raises(ValidationError, match="explanation sums to"):
        PairProposed.model_validate({**data, "score": 2.0})


def test_a_decline_needs_no_reason() -> None:
    data = example_data(PairDeclined)
    del data["reason"]
    assert PairDeclined.model_validate(data).reason is None


def test_a_session_is_announced_without_its_meeting_details() -> None:
    """The link and the place stay in the sessions service; older events that carry them, with
    an https link, still validate."""
    data = example_data(SessionScheduled)
    assert SessionScheduled.model_validate(data).video_link is None
    older = {**data, "video_link": "https://meet.example.com/rm-9d2e41b7"}
    assert SessionScheduled.model_validate(older).video_link == older["video_link"]
    with pytest.raises(ValidationError, match="video_link"):
        SessionScheduled.model_validate({**data, "video_link": "http://meet.example.com/x"})
    in_person = {**data, "format": "in_person", "location": "Room 4.12"}
    assert SessionScheduled.model_validate(in_person).location == "Room 4.12"


def test_a_cohort_window_must_close_after_it_opens() -> None:
    data = example_data(CohortOpened)
    with pytest.raises(ValidationError, match="closes_at"):
        CohortOpened.model_validate({**data, "closes_at": data["opens_at"]})


def test_learning_back_weighs_less_than_learning_by_default() -> None:
    weights = ScoringWeights()
    assert 0 < weights.reverse_topic_fit < weights.topic_fit
    data = example_data(CohortOpened)
    del data["matching_policy"]
    assert CohortOpened.model_validate(data).matching_policy == MatchingPolicy()


@pytest.mark.parametrize(
    "policy",
    [{"mentor_capacity": 4}, {"mentor_capacity": 0}, {"min_level_gap": -1}, {"mode": "manual"},
     {"cross_department": "sometimes"}, {"objective": "fairness"}, {"weights": {"format": -1}}],
    ids=str,
)  # fmt: skip
def test_a_matching_policy_outside_its_vocabulary_is_rejected(policy: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MatchingPolicy.model_validate(policy)


def test_nested_models_are_immutable_values() -> None:
    models: list[type[BaseModel]] = [
        MatchingPolicy, ScoringWeights, ScoreFactor, RoundStatistics, SessionFeedback
    ]  # fmt: skip
    for model in models:
        assert model.model_config.get("frozen") is True
        assert model.model_config.get("extra") == "ignore"
