"""Only a failure of the record itself parks it; an outage of any kind is retried."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import errors
from faststream.exceptions import IncorrectState

from services.runtime.refusals import never_accepted, refused_before_sending


def doc(**overrides: Any) -> dict[str, Any]:
    return {"topic": "revmentor.enrolment.v1", "key": b"coh-1", "value": b"{}",
            "headers": {"ce_type": "revmentor.enrolment.CohortOpened.v1"}, **overrides}


@pytest.mark.parametrize(("error", "reason"), [
    (errors.MessageSizeTooLargeError(), "too_large"),
    (errors.RecordListTooLargeError(), "too_large"),
    (errors.InvalidTopicError(), "invalid_topic"),
    (errors.CorruptRecordException(), "invalid_record"),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v)
def test_a_record_the_broker_refuses_for_itself_is_never_accepted(
    error: Exception, reason: str
) -> None:
    assert never_accepted(error) == reason


@pytest.mark.parametrize("error", [
    errors.KafkaConnectionError(), errors.KafkaTimeoutError(), errors.NoBrokersAvailable(),
    errors.RequestTimedOutError(), errors.NotLeaderForPartitionError(),
    errors.UnknownTopicOrPartitionError(), errors.TopicAuthorizationFailedError(),
    errors.BrokerNotAvailableError(), errors.ProducerClosed(), IncorrectState("not connected"),
    ConnectionError(), TimeoutError(), RuntimeError("anything else"),
], ids=lambda e: type(e).__name__)
def test_an_outage_or_a_configuration_problem_is_retried(error: Exception) -> None:
    assert never_accepted(error) is None


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"topic": "revmentor enrolment!"}, "invalid_topic"),
    ({"topic": ""}, "invalid_topic"),
    ({"topic": "t" * 250}, "invalid_topic"),
    ({"topic": ".."}, "invalid_topic"),
    ({"value": "text"}, "invalid_record"),
    ({"headers": {"ce_id": 7}}, "invalid_record"),
    ({"key": None, "value": None}, "invalid_record"),
])
def test_a_document_that_is_no_kafka_record_is_refused_before_sending(
    overrides: dict[str, Any], reason: str
) -> None:
    refusal = refused_before_sending(doc(**overrides))
    assert refusal is not None and never_accepted(refusal) == reason


def test_a_well_formed_document_is_sent() -> None:
    assert refused_before_sending(doc()) is None
    assert refused_before_sending(doc(key=None, topic="t" * 249)) is None


def test_a_tombstone_is_a_key_without_a_value_and_is_sent() -> None:
    assert refused_before_sending(doc(value=None, headers={})) is None
