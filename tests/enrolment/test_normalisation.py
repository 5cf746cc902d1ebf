"""Normalise, then validate: whatever the request models accept yields a valid event or a rule
violation, never a validation error of the event (a 500 with the input in its traceback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts.enrolment import Actor, MatchingPolicy
from services.enrolment.applications import (
    Application,
)
from services.enrolment.domain import (
    CohortStatus,
    CohortTerms,
    assess,
)
from services.runtime.errors import Invalid

NOW = datetime(2025, 9, 3, 10, 0, tzinfo=UTC)
TERMS = CohortTerms(tenant_id="bu-a", cohort_id="coh-1", status=CohortStatus.OPEN,
                    opens_at=NOW - timedelta(days=1), closes_at=NOW + timedelta(days=1),
                    languages=("de", "en"), policy=MatchingPolicy(min_level_gap=2))
VALID: dict[str, Any] = {
    "role": "mentor", "name": "Lea Schneider", "email": "lea@example.com",
    "department": "Digital", "career_level": 2, "languages": ["de"],
    "time_zone": "Europe/Berlin", "consent": True,
}
# Letters whose lower case is longer than they are, or that change under case mapping.
TRICKY = "İIiΣςßẞǅﬁ Ωµ-_"
text = st.text(st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from(TRICKY))
labels = text | st.text(st.sampled_from(TRICKY), min_size=60, max_size=80)


def test_an_event_field_the_request_model_let_through_is_an_invalid_without_its_value():
    secret = "Lea Schneider " * 30
    app = Application.model_construct(**{**Application.model_validate(VALID).__dict__,
                                         "name": secret})
    try:
        assess(app, TERMS, participant_id="e-1", actor=Actor.SELF, now=NOW)
    except Invalid as exc:
        assert (exc.code, exc.detail) == ("invalid-application", "not a valid enrolment: name")
        assert exc.__cause__ is None and exc.__suppress_context__
        assert secret not in repr(exc.__dict__)
    else:
        raise AssertionError("an over-long name became an event")


def test_every_time_zone_the_service_can_resolve_fits_the_event_contract():
    for zone in sorted(available_timezones()):
        app = Application.model_validate({**VALID, "time_zone": zone})
        event = assess(app, TERMS, participant_id="e-1", actor=Actor.SELF, now=NOW).event
        assert event.time_zone == zone


@settings(max_examples=300, deadline=None)
@given(name=text.filter(str.strip), department=text.filter(str.strip),
       topics=st.lists(labels, max_size=30), wanted=st.lists(labels, max_size=30),
       goals=text, chain=st.lists(st.from_regex(r"\A[a-z][a-z0-9.:-]{0,20}\Z"), max_size=30))
def test_whatever_the_request_model_accepts_becomes_an_event_or_a_rule_violation(
        name, department, topics, wanted, goals, chain):
    body = {**VALID, "name": name[:200], "department": department[:200],
            "topics_offered": [t[:80] for t in topics], "topics_wanted": [t[:80] for t in wanted],
            "goals": goals[:2000], "manager_chain": chain}
    try:
        app = Application.model_validate(body)
    except ValidationError:
        return  # refused at the door: a 422 naming the field
    try:
        event = assess(app, TERMS, participant_id="e-1", actor=Actor.SELF, now=NOW).event
    except Invalid:
        return
    assert all(len(t) <= 80 and t == t.lower() for t in event.topics_offered)
    assert len(set(event.topics_wanted)) == len(event.topics_wanted)
