"""`revmentor dlq replay`: a dead letter goes back to its topic once its handler is fixed, and
is applied once, however often it is replayed."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from contracts import Envelope, encode
from contracts.enrolment import ParticipantEnrolled
from contracts.topics import ENROLMENT
from services.runtime.dead_letter_replay import ReplayRequest, replay_dead_letters
from services.runtime.outbox import UnitOfWork
from services.runtime.service import Service
from services.stack.cli import app
from tests.harness import (
    count_applications,
    eventually,
    example,
    metric,
    probe_service,
    read_topic,
    times_applied,
)

pytestmark = pytest.mark.integration
TRACE = ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")


class Handler:
    """Fails on the participants in ``broken`` until fixed, as a handler bug would."""

    def __init__(self, *broken: str) -> None:
        self.broken = set(broken)

    async def __call__(self, env: Envelope, uow: UnitOfWork) -> None:
        participant = env.event.participant_id  # type: ignore[attr-defined]
        if participant in self.broken:
            raise ValueError(f"a bug in the handler for {participant}")
        await count_applications(uow, participant, env.cohort_id)


async def dead_lettered(infra: Any, unique: str, handler: Handler, *participants: str
                        ) -> tuple[Service, str]:
    """A started probe consumer that has dead-lettered one event per participant."""
    cohort = f"cohort-{unique}"
    service = probe_service(infra, f"replay-{unique}", {ParticipantEnrolled: handler},
                            retry_initial_backoff_s=0.01, consumer_start_from="latest")
    await service.start()
    await eventually(service.consuming, what="the consumer to be assigned")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    try:
        for participant in participants:
            event = example(ParticipantEnrolled, cohort_id=cohort, participant_id=participant)
            await producer.send_and_wait(ENROLMENT, encode(event, source="/tests").value,
                                         key=cohort.encode(), headers=[TRACE])
    finally:
        await producer.stop()

    async def parked() -> bool:
        return metric(service, "revmentor_dead_letters_total") == len(participants)

    await eventually(parked, what="the failing events to be dead-lettered")
    return service, cohort


async def replay_command(*args: str) -> dict[str, Any]:
    result = await asyncio.to_thread(CliRunner().invoke, app, ["dlq", "replay", *args, "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


async def test_a_replayed_dead_letter_is_applied_once_and_a_second_replay_changes_nothing(
    infra: Any, unique: str
) -> None:
    handler = Handler("needs-fix")
    service, cohort = await dead_lettered(infra, unique, handler, "needs-fix")
    consumer = service.consumers[0].name
    ours = ["--topic", ENROLMENT, "--consumer", consumer, "--group", f"replay-{unique}",
            "--kafka", infra.kafka_bootstrap_servers]
    try:
        handler.broken.clear()
        first = await replay_command(*ours)

        async def applied() -> bool:
            return await times_applied(service, cohort, "needs-fix") == 1

        await eventually(applied, what="the replayed event to be applied")
        again = await replay_command(*ours, "--from-beginning")

        async def skipped_by_the_inbox() -> bool:
            return metric(service, "revmentor_events_duplicate_total") == 1

        await eventually(skipped_by_the_inbox, what="the second replay to reach the consumer")
        after_both = await times_applied(service, cohort, "needs-fix")
        nothing_left = await replay_command(*ours)
        records = await read_topic(infra.kafka_bootstrap_servers, ENROLMENT, count=3,
                                   keep=lambda r: r.key == cohort.encode())
    finally:
        await service.stop()
    assert first["replayed"] == 1
    assert first["by_cause"] == [{"topic": ENROLMENT, "consumer": consumer,
                                  "reason": "handler_failed", "count": 1}]
    assert again["replayed"] == 1
    assert after_both == 1
    assert nothing_left["replayed"] == 0
    replayed = records[1]
    assert replayed.value == records[0].value
    assert TRACE in replayed.headers
    assert [k for k, _ in replayed.headers if k.startswith("dlq-")] == []


async def test_a_dry_run_moves_nothing_and_a_limit_leaves_the_rest_for_the_next_run(
    infra: Any, unique: str
) -> None:
    handler = Handler("first", "second")
    service, cohort = await dead_lettered(infra, unique, handler, "first", "second")
    request = ReplayRequest(topics=(ENROLMENT,), consumer=service.consumers[0].name,
                            group=f"replay-{unique}")
    kafka = infra.kafka_bootstrap_servers
    try:
        handler.broken.clear()
        dry = await replay_dead_letters(kafka, replace(request, dry_run=True))
        one = await replay_dead_letters(kafka, replace(request, limit=1))

        async def first_applied() -> bool:
            return await times_applied(service, cohort, "first") == 1

        await eventually(first_applied, what="the first replayed event to be applied")
        not_yet = await times_applied(service, cohort, "second")
        rest = await replay_dead_letters(kafka, request)

        async def second_applied() -> bool:
            return await times_applied(service, cohort, "second") == 1

        await eventually(second_applied, what="the rest to be replayed")
    finally:
        await service.stop()
    assert (dry.dry_run, dry.replayed) == (True, 2)
    assert one.replayed == 1
    assert not_yet == 0
    assert rest.replayed == 1
