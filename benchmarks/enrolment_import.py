"""Bulk-import throughput of the enrolment service through its HTTP API, on real infrastructure.

Starts the enrolment service under uvicorn on a loopback port and measures, in one run on the
same broker and database:
  * import: ``--rows`` generated HRIS rows streamed as one CSV upload to
    ``POST /cohorts/{id}/imports``; rows/s = rows / time until the report arrived; events/s =
    rows / time from the upload's start until all of its ``ParticipantEnrolled`` events are on
    the broker (read by a plain aiokafka consumer, filtered by the cohort key);
  * reimport: the same file again (idempotent: every row already enrolled, no event);
  * baseline: ``--baseline`` rows of the same shape enrolled one by one with sequential
    ``POST /cohorts/{id}/participants`` requests, extrapolated to ``--rows``; and the same with
    ``--concurrency`` clients at once (enrolments of one cohort queue on its fence).

Picks the infrastructure tier as the tests do: external URLs, containers, else embedded.
Usage: python benchmarks/enrolment_import.py [--rows 10000] [--baseline 500]
       [--concurrency 16] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer

from contracts.enrolment import ParticipantEnrolled
from contracts.topics import ENROLMENT
from services.enrolment.app import build
from services.enrolment.settings import EnrolmentSettings
from services.runtime.auth import PROGRAMME_ADMIN, issue_dev_token
from services.runtime.log import configure_logging
from services.stack.infra import open_infra

COLUMNS = ("employee_id,role,first_name,last_name,email,department,manager_id,career_level,"
           "topics_offered,topics_wanted,languages,time_zone,preferred_format,goals,consent")
DEPARTMENTS = ("IT", "Sales", "Finance", "HR", "Operations", "Marketing", "Legal")
ENROLLED = ParticipantEnrolled.event_type().encode()


def person(i: int) -> dict[str, Any]:
    mentor = i % 2 == 0
    return {
        "employee_id": f"e-{i:06d}", "role": "mentor" if mentor else "mentee",
        "first_name": f"First{i}", "last_name": f"Last{i}", "email": f"person{i}@example.com",
        "department": DEPARTMENTS[i % len(DEPARTMENTS)], "manager_id": f"m-{i % 400:04d}",
        "career_level": 1 + i % 4 if mentor else 6 + i % 5,
        "topics_offered": "genai;social-media" if mentor else "negotiation;strategy",
        "topics_wanted": "leadership" if mentor else "genai", "languages": "de;en",
        "time_zone": "Europe/Berlin", "preferred_format": ("video", "in_person", "either")[i % 3],
        "goals": "Share what I know and learn how decisions get made.", "consent": "yes",
    }


async def csv_upload(rows: int, per_chunk: int = 200) -> AsyncIterator[bytes]:
    """The export generated on the fly and streamed in pieces, as a large upload arrives."""
    yield (COLUMNS + "\n").encode()
    for start in range(0, rows, per_chunk):
        lines = (",".join(str(v) for v in person(i).values())
                 for i in range(start, min(rows, start + per_chunk)))
        yield ("\n".join(lines) + "\n").encode()


def single_body(i: int) -> dict[str, Any]:
    data = person(i)
    return {**data, "name": f"{data.pop('first_name')} {data.pop('last_name')}",
            "languages": ["de", "en"], "topics_offered": data["topics_offered"].split(";"),
            "topics_wanted": [data["topics_wanted"]], "consent": True}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EventWatch:
    """Counts ``ParticipantEnrolled`` records of one cohort on the broker as they arrive."""

    def __init__(self, bootstrap: str, cohort_id: str, expected: int) -> None:
        self.consumer = AIOKafkaConsumer(ENROLMENT, bootstrap_servers=bootstrap, group_id=None,
                                         auto_offset_reset="earliest", enable_auto_commit=False)
        self.key, self.expected = cohort_id.encode(), expected
        self.seen = 0
        self.done_at: float | None = None

    async def start(self) -> None:
        """Join the topic (metadata, offsets) before the clock starts."""
        await self.consumer.start()
        await self.consumer.seek_to_beginning()

    async def run(self) -> None:
        try:
            while self.seen < self.expected:
                for records in (await self.consumer.getmany(timeout_ms=100)).values():
                    self.seen += sum(1 for r in records if r.key == self.key
                                     and dict(r.headers).get("ce_type") == ENROLLED)
            self.done_at = time.perf_counter()
        finally:
            await self.consumer.stop()


async def enrol_one_by_one(http: httpx.AsyncClient, cohort_id: str, numbers: range,
                           concurrency: int) -> float:
    """Seconds to enrol ``numbers`` with single requests, ``concurrency`` in flight."""
    pending = iter(numbers)

    async def client() -> None:
        for i in pending:
            response = await http.post(f"/cohorts/{cohort_id}/participants",
                                       json=single_body(i))
            assert response.status_code == 201, response.text

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started


async def measure(urls: Any, rows: int, baseline: int, concurrency: int) -> dict[str, Any]:
    settings = EnrolmentSettings.load(
        kafka_bootstrap_servers=urls.kafka_bootstrap_servers, mongodb_uri=urls.mongodb_uri,
        mongodb_database=f"enrolment_bench_{uuid.uuid4().hex[:8]}", log_level="WARNING")
    enrolment = build(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(enrolment.app, host="127.0.0.1", port=port,
                                           log_level="warning", log_config=None))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers only this flag)
        await asyncio.sleep(0.01)
    token = issue_dev_token(settings.jwt_secret.get_secret_value(), subject="bench-admin",
                            business_unit="bu-bench", roles=[PROGRAMME_ADMIN])
    headers = {"Authorization": f"Bearer {token}"}
    closes = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    cohort = {"name": "bench", "languages": ["de", "en"], "closes_at": closes}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=None,
                                     headers=headers) as http:
            bulk_id = (await http.post("/cohorts", json=cohort)).json()["cohort_id"]
            single_id = (await http.post("/cohorts", json=cohort)).json()["cohort_id"]
            watch = EventWatch(urls.kafka_bootstrap_servers, bulk_id, rows)
            await watch.start()
            watching = asyncio.create_task(watch.run())

            started = time.perf_counter()
            response = await http.post(f"/cohorts/{bulk_id}/imports", content=csv_upload(rows),
                                       headers={"content-type": "text/csv"})
            import_s = time.perf_counter() - started
            summary = response.json()["summary"]
            assert summary["accepted"] == rows, summary
            await asyncio.wait_for(watching, timeout=300)
            assert watch.done_at is not None
            events_s = watch.done_at - started

            started = time.perf_counter()
            again = await http.post(f"/cohorts/{bulk_id}/imports", content=csv_upload(rows),
                                    headers={"content-type": "text/csv"})
            reimport_s = time.perf_counter() - started
            assert again.json()["summary"]["already_enrolled"] == rows

            baseline_s = await enrol_one_by_one(http, single_id, range(baseline), 1)
            parallel_s = await enrol_one_by_one(http, single_id, range(baseline, 2 * baseline),
                                                concurrency)
    finally:
        server.should_exit = True
        await serving
    baseline_rate = baseline / baseline_s
    return {
        "rows": rows,
        "chunk_size": settings.import_chunk_size,
        "tier": urls.tier,
        "import_s": round(import_s, 3),
        "import_rows_per_s": round(rows / import_s, 1),
        "events_on_broker_s": round(events_s, 3),
        "events_per_s": round(rows / events_s, 1),
        "reimport_s": round(reimport_s, 3),
        "reimport_rows_per_s": round(rows / reimport_s, 1),
        "baseline_rows": baseline,
        "baseline_rows_per_s": round(baseline_rate, 1),
        "baseline_extrapolated_s": round(rows / baseline_rate, 1),
        "import_vs_baseline_speedup": round(rows / import_s / baseline_rate, 1),
        "baseline_concurrency": concurrency,
        "baseline_concurrent_rows_per_s": round(baseline / parallel_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=500,
                        help="rows enrolled one by one for the baseline")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="clients at once for the concurrent baseline")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("bench", level="WARNING")
    with open_infra() as tier:  # the tests' rule: external, containers, else embedded
        result = asyncio.run(measure(tier.infra, args.rows, args.baseline,
                                     args.concurrency))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
