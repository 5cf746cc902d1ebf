"""The CloudEvents envelope: every event survives the wire, every malformed message is named.

Consumers dead-letter exactly the ``ContractError``s, so each kind of malformed input must map to
one stable ``reason`` that ends up in the DLQ headers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import ALL_EVENTS, ContractError, Event, decode, encode
from contracts.catalogue import example_event
from contracts.enrolment import ParticipantEnrolled
from contracts.envelope import CONTENT_TYPE, REQUIRED_ATTRIBUTES
from contracts.topics import ALL_TOPICS, topic_of

EVENTS = pytest.mark.parametrize("event_cls", ALL_EVENTS, ids=lambda cls: cls.__name__)


def _body(event: Event | None = None) -> dict[str, Any]:
    record = encode(event or example_event(ParticipantEnrolled), source="/test/contract")
    body: dict[str, Any] = json.loads(record.value)
    return body


def _reason_of(value: bytes | str | None) -> str:
    with pytest.raises(ContractError) as caught:
        decode(value)
    return caught.value.reason


@EVENTS
def test_every_example_survives_encode_and_decode(event_cls: type[Event]) -> None:
    event = example_event(event_cls)
    time = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
    record = encode(
        event, source="/test/contract", time=time, correlation_id="corr-1", causation_id="evt-0"
    )
    envelope = decode(record.value)
    assert type(envelope.event) is event_cls
    assert envelope.event == event
    assert envelope.id == record.event_id
    assert envelope.type == event_cls.event_type()
    assert envelope.time == time
    assert envelope.subject == event.subject()
    assert (envelope.tenant_id, envelope.cohort_id) == (event.tenant_id, event.cohort_id)
    assert (envelope.correlation_id, envelope.causation_id) == ("corr-1", "evt-0")


@EVENTS
def test_record_is_addressed_to_the_producers_topic_and_keyed_by_cohort(
    event_cls: type[Event],
) -> None:
    event = example_event(event_cls)
    record = encode(event, source="/test/contract", event_id="evt-42")
    assert record.topic == topic_of(event_cls)
    assert record.topic in ALL_TOPICS
    assert record.key == event.cohort_id.encode()
    assert record.headers == {
        "content-type": CONTENT_TYPE,
        "ce_id": "evt-42",
        "ce_type": event_cls.event_type(),
    }


def test_structured_mode_body_carries_the_cloudevents_attributes() -> None:
    body = _body()
    assert body["specversion"] == "1.0"
    assert body["datacontenttype"] == "application/json"
    assert body["type"] == "revmentor.enrolment.ParticipantEnrolled.v1"
    assert (body["tenantid"], body["cohortid"]) == (body["data"]["tenant_id"], "coh-2025-autumn")
    assert body["subject"] == body["data"]["participant_id"]


def test_decode_accepts_text_as_well_as_bytes() -> None:
    assert decode(json.dumps(_body())).event == example_event(ParticipantEnrolled)


@pytest.mark.parametrize("value", [b"\xff\xfe\x00", b"{not json", b""], ids=repr)
def test_bytes_that_are_not_json_are_rejected_as_not_json(value: bytes) -> None:
    assert _reason_of(value) == "not_json"


@pytest.mark.parametrize("value", [b"[1, 2]", b'"text"', b"null", None], ids=repr)
def test_json_that_is_not_an_object_is_rejected(value: bytes | None) -> None:
    assert _reason_of(value) == "not_an_object"


@pytest.mark.parametrize("attribute", REQUIRED_ATTRIBUTES)
def test_a_missing_required_attribute_is_named(attribute: str) -> None:
    body = _body()
    del body[attribute]
    with pytest.raises(ContractError) as caught:
        decode(json.dumps(body))
    assert caught.value.reason == "missing_attribute"
    assert attribute in caught.value.detail


def test_another_cloudevents_specversion_is_rejected() -> None:
    body = {**_body(), "specversion": "0.3"}
    assert _reason_of(json.dumps(body)) == "unsupported_specversion"


def test_an_unknown_event_type_is_rejected() -> None:
    body = {**_body(), "type": "revmentor.enrolment.ParticipantRenamed.v1"}
    assert _reason_of(json.dumps(body)) == "unknown_type"


def test_an_unknown_version_of_a_known_type_is_rejected_as_unknown_type() -> None:
    body = {**_body(), "type": "revmentor.enrolment.ParticipantEnrolled.v9"}
    assert _reason_of(json.dumps(body)) == "unknown_type"


@pytest.mark.parametrize(
    ("field", "value"),
    [("career_level", 42), ("role", "sponsor"), ("consent_given_at", "2025-09-03T10:15:00")],
)
def test_data_failing_its_model_is_rejected_naming_the_field(field: str, value: Any) -> None:
    body = _body()
    body["data"][field] = value
    with pytest.raises(ContractError) as caught:
        decode(json.dumps(body))
    assert caught.value.reason == "invalid_data"
    assert field in caught.value.detail


def test_data_missing_a_required_field_is_rejected() -> None:
    body = _body()
    del body["data"]["participant_id"]
    assert _reason_of(json.dumps(body)) == "invalid_data"


@pytest.mark.parametrize("attribute", ["tenantid", "cohortid"])
def test_envelope_and_data_disagreeing_on_tenant_or_cohort_is_rejected(attribute: str) -> None:
    body = {**_body(), attribute: "someone-else"}
    assert _reason_of(json.dumps(body)) == "invalid_data"


def test_an_unknown_data_field_is_ignored_for_forward_compatibility() -> None:
    body = _body()
    body["data"]["pronouns"] = "she/her"
    body["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    envelope = decode(json.dumps(body))
    assert envelope.event == example_event(ParticipantEnrolled)
    assert "pronouns" not in envelope.event.model_dump()


def test_decoded_events_are_immutable() -> None:
    event = decode(json.dumps(_body())).event
    with pytest.raises(ValueError, match="frozen"):
        event.tenant_id = "other"  # type: ignore[misc]
