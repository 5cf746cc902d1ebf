"""The generated contract files under ``contracts/schemas`` are committed and up to date.

Subscribers read the committed files, so a model change that is not re-exported must fail CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from contracts.asyncapi import build_asyncapi
from contracts.catalogue import ALL_EVENTS
from contracts.export import (
    ASYNCAPI_FILE,
    SCHEMA_MODELS,
    SCHEMA_SUFFIX,
    export_schemas,
    schema_file_name,
)
from contracts.topics import ALL_TOPICS

COMMITTED = Path(__file__).resolve().parents[2] / "contracts" / "schemas"
FIX = "run `revmentor contracts export contracts/schemas` and commit the result"


def _asyncapi() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((COMMITTED / ASYNCAPI_FILE).read_text("utf-8"))
    return document


def test_committed_files_equal_a_fresh_export_byte_for_byte(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    fresh = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    committed = {path.name: path.read_bytes() for path in COMMITTED.iterdir() if path.is_file()}
    missing = sorted(fresh.keys() - committed.keys())
    stale = sorted(committed.keys() - fresh.keys())
    drifted = sorted(
        name for name in fresh.keys() & committed.keys() if fresh[name] != committed[name]
    )
    assert not (missing or stale or drifted), (
        f"contracts/schemas is out of date (missing {missing}, stale {stale}, changed {drifted}): "
        f"{FIX}"
    )


def test_there_is_one_schema_per_event_and_the_asyncapi_document() -> None:
    schemas = sorted(path.name for path in COMMITTED.glob(f"*{SCHEMA_SUFFIX}"))
    assert len(schemas) == 16  # the 15 events and the profile topic's ParticipantProfile
    assert schemas == sorted(schema_file_name(cls) for cls in SCHEMA_MODELS)
    assert (COMMITTED / ASYNCAPI_FILE).is_file()


def test_export_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    export_schemas(first)
    export_schemas(second)
    assert [p.read_bytes() for p in sorted(first.iterdir())] == [
        p.read_bytes() for p in sorted(second.iterdir())
    ]


def test_asyncapi_yaml_is_an_asyncapi_3_document_with_the_four_topics() -> None:
    document = _asyncapi()
    assert document["asyncapi"] == "3.0.0"
    addresses = [channel["address"] for channel in document["channels"].values()]
    assert sorted(addresses) == sorted(ALL_TOPICS)


def test_asyncapi_yaml_parses_back_to_exactly_the_generated_document() -> None:
    assert _asyncapi() == build_asyncapi()


def test_every_event_is_a_cloudevents_message_sent_on_its_producers_channel() -> None:
    document = _asyncapi()
    messages = document["components"]["messages"]
    assert list(messages) == [cls.__name__ for cls in ALL_EVENTS]
    for cls in ALL_EVENTS:
        message = messages[cls.__name__]
        assert message["contentType"] == "application/cloudevents+json"
        assert message["payload"]["properties"]["type"]["const"] == cls.event_type()
        assert message["payload"]["properties"]["data"] == {
            "$ref": f"#/components/schemas/{cls.__name__}"
        }
        assert set(message["headers"]["required"]) == {"ce_id", "ce_type"}
        assert message["examples"][0]["payload"]["type"] == cls.event_type()
        operation = document["operations"][f"send_{cls.producer}_events"]
        assert operation["action"] == "send"
        assert {"$ref": f"#/channels/{cls.producer}/messages/{cls.__name__}"} in operation[
            "messages"
        ]


def test_every_reference_in_the_asyncapi_document_resolves() -> None:
    document = _asyncapi()
    unresolved = [ref for ref in _refs(document) if _resolve(document, ref) is None]
    assert unresolved == []


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target
