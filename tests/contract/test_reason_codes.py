"""Every reason on an append-only topic is a code from one type, never free text."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from contracts import ALL_EVENTS
from contracts.base import REASON_CODE_PATTERN
from contracts.catalogue import example_data
from contracts.enrolment import ParticipantWithdrawn
from contracts.matching import PairDeclined
from contracts.sessions import MentorshipCompleted

FREE_TEXT = ["Max Mustermann was rude", "no spark", "Moved_Role", "a" * 65, "", "-x",
             "reason\n", "über"]


@pytest.mark.parametrize("event", [ParticipantWithdrawn, PairDeclined, MentorshipCompleted])
@pytest.mark.parametrize("reason", FREE_TEXT)
def test_free_text_is_refused_as_a_reason(event: Any, reason: str) -> None:
    with pytest.raises(ValidationError):
        event.model_validate({**example_data(event), "reason": reason})


@pytest.mark.parametrize("event", [ParticipantWithdrawn, PairDeclined, MentorshipCompleted])
@pytest.mark.parametrize("reason", ["moved_role", "participant_withdrew", "no-time", None])
def test_a_code_or_no_reason_is_accepted(event: Any, reason: str | None) -> None:
    assert event.model_validate({**example_data(event), "reason": reason}).reason == reason


def test_every_free_form_reason_field_of_every_event_is_the_one_reason_code_type() -> None:
    """Enum reasons (a closed list of codes) are fine; a string reason must carry the pattern."""
    string_reasons = []
    for event in ALL_EVENTS:
        schema = event.model_json_schema()
        reason = schema["properties"].get("reason")
        if reason is None:
            continue
        branches = reason.get("anyOf", [reason])
        for branch in branches:
            if branch.get("type") == "string":
                string_reasons.append(event.__name__)
                assert branch["pattern"] == REASON_CODE_PATTERN, event.__name__
    assert sorted(string_reasons) == ["MentorshipCompleted", "PairDeclined",
                                     "ParticipantWithdrawn"]
