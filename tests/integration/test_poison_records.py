"""No single record stops a consumer: binary headers and bodies no decoder survives (issue 8).

Each test sends the poison records as any foreign producer could, then a valid event, and
proves on the real broker and database that the valid event is applied and every poison record
is either applied (its body is a valid event) or parked in ``<topic>.dlq`` with its reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts import encode
from contracts.enrolment import ParticipantEnrolled
from contracts.topics import ENROLMENT, dead_letter_topic
from services.runtime.service import Service
from tests.harness import (
    apply_enrolment,
    eventually,
    example,
    probe_service,
    read_topic,
    times_applied,
)

pytestmark = pytest.mark.integration

Headers = list[tuple[str, bytes | None]]
BINARY: Headers = [("x", b"\xff\xfe")]


async def produce(bootstrap: str, *records: tuple[bytes, bytes, Headers]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(ENROLMENT, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def consumer_from_now(infra: Any, name: str) -> Service:
    """A started consumer that reads only what is produced after this returns."""
    consumer = probe_service(infra, name, {ParticipantEnrolled: apply_enrolment},
                             consumer_start_from="latest")
    await consumer.start()
    await eventually(consumer.consuming, what="the consumer to have its partitions")
    return consumer


def enrolment(cohort: str, participant: str) -> bytes:
    event = example(ParticipantEnrolled, cohort_id=cohort, participant_id=participant)
    return encode(event, source="/tests").value


async def parked_by(infra: Any, consumer_prefix: str, cohort: str, count: int) -> list[Any]:
    """Dead letters of ``cohort`` parked by the test's own consumer."""
    return await read_topic(
        infra.kafka_bootstrap_servers, dead_letter_topic(ENROLMENT), count=count,
        keep=lambda r: r.key == cohort.encode() and dict(r.headers).get(
            "dlq-consumer", b"").startswith(consumer_prefix.encode()),
    )


async def test_records_with_binary_header_values_are_processed_or_dead_lettered_and_the_consumer_goes_on(  # noqa: E501
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    key = cohort.encode()
    consumer = await consumer_from_now(infra, f"headers-{unique}")
    try:
        for burst in range(3):  # the stuck group of issue 8 stopped for good after the third
            await produce(
                infra.kafka_bootstrap_servers,
                (key, enrolment(cohort, f"binary-header-{burst}"), BINARY),
                (key, b"not json either", BINARY),
                (key, enrolment(cohort, f"null-header-{burst}"), [("trace", None)]),
                (key, enrolment(cohort, f"after-{burst}"), []),
            )
        async def all_valid_ones_applied() -> bool:
            return [await times_applied(consumer, cohort, f"{name}-{burst}")
                    for burst in range(3)
                    for name in ("binary-header", "null-header", "after")] == [1] * 9

        await eventually(all_valid_ones_applied, within=20,
                         what="the valid events with and after binary headers")
        parked = await parked_by(infra, f"headers-{unique}.", cohort, count=3)
    finally:
        await consumer.stop()
    assert [dict(r.headers)["dlq-reason"] for r in parked] == [b"not_json"] * 3
    assert [r.value for r in parked] == [b"not json either"] * 3
    assert dict(parked[0].headers)["x"] == "\ufffd\ufffd".encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000, "not_json"),
        (b'{"a":' * 100_000, "not_json"),
        ("type-list", "invalid_attribute"),
        ("type-object", "invalid_attribute"),
    ],
    ids=["nested-arrays", "nested-objects", "type-list", "type-object"],
)
async def test_bodies_no_decoder_survives_are_dead_lettered_and_the_next_event_is_applied(
    infra: Any, unique: str, body: bytes | str, reason: str
):
    cohort = f"cohort-{unique}"
    key = cohort.encode()
    if isinstance(body, str):
        envelope = json.loads(enrolment(cohort, "poison"))
        envelope["type"] = [envelope["type"]] if body == "type-list" else {"v": envelope["type"]}
        body = json.dumps(envelope).encode()
    consumer = await consumer_from_now(infra, f"body-{unique}")
    try:
        await produce(infra.kafka_bootstrap_servers, (key, body, []),
                      (key, enrolment(cohort, "after"), []))
        async def after_applied() -> bool:
            return await times_applied(consumer, cohort, "after") == 1

        await eventually(after_applied, what="the valid event after the poison body")
        [parked] = await parked_by(infra, f"body-{unique}.", cohort, count=1)
    finally:
        await consumer.stop()
    assert dict(parked.headers)["dlq-reason"] == reason.encode()
    assert parked.value == body


async def test_a_record_too_large_to_copy_to_the_dead_letter_topic_is_parked_without_its_value(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    key = cohort.encode()
    near_the_limit = b"x" * 1_048_400  # fits the broker; with the dlq-* headers it no longer does
    consumer = await consumer_from_now(infra, f"huge-{unique}")
    try:
        await produce(infra.kafka_bootstrap_servers, (key, near_the_limit, []),
                      (key, enrolment(cohort, "after"), []))
        async def after_applied() -> bool:
            return await times_applied(consumer, cohort, "after") == 1

        await eventually(after_applied, what="the valid event after the huge poison record")
        [parked] = await parked_by(infra, f"huge-{unique}.", cohort, count=1)
    finally:
        await consumer.stop()
    headers = dict(parked.headers)
    assert (headers["dlq-reason"], headers["dlq-value-dropped"]) == (b"not_json", b"too_large")
    assert parked.value == b""
    assert headers["dlq-original-offset"].isdigit()
