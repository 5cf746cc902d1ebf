"""The whole pipeline on the stack: enrolment → broker → matching, sessions and notifications.

Starts the platform as `revmentor up` does (every service its own process, fresh embedded tier;
``--kafka``/``--mongodb`` for external infrastructure) and measures, in one run:
  1. **import**: ``--participants`` rows streamed as one CSV upload, until the last
     ``ParticipantEnrolled`` has been applied by matching and by notifications (each service's
     ``revmentor_events_consumed_total``, polled); sessions is reported too;
  2. **rolling**: a rolling cohort enrolled one person at a time at ``--rate`` per second;
     latency from the enrolment's commit (its 201) to the ``PairProposed`` it caused being
     consumed by an independent aiokafka subscriber, p50/p99;
  3. **events/s through each consumer** during the import (all event types it applied);
  4. **baseline**: raw aiokafka, the same number of records of the same size produced and
     consumed in this run, and each consumer's ratio to it.

Usage: python benchmarks/pipeline.py [--participants 10000] [--rolling 300] [--rate 20] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a plain checkout

from benchmarks.enrolment_import import csv_upload, single_body
from contracts import decode
from contracts.enrolment import ParticipantEnrolled
from contracts.matching import PairProposed
from contracts.topics import MATCHING
from services.stack.demo.units import admin_token
from services.stack.local_stack import LocalStack

UNIT = "bu-pipeline"
ENROLLED = ParticipantEnrolled.event_type()
CONSUMED = "revmentor_events_consumed_total"
WATCHED = ("matching", "notifications", "sessions")
"""The services that consume enrolments; the import is done when matching and notifications
have applied every one (sessions keeps only what mentorships need)."""


async def consumed(http: httpx.AsyncClient, url: str) -> dict[str, dict[str, float]]:
    """Events applied so far by each consumer of the service at ``url``, by event type."""
    response = await http.get(f"{url}/metrics")
    response.raise_for_status()
    counts: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == CONSUMED:
                by_type = counts.setdefault(sample.labels["consumer"], {})
                by_type[sample.labels["type"]] = float(sample.value)
    return counts


class ConsumerWatch:
    """Polls every watched service's counters; notes when each consumer moved first and last."""

    def __init__(self, http: httpx.AsyncClient, urls: Mapping[str, str]) -> None:
        self.http, self.urls = http, {s: urls[s] for s in WATCHED if s in urls}
        self.start: dict[str, float] = {}
        self.first_move: dict[str, float] = {}
        self.last_move: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.enrolled: dict[str, float] = {}
        self.enrolled_at: dict[str, float] = {}

    async def sample(self) -> None:
        now = time.perf_counter()
        found = await asyncio.gather(*(consumed(self.http, u) for u in self.urls.values()))
        for service, by_consumer in zip(self.urls, found, strict=True):
            self.enrolled[service] = sum(c.get(ENROLLED, 0.0) for c in by_consumer.values())
            for consumer, by_type in by_consumer.items():
                total = sum(by_type.values())
                self.start.setdefault(consumer, total)
                if total != self.last.get(consumer, total):
                    self.first_move.setdefault(consumer, now)
                    self.last_move[consumer] = now
                self.last[consumer] = total

    async def until_enrolled(self, expected: int, needed: tuple[str, ...], within: float
                             ) -> dict[str, float]:
        """Seconds (perf_counter) at which each service had applied ``expected`` enrolments."""
        deadline = time.perf_counter() + within
        while time.perf_counter() < deadline:
            await self.sample()
            for service, count in self.enrolled.items():
                if count >= expected:
                    self.enrolled_at.setdefault(service, time.perf_counter())
            if all(s in self.enrolled_at for s in needed):
                return self.enrolled_at
            await asyncio.sleep(0.1)
        raise TimeoutError(f"enrolments applied after {within:.0f}s: {self.enrolled}")

    def rates(self) -> dict[str, float]:
        """Events/s each consumer applied while it was busy (first to last change seen)."""
        rates = {}
        for consumer, first in self.first_move.items():
            busy = self.last_move[consumer] - first
            moved = self.last[consumer] - self.start[consumer]
            if busy > 0:
                rates[consumer] = moved / busy
        return rates


async def open_cohort(http: httpx.AsyncClient, url: str, headers: Mapping[str, str],
                      mode: str) -> str:
    closes = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    response = await http.post(f"{url}/cohorts", headers=headers, json={
        "name": f"Pipeline {mode}", "languages": ["de", "en"], "closes_at": closes,
        "matching_policy": {"mode": mode, "mentor_capacity": 1}})
    response.raise_for_status()
    return str(response.json()["cohort_id"])


async def import_phase(http: httpx.AsyncClient, urls: Mapping[str, str],
                       headers: Mapping[str, str], rows: int) -> dict[str, Any]:
    cohort_id = await open_cohort(http, urls["enrolment"], headers, "batch")
    watch = ConsumerWatch(http, urls)
    await watch.sample()
    began = time.perf_counter()
    response = await http.post(f"{urls['enrolment']}/cohorts/{cohort_id}/imports",
                               headers={**headers, "Content-Type": "text/csv"},
                               content=csv_upload(rows), timeout=600.0)
    response.raise_for_status()
    reported = time.perf_counter() - began
    accepted = response.json()["summary"]["accepted"]
    if accepted != rows:
        raise RuntimeError(f"the import accepted {accepted} of {rows} rows")
    baseline = {s: n for s, n in watch.enrolled.items()}
    needed = tuple(s for s in ("matching", "notifications") if s in watch.urls)
    done = await watch.until_enrolled(rows + int(max(baseline.values(), default=0)), needed,
                                      within=max(120.0, rows / 50))
    return {"import_s": max(done[s] for s in needed) - began,
            "import_report_s": reported,
            "applied_s": {s: t - began for s, t in done.items()},
            "events_per_s": watch.rates()}


