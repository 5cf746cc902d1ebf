"""E-mails per second from the notifications service into a real SMTP server, on real infra.

Runs the notifications service in this process against the broker and database of the chosen
tier (external URLs, containers, else embedded) and an aiosmtpd mail sink on loopback, puts
``--events`` enrolments on the broker as the enrolment service does (each person's profile on the
compacted profile topic, then ``ParticipantEnrolled``), and measures the time from the first
record produced until the sink accepted every welcome e-mail: consume, render (Jinja2, German and
English), claim, send over SMTP, settle. Baseline in the same run: a bare aiosmtplib loop sending
the same number of comparable messages to the same sink, ``--connections`` at a time.

Usage: python benchmarks/notifications_mail.py [--events 5000] [--connections 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a plain checkout

from contracts import Record, encode
from contracts.catalogue import example_data
from contracts.enrolment import CohortOpened, ParticipantEnrolled
from contracts.profiles import ParticipantProfile, encode_profile
from services.notifications.app import build
from services.notifications.settings import NotificationsSettings
from services.notifications.sink import MailSink
from services.runtime.log import configure_logging
from services.stack.infra import open_infra

UNIT = "bu-bench"


def records(cohort_id: str, count: int) -> list[Record]:
    """The cohort, then per person the profile and the enrolment, as enrolment publishes them."""
    now = datetime.now(UTC)
    out = [encode(CohortOpened.model_validate({
        **example_data(CohortOpened), "tenant_id": UNIT, "cohort_id": cohort_id,
        "name": "Benchmark cohort", "languages": ["de", "en"], "opens_at": now.isoformat(),
        "closes_at": (now + timedelta(days=14)).isoformat()}), source="/revmentor/enrolment")]
    for i in range(count):
        pid = f"p-{i:06d}"
        out.append(encode_profile(ParticipantProfile.model_validate({
            "tenant_id": UNIT, "cohort_id": cohort_id, "participant_id": pid,
            "name": f"Person {i}", "email": f"person{i}@example.com",
            "locale": "de" if i % 2 else "en", "enrolled_at": now.isoformat()}),
            source="/revmentor/enrolment"))
        data = {k: v for k, v in example_data(ParticipantEnrolled).items()
                if k not in ("name", "email", "goals")}
        out.append(encode(ParticipantEnrolled.model_validate({
            **data, "tenant_id": UNIT, "cohort_id": cohort_id, "participant_id": pid,
            "role": "mentor" if i % 2 else "mentee", "time_zone": "Europe/Berlin",
            "consent_given_at": now.isoformat()}), source="/revmentor/enrolment"))
    return out


async def until(condition: Any, within: float) -> None:
    deadline = time.perf_counter() + within
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the sink did not receive every e-mail in time")
        await asyncio.sleep(0.05)


async def service_rate(urls: Any, sink: MailSink, count: int) -> dict[str, float]:
    settings = NotificationsSettings.load(
        kafka_bootstrap_servers=urls.kafka_bootstrap_servers, mongodb_uri=urls.mongodb_uri,
        mongodb_database=f"notifications_bench_{uuid.uuid4().hex[:8]}",
        service_name=f"notifications-bench-{uuid.uuid4().hex[:6]}", consumer_start_from="latest",
        smtp_host=sink.host, smtp_port=sink.port, log_level="WARNING")
    notifications = build(settings)
    producer = AIOKafkaProducer(bootstrap_servers=urls.kafka_bootstrap_servers, linger_ms=5)
    await producer.start()
    async with notifications.app.router.lifespan_context(notifications.app):
        while not await notifications.service.consuming():  # noqa: ASYNC110 (a poll by design)
            await asyncio.sleep(0.05)
        batch = records(f"coh-bench-{uuid.uuid4().hex[:8]}", count)
        began = time.perf_counter()
        sent = [await producer.send(r.topic, r.value, key=r.key, headers=[
            (k, v.encode()) for k, v in r.headers.items()]) for r in batch]
        await asyncio.gather(*sent)
        produced = time.perf_counter() - began
        await until(lambda: len(sink.messages) >= count, within=max(120.0, count / 5))
        seconds = time.perf_counter() - began
    await producer.stop()
    return {"service_s": seconds, "service_emails_per_s": count / seconds,
            "produce_s": produced}


def message(i: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = "revmentor <noreply@example.com>", f"baseline{i}@example.com"
    msg["Subject"] = "Welcome to the programme"
    msg.set_content("Hello,\n\nthank you for enrolling.\n" * 10)
    msg.add_alternative("<p>Hello,</p><p>thank you for enrolling.</p>" * 10, subtype="html")
    return msg


async def bare_rate(sink: MailSink, count: int, connections: int) -> dict[str, float]:
    """aiosmtplib alone: ``connections`` clients each sending its share over one connection."""
    before = len(sink.messages)

    async def client(numbers: range) -> None:
        async with aiosmtplib.SMTP(hostname=sink.host, port=sink.port) as smtp:
            for i in numbers:
                await smtp.send_message(message(i))

    began = time.perf_counter()
    await asyncio.gather(*(client(range(c, count, connections)) for c in range(connections)))
    seconds = time.perf_counter() - began
    assert len(sink.messages) - before == count
    return {"baseline_s": seconds, "baseline_emails_per_s": count / seconds}


async def measure(urls: Any, count: int, connections: int) -> dict[str, Any]:
    sink = MailSink().start()
    try:
        result: dict[str, Any] = {"events": count, **await service_rate(urls, sink, count)}
        sink.messages.clear()
        result.update(await bare_rate(sink, count, connections))
        result["connections"] = connections
    finally:
        sink.stop()
    result["ratio"] = result["service_emails_per_s"] / result["baseline_emails_per_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8,
                        help="SMTP connections of the bare baseline")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("notifications-bench", "WARNING")
    with open_infra() as started:
        result = asyncio.run(measure(started.infra, args.events, args.connections))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"notifications service: {args.events:,} welcome e-mails in {result['service_s']:.1f} s"
          f" = {result['service_emails_per_s']:,.0f} e-mails/s (records produced in "
          f"{result['produce_s']:.1f} s)")
    print(f"baseline, bare aiosmtplib ({args.connections} connections): "
          f"{result['baseline_s']:.1f} s = {result['baseline_emails_per_s']:,.0f} e-mails/s")
    print(f"ratio: {result['ratio']:.1%} of the bare send loop")


if __name__ == "__main__":
    main()
