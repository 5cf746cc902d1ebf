"""The rule of docs/architecture.md: append-only topics carry only pseudonymous ids and the
attributes matching needs (role, level, department, topics, languages, time zone, format), never
a name, an e-mail address, the goals text or any other free text.

Every string an event can carry is classified here. A new string field fails
``test_every_string_on_an_append_only_topic_is_classified`` until someone decides what it is;
personal data and free text can only be *retired* fields (deprecated, never filled), and the
outbox refuses an event that fills one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from contracts import Event
from contracts.base import filled_retired_fields, is_retired
from contracts.catalogue import ALL_EVENTS, example_data, example_event
from contracts.enrolment import Actor, MatchingPolicy, ParticipantEnrolled
from contracts.matching import MatchingRoundCompleted, RoundTrigger
from contracts.sessions import SessionCompleted
from services.enrolment.applications import (
    Application,
)
from services.enrolment.domain import (
    CohortStatus,
    CohortTerms,
    assess,
)
from services.matching.domain import Pair, PairStatus, Round
from services.runtime.outbox import UnitOfWork

ID = "pseudonymous id"
CODE = "code"
MATCHING = "matching attribute"
PROGRAMME = "programme label"
RETIRED = "retired: never filled"
OPEN = "operational text: not yet retired (see docs/events.md, open points)"

CLASSIFIED = {
    "CohortOpened.name": PROGRAMME,
    "CohortOpened.languages[]": MATCHING,
    "ParticipantEnrolled.name": RETIRED,
    "ParticipantEnrolled.email": RETIRED,
    "ParticipantEnrolled.goals": RETIRED,
    "ParticipantEnrolled.department": MATCHING,
    "ParticipantEnrolled.manager_chain[]": ID,
    "ParticipantEnrolled.topics_offered[]": MATCHING,
    "ParticipantEnrolled.topics_wanted[]": MATCHING,
    "ParticipantEnrolled.languages[]": MATCHING,
    "ParticipantEnrolled.time_zone": MATCHING,
    "ParticipantWithdrawn.reason": CODE,
    "PairProposed.shared_topics[]": MATCHING,
    "PairProposed.reverse_shared_topics[]": MATCHING,
    "PairDeclined.reason": CODE,
    "MatchingRoundCompleted.statistics.unmatched_by_reason{key}": CODE,
    "SessionScheduled.video_link": OPEN,
    "SessionScheduled.location": OPEN,
    "SessionCompleted.mentor_feedback.topics[]": MATCHING,
    "SessionCompleted.mentee_feedback.topics[]": MATCHING,
    "MentorshipCompleted.reason": CODE,
    "SessionCompleted.mentor_feedback.comment": RETIRED,
    "SessionCompleted.mentee_feedback.comment": RETIRED,
    "NotificationDelivered.template": CODE,
    "NotificationFailed.template": CODE,
    "NotificationFailed.error": OPEN,
}
"""Strings that are neither an id (``*_id``), an enum, nor an instant."""


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def strings(root: dict[str, Any], node: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    """Every string the schema allows, by path (``[]`` an array item, ``{key}`` a map key)."""
    node = _resolve(root, node)
    found: dict[str, dict[str, Any]] = {}
    said = {k: v for k, v in node.items() if k in ("description", "deprecated")}
    for branch in node.get("anyOf", []):  # an optional field: its description is outside
        found.update(strings(root, {**said, **_resolve(root, branch)}, path))
    kind = node.get("type")
    if kind == "string":
        found[path] = node
    elif kind == "array":
        found.update(strings(root, node.get("items", {}), f"{path}[]"))
    elif kind == "object":
        for name, prop in node.get("properties", {}).items():
            found.update(strings(root, prop, f"{path}.{name}"))
        if isinstance(node.get("additionalProperties"), dict):
            found.update(strings(root, node["additionalProperties"], f"{path}{{}}"))
            if "propertyNames" in node:
                found[f"{path}{{key}}"] = node["propertyNames"]
    return found


def free_strings(event_cls: type[Event]) -> dict[str, dict[str, Any]]:
    schema = event_cls.model_json_schema()
    return {path: node for path, node in strings(schema, schema, event_cls.__name__).items()
            if not ("enum" in node or "const" in node or node.get("format") == "date-time"
                    or path.endswith("_id"))}


def test_every_string_on_an_append_only_topic_is_classified():
    found = {path for cls in ALL_EVENTS for path in free_strings(cls)}
    assert sorted(found - CLASSIFIED.keys()) == [], "classify the new string fields here"
    assert sorted(CLASSIFIED.keys() - found) == []


def test_an_append_only_topic_carries_ids_codes_and_matching_attributes_never_free_text():
    allowed = {ID, CODE, MATCHING, PROGRAMME, RETIRED, OPEN}
    assert set(CLASSIFIED.values()) <= allowed
    for cls in ALL_EVENTS:
        for path, node in free_strings(cls).items():
            if CLASSIFIED[path] == RETIRED:
                assert node.get("deprecated") is True, path
                assert (node.get("description") or "").startswith("DEPRECATED"), path
    open_points = sorted(p for p, kind in CLASSIFIED.items() if kind == OPEN)
    assert open_points == ["NotificationFailed.error", "SessionScheduled.location",
                           "SessionScheduled.video_link"]  # named in docs/events.md


def retired_fields(model: type[BaseModel], path: str) -> list[str]:
    found = []
    for name, field in model.model_fields.items():
        if is_retired(field):
            found.append(f"{path}.{name}")
        annotation = field.annotation
        for candidate in getattr(annotation, "__args__", ()) or (annotation,):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found.extend(retired_fields(candidate, f"{path}.{name}"))
    return found


def test_the_retired_fields_are_the_personal_and_free_text_ones():
    assert sorted(f for cls in ALL_EVENTS for f in retired_fields(cls, cls.__name__)) == [
        "ParticipantEnrolled.email", "ParticipantEnrolled.goals", "ParticipantEnrolled.name",
        "SessionCompleted.mentee_feedback.comment", "SessionCompleted.mentor_feedback.comment"]


def outbox_unit_of_work() -> UnitOfWork:
    """``publish`` only encodes; the database is not touched until the transaction commits."""
    return UnitOfWork(db=None, session=None, source="/tests", cause=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("event", [
    example_event(ParticipantEnrolled).model_copy(update={"name": "Lea Schneider"}),
    example_event(ParticipantEnrolled).model_copy(update={"email": "lea@example.com"}),
    example_event(ParticipantEnrolled).model_copy(update={"goals": "Learn prompting."}),
    SessionCompleted.model_validate({
        **example_event(SessionCompleted).model_dump(mode="json"),
        "mentee_feedback": {"rating": 4, "learned_something": True, "comment": "Lea was great"}}),
], ids=["name", "email", "goals", "feedback-comment"])
def test_the_outbox_refuses_an_event_that_fills_a_retired_field(event: Event):
    with pytest.raises(ValueError, match="retired fields"):
        outbox_unit_of_work().publish(event)


@pytest.mark.parametrize("event_cls", ALL_EVENTS, ids=lambda cls: cls.__name__)
def test_every_documented_example_fills_no_retired_field(event_cls: type[Event]):
    assert filled_retired_fields(example_event(event_cls)) == []
    outbox_unit_of_work().publish(example_event(event_cls))


NOW = datetime(2025, 10, 1, 12, tzinfo=UTC)
TERMS = CohortTerms(tenant_id="bu-a", cohort_id="coh-1", status=CohortStatus.OPEN,
                    opens_at=NOW, closes_at=NOW.replace(month=12), languages=("de", "en"),
                    policy=MatchingPolicy())


def test_enrolment_puts_name_email_and_goals_in_the_profile_and_none_in_the_event():
    app = Application.model_validate({
        "role": "mentor", "name": "Lea Schneider", "email": "lea@example.com",
        "department": "Digital", "career_level": 2, "languages": ["en"],
        "time_zone": "Europe/Berlin", "goals": "Show how we use AI.", "consent": True})
    assessed = assess(app, TERMS, participant_id="e-1", actor=Actor.SELF, now=NOW)
    assert filled_retired_fields(assessed.event) == []
    assert "Lea" not in assessed.event.model_dump_json()
    profile = assessed.profile
    assert (profile.name, profile.email, profile.goals, profile.locale, profile.enrolled_at) == (
        "Lea Schneider", "lea@example.com", "Show how we use AI.", "de", NOW)


def test_the_locale_is_the_applications_when_it_states_one():
    app = Application.model_validate({
        "role": "mentor", "name": "Lea Schneider", "email": "lea@example.com",
        "department": "Digital", "career_level": 2, "languages": ["en"], "locale": "en",
        "time_zone": "Europe/Berlin", "consent": True})
    assessed = assess(app, TERMS, participant_id="e-1", actor=Actor.SELF, now=NOW)
    assert assessed.profile.locale == "en"


def test_matchings_facts_fill_no_retired_field():
    pair = Pair(pair_id="pair-1", tenant_id="bu-a", cohort_id="coh-1", round_id="round-1",
                mentor_id="e-1", mentee_id="e-2", score=0.5, explanation={"topic_fit": 0.5},
                shared_topics=["genai"], reverse_shared_topics=[])
    rnd = Round("round-1", "bu-a", "coh-1", RoundTrigger.ADMIN, MatchingPolicy().objective,
                pairs=[pair], statistics=example_data(MatchingRoundCompleted)["statistics"])
    events: list[Event] = [*rnd.publish(MatchingPolicy(), NOW), *pair.accept("e-1", NOW)]
    other = Pair(**{**pair.__dict__, "pair_id": "pair-2", "status": PairStatus.PROPOSED})
    events.append(other.decline("e-2", NOW, "no_common_ground"))
    assert [type(e).__name__ for e in events] == [
        "PairProposed", "MatchingRoundCompleted", "PairAccepted", "PairDeclined"]
    assert [f for e in events for f in filled_retired_fields(e)] == []
