"""Within v1 an event may only gain optional fields: data valid under a committed schema must
stay valid under the current model.

The drift test says whether the files were re-exported; this one says whether the change is
allowed, comparing the committed files with the current models. An intentional compatible change
plus a re-export passes both. (A breaking change re-exported in the same commit shows up in the
schema diff under review; comparing against the base branch's files would catch it in CI.) The
unit tests prove the checker sees each kind of break.
"""

from __future__ import annotations

import copy
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from contracts.compatibility import breaking_changes
from contracts.enrolment import ParticipantEnrolled
from contracts.export import SCHEMA_MODELS, SCHEMA_SUFFIX

COMMITTED = Path(__file__).resolve().parents[2] / "contracts" / "schemas"
BY_NAME = {cls.__name__: cls for cls in SCHEMA_MODELS}


@pytest.mark.parametrize(
    "path", sorted(COMMITTED.glob(f"*{SCHEMA_SUFFIX}")), ids=lambda path: path.name
)
def test_committed_schemas_are_compatible_with_the_code(path: Path) -> None:
    name = path.name.removesuffix(SCHEMA_SUFFIX)
    assert name in BY_NAME, f"{name} v1 was removed; publish a .v2 type instead"
    committed = json.loads(path.read_text("utf-8"))
    assert breaking_changes(committed, BY_NAME[name].model_json_schema()) == []


class Level(StrEnum):
    JUNIOR = "junior"
    SENIOR = "senior"


class Address(BaseModel):
    city: str
    zip: str | None = None


class V1(BaseModel):
    id: str
    count: int
    note: str | None = None
    level: Level = Level.JUNIOR
    address: Address
    tags: list[int] = []


def _v1() -> dict[str, Any]:
    return V1.model_json_schema()


def _changed(edit: Any) -> list[str]:
    new = copy.deepcopy(_v1())
    edit(new)
    return breaking_changes(_v1(), new)


def test_an_identical_schema_has_no_breaking_change() -> None:
    assert breaking_changes(_v1(), _v1()) == []


def test_adding_an_optional_field_is_compatible() -> None:
    class V1WithOptional(V1):
        comment: str | None = None
        address_history: list[Address] = []

    assert breaking_changes(_v1(), V1WithOptional.model_json_schema()) == []


def test_widening_a_type_or_adding_an_enum_value_is_compatible() -> None:
    def widen(schema: dict[str, Any]) -> None:
        schema["properties"]["count"]["type"] = "number"
        schema["$defs"]["Level"]["enum"].append("executive")
        schema["properties"]["id"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}

    assert _changed(widen) == []


def test_removing_a_field_is_breaking() -> None:
    assert _changed(lambda s: s["properties"].pop("note")) == ["V1.note: property removed"]


def test_retyping_a_field_is_breaking() -> None:
    def retype(schema: dict[str, Any]) -> None:
        schema["properties"]["count"]["type"] = "string"

    assert _changed(retype) == ["V1.count: type changed from integer to string"]


def test_making_an_optional_field_non_nullable_is_breaking() -> None:
    def narrow(schema: dict[str, Any]) -> None:
        schema["properties"]["note"] = {"type": "string"}

    assert _changed(narrow) == ["V1.note: type changed from null|string to string"]


def test_making_an_optional_field_required_is_breaking() -> None:
    assert _changed(lambda s: s["required"].append("note")) == ["V1.note: became required"]


def test_adding_a_required_field_is_breaking() -> None:
    class V1WithRequired(V1):
        owner: str

    assert breaking_changes(_v1(), V1WithRequired.model_json_schema()) == [
        "V1.owner: new required property"
    ]


def test_removing_an_enum_value_is_breaking() -> None:
    assert _changed(lambda s: s["$defs"]["Level"]["enum"].remove("senior")) == [
        "V1.level: enum values removed: ['senior']"
    ]


def test_a_break_inside_a_nested_model_is_found_through_its_ref() -> None:
    def nested(schema: dict[str, Any]) -> None:
        schema["$defs"]["Address"]["properties"].pop("zip")
        schema["$defs"]["Address"]["required"].append("city_code")

    assert _changed(nested) == [
        "V1.address.city_code: new required property",
        "V1.address.zip: property removed",
    ]


def test_a_break_inside_array_items_is_found() -> None:
    def retype_items(schema: dict[str, Any]) -> None:
        schema["properties"]["tags"]["items"] = {"type": "string"}

    assert _changed(retype_items) == ["V1.tags[]: type changed from integer to string"]


class Topic(BaseModel):
    label: str
    parent: Topic | None = None


def test_a_recursive_model_is_compared_without_looping() -> None:
    old = Topic.model_json_schema()
    new = copy.deepcopy(old)
    new["$defs"]["Topic"]["properties"]["label"]["type"] = "integer"
    assert breaking_changes(old, old) == []
    assert breaking_changes(old, new) == ["Topic.label: type changed from string to integer"]


def test_a_real_event_losing_a_role_is_caught() -> None:
    old = ParticipantEnrolled.model_json_schema()
    new = copy.deepcopy(old)
    new["$defs"]["Role"]["enum"] = ["mentor"]
    new["properties"]["topics_wanted"]["items"]["type"] = "integer"
    assert breaking_changes(old, new) == [
        "ParticipantEnrolled.role: enum values removed: ['mentee']",
        "ParticipantEnrolled.topics_wanted[]: type changed from string to integer",
    ]
