"""What an operator sees and what a probe asks (issue 8).

Broker errors are in the log, a stuck consumer shows in the metrics, and readiness answers from
pings alone, so it cannot time out while the service is busiest.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pymongo.errors import AutoReconnect
from structlog.testing import capture_logs

from contracts import Envelope, encode
from contracts.enrolment import ParticipantEnrolled
from contracts.topics import ENROLMENT
from services.runtime.outbox import OUTBOX, UnitOfWork, outbox_document
from services.runtime.service import Service
from tests.harness import (
    COMMANDS,
    count_applications,
    eventually,
    example,
    metric,
    probe_service,
)

pytestmark = pytest.mark.integration


async def produce(bootstrap: str, cohort: str, *participants: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for participant in participants:
            event = example(ParticipantEnrolled, cohort_id=cohort, participant_id=participant)
            await producer.send_and_wait(ENROLMENT, encode(event, source="/tests").value,
                                         key=cohort.encode())
    finally:
        await producer.stop()


class Outage:
    """A handler that fails with a transient database error while ``down`` is set."""

    def __init__(self) -> None:
        self.down = True

    async def __call__(self, env: Envelope, uow: UnitOfWork) -> None:
        if self.down:
            raise AutoReconnect("database unreachable")
        await count_applications(uow, env.event.participant_id, env.cohort_id)  # type: ignore[attr-defined]


async def started_latest(service: Service) -> None:
    await service.start()
    await eventually(service.consuming, what="the consumer to have its partitions")


async def test_an_error_escaping_the_handler_is_logged_by_the_broker(infra: Any, unique: str):
    cohort = f"cohort-{unique}"
    consumer = probe_service(infra, f"broker-log-{unique}", {ParticipantEnrolled: Outage()},
                             consumer_start_from="latest", retry_attempts=1)
    with capture_logs() as logs:
        await started_latest(consumer)
        try:
            await produce(infra.kafka_bootstrap_servers, cohort, "p-1")

            async def logged() -> bool:
                return any("AutoReconnect" in line["event"] for line in logs)

            await eventually(logged, what="the broker to log the nacked batch's error")
        finally:
            await consumer.stop()
    [line, *_] = [line for line in logs if "AutoReconnect" in line["event"]]
    assert line["log_level"] == "error"
    assert line["topic"] == ENROLMENT
    assert "exc_info" in line


async def test_a_stuck_consumer_shows_lag_and_stalled_seconds_until_it_recovers(
    infra: Any, unique: str
):
    cohort = f"cohort-{unique}"
    outage = Outage()
    consumer = probe_service(infra, f"stuck-{unique}", {ParticipantEnrolled: outage},
                             consumer_start_from="latest", retry_attempts=2,
                             retry_initial_backoff_s=0.01)
    await started_latest(consumer)
    try:
        await produce(infra.kafka_bootstrap_servers, cohort, "p-1", "p-2", "p-3")

        async def stuck_with_ours_waiting() -> bool:
            """At least our three: the embedded broker's "latest" may start a few records early."""
            return (metric(consumer, "revmentor_consumer_lag") >= 3
                    and metric(consumer, "revmentor_consumer_stalled_seconds") > 0.5)

        await eventually(stuck_with_ours_waiting, what="lag >= 3 and stalled seconds to grow")
        outage.down = False

        async def caught_up() -> bool:
            return (metric(consumer, "revmentor_consumer_lag") == 0
                    and metric(consumer, "revmentor_consumer_stalled_seconds") == 0)

        await eventually(caught_up, what="lag and stalled seconds back to 0")
    finally:
        await consumer.stop()


async def test_readiness_pings_both_dependencies_and_runs_no_query_however_large_the_backlog(
    infra: Any, unique: str
):
    service = probe_service(infra, f"ready-{unique}")
    now = datetime.now(UTC)
    await service.db[OUTBOX].insert_many([
        outbox_document(encode(example(ParticipantEnrolled, participant_id=f"p-{i}"),
                               source="/tests"), now) for i in range(2000)])
    await service.broker.start()  # the relay stays off: its own queries are not the probe's
    try:
        with COMMANDS.recording() as commands:
            checks = await service.readiness()
    finally:
        await service.broker.stop()
        await service.client.close()
    assert checks == {"mongodb": True, "kafka": True}
    assert commands == [("admin", "ping")]


async def test_readiness_answers_not_ready_within_its_timeout_when_the_database_is_down(
    infra: Any, unique: str
):
    if not hasattr(infra, "stop_database"):
        pytest.skip("only the embedded tier can stop its database")
    service = probe_service(infra, f"ready-down-{unique}", readiness_timeout_s=0.5,
                            mongodb_server_selection_timeout_ms=10_000)
    await service.broker.start()
    infra.stop_database()
    try:
        started = time.monotonic()
        checks = await service.readiness()
        waited = time.monotonic() - started
    finally:
        infra.start_database()
        await service.broker.stop()
        await service.client.close()
    assert checks == {"mongodb": False, "kafka": True}
    assert waited < 5.0  # well below the server selection timeout, which it no longer waits out
