"""Every string, list, map and integer of every event is bounded (issue 8).

An unbounded field let one enrolment (30 manager_chain items of 40,000 characters) become a
1.24 MB record the broker refused, and an integer beyond int64 cannot be stored by any consumer.
Dates are bounded by their model (1970 to 2200), which JSON Schema cannot express.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from contracts import ALL_EVENTS, Event, encode
from contracts.catalogue import example_data
from contracts.enrolment import CohortOpened, ParticipantEnrolled

EVENTS = pytest.mark.parametrize("event_cls", ALL_EVENTS, ids=lambda cls: cls.__name__)
BROKER_LIMIT = 1_000_000
WIDE = "\U0001f600"  # four bytes in UTF-8: the widest character a bounded string can hold


def unbounded(schema: dict[str, Any], node: dict[str, Any], path: str) -> list[str]:
    """Paths in ``node`` where a value could grow without limit."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return unbounded(schema, schema["$defs"][name], path)
    problems: list[str] = []
    for branch in node.get("anyOf", []):
        problems += unbounded(schema, branch, path)
    kind = node.get("type")
    if kind == "string" and not ({"maxLength", "enum", "const"} & node.keys()
                                 or node.get("format") == "date-time"):
        problems.append(path)
    if kind == "integer" and "maximum" not in node:
        problems.append(path)
    if kind == "array":
        if "maxItems" not in node:
            problems.append(path)
        problems += unbounded(schema, node.get("items", {}), f"{path}[]")
    if kind == "object":
        for name, prop in node.get("properties", {}).items():
            problems += unbounded(schema, prop, f"{path}.{name}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in node:
                problems.append(f"{path}{{}}")
            problems += unbounded(schema, node.get("propertyNames", {"type": "string"}),
                                  f"{path}{{key}}")
            problems += unbounded(schema, extra, f"{path}{{}}")
    return problems


@EVENTS
def test_every_string_list_map_and_integer_of_the_event_is_bounded(
    event_cls: type[Event],
) -> None:
    schema = event_cls.model_json_schema()
    assert unbounded(schema, schema, event_cls.__name__) == []


def test_the_largest_enrolment_the_contract_allows_fits_the_broker_many_times_over() -> None:
    data = {
        **example_data(ParticipantEnrolled),
        "tenant_id": "t" * 128, "cohort_id": "c" * 128, "participant_id": WIDE * 128,
        "name": WIDE * 200, "email": "a" * 300 + "@" + "b" * 19, "department": WIDE * 200,
        "manager_id": WIDE * 128, "manager_chain": [WIDE * 128] * 50,
        "topics_offered": [WIDE * 80] * 50, "topics_wanted": [WIDE * 80] * 50,
        "languages": ["de-" + "-".join(["abcdefgh"] * 3)] * 32, "time_zone": "A" * 64,
        "goals": WIDE * 2000,
    }
    record = encode(ParticipantEnrolled.model_validate(data), source="/test/bounds")
    assert len(record.value) < BROKER_LIMIT / 10


def test_the_enrolment_issue_8_observed_is_refused_by_its_contract() -> None:
    data = {**example_data(ParticipantEnrolled), "manager_chain": ["m" * 40_000] * 30}
    with pytest.raises(ValidationError) as caught:
        ParticipantEnrolled.model_validate(data)
    assert json.dumps(caught.value.errors(include_input=False)).count("manager_chain") == 30


@pytest.mark.parametrize("when", [
    datetime(1969, 12, 31, 23, 59, tzinfo=UTC), datetime(2200, 1, 1, 0, 1, tzinfo=UTC),
], ids=["before-1970", "after-2200"])
def test_a_date_outside_1970_to_2200_is_refused(when: datetime) -> None:
    data = {**example_data(CohortOpened), "opens_at": datetime(2025, 1, 1, tzinfo=UTC),
            "closes_at": when}
    if when.year < 2000:
        data = {**data, "opens_at": when, "closes_at": datetime(2025, 1, 1, tzinfo=UTC)}
    with pytest.raises(ValidationError, match="between 1970-01-01 and 2200-01-01"):
        CohortOpened.model_validate(data)
