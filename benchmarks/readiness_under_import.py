"""Readiness latency of the enrolment service while it imports a large upload, over real HTTP.

Starts ``python -m services.enrolment`` as its own process (settings from the environment, as
in a deployment) and measures, in one run on the same broker and database:
  * idle: ``GET /readyz`` latency before any load (the baseline);
  * under load: ``GET /readyz`` every ``--interval`` seconds from a separate client while a
    ``--rows`` CSV import streams in over HTTP and the relay publishes its events, until the
    import answered and the outbox is empty;
  * liveness: ``GET /healthz`` right after each of those, the floor any route meets under the
    same load (it touches no dependency);
  * old probe: the unbounded ``count_documents({"sent_at": None})`` readiness used to run,
    timed back to back against the same database during the same load, for comparison.

A probe that is not answered within ``--timeout`` seconds counts as a failure (Kubernetes would
take the replica out of service). Picks the infrastructure tier as the tests do.
Usage: python benchmarks/readiness_under_import.py [--rows 10000] [--interval 0.1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from enrolment_import import csv_upload, free_port
from pymongo import AsyncMongoClient

from services.runtime.auth import PROGRAMME_ADMIN, issue_dev_token
from services.runtime.settings import ServiceSettings
from services.stack.infra import open_infra


@dataclass
class Probes:
    """Latencies of one kind of probe, in milliseconds, and how many failed."""

    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies_ms)
        if not values:
            return {"probes": 0, "failures": self.failures}
        return {
            "probes": len(values), "failures": self.failures,
            "p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))], 1),
            "max_ms": round(values[-1], 1),
        }


async def probe(http: httpx.AsyncClient, probes: Probes, limit_s: float,
                path: str = "/readyz") -> None:
    started = time.perf_counter()
    try:
        response = await http.get(path, timeout=limit_s)
    except httpx.TimeoutException:
        probes.failures += 1
        return
    probes.latencies_ms.append((time.perf_counter() - started) * 1000)
    if response.status_code != 200:
        probes.failures += 1


async def wait_until_serving(base_url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the enrolment service did not become ready")


def run(urls: Any, rows: int, interval: float, limit_s: float) -> dict[str, Any]:
    """Start the service as its own process, measure against it, stop it."""
    database = f"enrolment_ready_{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": urls.kafka_bootstrap_servers,
           "MONGODB_URI": urls.mongodb_uri, "REVMENTOR_ENROLMENT_MONGODB_DATABASE": database,
           "REVMENTOR_ENROLMENT_HTTP_HOST": "127.0.0.1",
           "REVMENTOR_ENROLMENT_HTTP_PORT": str(port),
           "REVMENTOR_ENROLMENT_LOG_LEVEL": "WARNING"}
    secret = ServiceSettings.for_service("enrolment").jwt_secret.get_secret_value()
    token = issue_dev_token(secret, subject="bench-admin", business_unit="bu-bench",
                            roles=[PROGRAMME_ADMIN])
    with tempfile.TemporaryFile() as service_log:
        service = subprocess.Popen([sys.executable, "-m", "services.enrolment"], env=env,
                                   stdout=service_log, stderr=subprocess.STDOUT)
        try:
            return asyncio.run(measure(f"http://127.0.0.1:{port}", token, urls.mongodb_uri,
                                       database, rows, interval, limit_s))
        finally:
            service.terminate()
            service.wait(timeout=30)


async def measure(base_url: str, token: str, mongodb_uri: str, database: str, rows: int,
                  interval: float, limit_s: float) -> dict[str, Any]:
    await wait_until_serving(base_url)
    idle, loaded, alive, old_probe = Probes(), Probes(), Probes(), Probes()
    headers = {"Authorization": f"Bearer {token}"}
    closes = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    outbox = mongo[database]["outbox"]
    async with httpx.AsyncClient(base_url=base_url, timeout=None, headers=headers) as upload, \
            httpx.AsyncClient(base_url=base_url) as prober:
        for _ in range(50):
            await probe(prober, idle, limit_s)
            await asyncio.sleep(interval / 5)
        cohort = await upload.post("/cohorts", json={"name": "bench", "languages": ["de"],
                                                     "closes_at": closes})
        cohort_id = cohort.json()["cohort_id"]
        started = time.perf_counter()
        importing = asyncio.create_task(upload.post(
            f"/cohorts/{cohort_id}/imports", content=csv_upload(rows),
            headers={"content-type": "text/csv"}))
        pending, max_pending = 1, 0

        async def count_like_the_old_probe() -> None:
            nonlocal pending, max_pending
            while not importing.done() or pending:
                begun = time.perf_counter()
                pending = await outbox.count_documents({"sent_at": None})
                old_probe.latencies_ms.append((time.perf_counter() - begun) * 1000)
                max_pending = max(max_pending, pending)

        counting = asyncio.create_task(count_like_the_old_probe())
        while not counting.done():
            await probe(prober, loaded, limit_s)
            await probe(prober, alive, limit_s, "/healthz")
            await asyncio.sleep(interval)
        response = await importing
        await counting
        load_s = time.perf_counter() - started
    await mongo.close()
    summary = response.json()["summary"]
    assert summary["accepted"] == rows, summary
    return {"rows": rows, "load_s": round(load_s, 1), "max_outbox_pending": max_pending,
            "readyz_idle": idle.summary(), "readyz_under_import": loaded.summary(),
            "healthz_under_import": alive.summary(),
            "old_probe_count_under_import": old_probe.summary()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=0.1,
                        help="seconds between two readiness probes under load")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="a probe not answered within it fails (Kubernetes' timeout)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with open_infra() as tier:  # the tests' rule: external, containers, else embedded
        result = run(tier.infra, args.rows, args.interval, args.timeout)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:30} {value}")


if __name__ == "__main__":
    main()