async def rolling_phase(http: httpx.AsyncClient, urls: Mapping[str, str],
                        headers: Mapping[str, str], bootstrap: str, count: int,
                        rate: float) -> dict[str, Any]:
    cohort_id = await open_cohort(http, urls["enrolment"], headers, "rolling")
    key = cohort_id.encode()
    subscriber = AIOKafkaConsumer(MATCHING, bootstrap_servers=bootstrap, group_id=None,
                                  auto_offset_reset="latest", enable_auto_commit=False)
    await subscriber.start()
    for partition in subscriber.assignment():
        await subscriber.position(partition)
    committed: dict[str, float] = {}
    latencies: list[float] = []
    pairs_expected = count // 2

    async def listen() -> None:
        while len(latencies) < pairs_expected:
            batches = await subscriber.getmany(timeout_ms=50)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    if record.key != key:
                        continue
                    event = decode(record.value).event
                    if isinstance(event, PairProposed):
                        caused_by = max(committed[event.mentor_id], committed[event.mentee_id])
                        latencies.append(now - caused_by)

    async def enrol() -> None:
        interval = 1.0 / rate
        start = time.perf_counter()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
            body = single_body(1_000_000 + i)
            response = await http.post(
                f"{urls['enrolment']}/cohorts/{cohort_id}/participants", headers=headers,
                json=body)
            response.raise_for_status()
            committed[response.json()["participant_id"]] = time.perf_counter()

    listening = asyncio.create_task(listen())
    try:
        await enrol()
        await asyncio.wait_for(listening, timeout=60.0)
    finally:
        listening.cancel()
        await subscriber.stop()
    ordered = sorted(latencies)
    return {"p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "proposals": len(ordered), "rate_per_s": rate}


async def baseline(bootstrap: str, count: int, size: int) -> float:
    """Raw aiokafka: ``count`` records of ``size`` bytes produced, then consumed; events/s."""
    topic = f"bench-pipeline-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await producer.start()
    value = b"x" * size
    began = time.perf_counter()
    try:
        sent = [await producer.send(topic, value, key=b"cohort") for _ in range(count)]
        await asyncio.gather(*sent)
        await consumer.start()
        seen = 0
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=100, max_records=5000)).values():
                seen += len(records)
        return count / (time.perf_counter() - began)
    finally:
        await producer.stop()
        await consumer.stop()


async def measure(urls: Mapping[str, str], secret: str, bootstrap: str, participants: int,
                  rolling: int, rate: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {admin_token(secret, UNIT)}"}
    async with httpx.AsyncClient(timeout=60.0) as http:
        imported = await import_phase(http, urls, headers, participants)
        rolled = await rolling_phase(http, urls, headers, bootstrap, rolling, rate)
    record_size = 900  # a ParticipantEnrolled record with its envelope and headers
    raw = await baseline(bootstrap, participants, record_size)
    return {**imported, **rolled, "participants": participants,
            "baseline_events_per_s": raw,
            "ratio": {c: r / raw for c, r in imported["events_per_s"].items()}}


def report(result: Mapping[str, Any]) -> str:
    lines = [f"import of {result['participants']:,} rows, applied by matching and notifications:"
             f" {result['import_s']:.1f} s (upload answered after "
             f"{result['import_report_s']:.1f} s)"]
    for service, seconds in sorted(result["applied_s"].items()):
        lines.append(f"  {service:<14} applied every enrolment after {seconds:.1f} s")
    lines.append(f"rolling at {result['rate_per_s']:g} enrolments/s: enrolment commit -> "
                 f"PairProposed consumed p50 {result['p50_ms']:.0f} ms, "
                 f"p99 {result['p99_ms']:.0f} ms ({result['proposals']} proposals)")
    lines.append(f"baseline, raw aiokafka produce+consume: "
                 f"{result['baseline_events_per_s']:,.0f} events/s")
    for consumer, rate in sorted(result["events_per_s"].items()):
        lines.append(f"  {consumer:<24} {rate:>8,.0f} events/s  "
                     f"({result['ratio'][consumer]:.1%} of the baseline)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--rolling", type=int, default=300, help="enrolments in rolling mode")
    parser.add_argument("--rate", type=float, default=20.0, help="rolling enrolments per second")
    parser.add_argument("--kafka", help="external Kafka bootstrap servers (with --mongodb)")
    parser.add_argument("--mongodb", help="external MongoDB URI (with --kafka)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # leave the block: stop the stack
    with LocalStack(fixed_ports=False, kafka=args.kafka, mongodb=args.mongodb,
                    settings={"log_level": "WARNING"}) as stack:
        info = stack.info
        result = asyncio.run(measure(info.services, info.jwt_secret,
                                     info.kafka_bootstrap_servers, args.participants,
                                     args.rolling, args.rate))
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
