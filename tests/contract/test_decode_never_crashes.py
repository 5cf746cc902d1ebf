"""Whatever a foreign producer sends, decoding ends in an event or in a ``ContractError``.

A consumer dead-letters exactly ``ContractError``s; any other exception escaping ``decode``
(``RecursionError``, ``TypeError``…) would stop it at that record for every tenant.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import ContractError, Envelope, decode, encode
from contracts.catalogue import example_event
from contracts.enrolment import ParticipantEnrolled

ATTRIBUTES = ("specversion", "id", "source", "type", "time", "subject", "datacontenttype",
              "tenantid", "cohortid", "correlationid", "causationid", "data")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def valid_body() -> dict[str, Any]:
    record = encode(example_event(ParticipantEnrolled), source="/test/fuzz")
    body: dict[str, Any] = json.loads(record.value)
    return body


def decodes_or_names_the_reason(value: bytes | str | None) -> None:
    try:
        envelope = decode(value)
    except ContractError as exc:
        assert exc.reason and isinstance(exc.detail, str)
    else:
        assert isinstance(envelope, Envelope)


@pytest.mark.parametrize(
    "value",
    [b"[" * 100_000, b'{"a":' * 100_000, b"[" * 100_000 + b"]" * 100_000],
    ids=["open-arrays", "open-objects", "closed-arrays"],
)
def test_deeply_nested_json_is_rejected_as_not_json(value: bytes) -> None:
    with pytest.raises(ContractError) as caught:
        decode(value)
    assert caught.value.reason == "not_json"


@pytest.mark.parametrize("value", [["a", "b"], {"a": 1}, 7, True], ids=repr)
@pytest.mark.parametrize("attribute", ["type", "id", "specversion", "time", "subject"])
def test_an_attribute_that_is_not_a_string_is_rejected(attribute: str, value: Any) -> None:
    body = {**valid_body(), attribute: value}
    with pytest.raises(ContractError) as caught:
        decode(json.dumps(body))
    assert caught.value.reason == "invalid_attribute"
    assert attribute in caught.value.detail


def test_an_overlong_attribute_is_rejected() -> None:
    body = {**valid_body(), "correlationid": "c" * 10_000}
    with pytest.raises(ContractError) as caught:
        decode(json.dumps(body))
    assert caught.value.reason == "invalid_attribute"


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_decode_or_name_the_reason(value: bytes) -> None:
    decodes_or_names_the_reason(value)


@FUZZ
@given(json_values)
def test_arbitrary_json_decodes_or_names_the_reason(value: Any) -> None:
    decodes_or_names_the_reason(json.dumps(value))


@FUZZ
@given(st.sampled_from(ATTRIBUTES), json_values)
def test_a_valid_envelope_with_any_attribute_replaced_decodes_or_names_the_reason(
    attribute: str, value: Any
) -> None:
    decodes_or_names_the_reason(json.dumps({**valid_body(), attribute: value}))


@FUZZ
@given(st.sampled_from(sorted(valid_body()["data"])), json_values)
def test_valid_data_with_any_field_replaced_decodes_or_names_the_reason(
    field: str, value: Any
) -> None:
    body = valid_body()
    body["data"][field] = value
    decodes_or_names_the_reason(json.dumps(body))
