"""Crash recovery: kill -9 of the enrolment process in the middle of an import transaction.

The service runs as its own process (``python -m services.enrolment``) on the test infra. The
database holds the import's transaction open (a ``failCommand`` failpoint blocks its participant
insert after the cohort fence was written), the process is killed with SIGKILL, started again,
and the test measures how long writes to the same cohort keep failing: the abandoned transaction
holds the fence until the database aborts it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from services.runtime.auth import PARTICIPANT, PROGRAMME_ADMIN, issue_dev_token
from services.stack.servers import LOOPBACK, free_port
from tests.enrolment.conftest import application, cohort_spec
from tests.harness import eventually

pytestmark = pytest.mark.integration

SECRET = "crash-recovery-test-secret-0123456789abcdef"
APP_NAME = "revmentor-enrolment"
RECOVERY_GOAL_S = 10.0
"""docs/enrolment.md: writes to a cohort resume within 10 s of a restart after kill -9."""


class EnrolmentProcess:
    """``python -m services.enrolment`` as a child process on a fixed port."""

    def __init__(self, infra: Any, unique: str, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log_path = log_path
        self.env = {
            **os.environ, **infra_env(infra),
            "REVMENTOR_JWT_SECRET": SECRET,
            "REVMENTOR_ENROLMENT_HTTP_HOST": LOOPBACK,
            "REVMENTOR_ENROLMENT_HTTP_PORT": str(self.port),
            "REVMENTOR_ENROLMENT_MONGODB_DATABASE": f"enrolment_{unique}",
            "REVMENTOR_ENROLMENT_WINDOW_CHECK_INTERVAL_S": "3600",
            "REVMENTOR_ENROLMENT_IMPORT_CHUNK_SIZE": "10",
        }
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "services.enrolment"], env=self.env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self.popen = None

    def stop(self) -> None:
        if self.popen is not None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
            self.popen = None

    async def answers(self, http: httpx.AsyncClient) -> bool:
        assert self.popen is not None
        if self.popen.poll() is not None:
            raise AssertionError(f"the service exited: {self.log_path.read_text()[-2000:]}")
        with suppress(httpx.HTTPError):
            return (await http.get(f"{self.url}/healthz", timeout=1)).status_code == 200
        return False


def infra_env(infra: Any) -> dict[str, str]:
    return {"KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
            "MONGODB_URI": infra.mongodb_uri}


def headers(roles: list[str], subject: str, participant_id: str | None = None
            ) -> dict[str, str]:
    token = issue_dev_token(SECRET, subject=subject, business_unit="bu-retail", roles=roles,
                            participant_id=participant_id)
    return {"Authorization": f"Bearer {token}"}


ADMIN = headers([PROGRAMME_ADMIN], "admin-1")


@contextmanager
def enrolment_process(infra: Any, unique: str, tmp_path: Path) -> Iterator[EnrolmentProcess]:
    process = EnrolmentProcess(infra, unique, tmp_path / "enrolment.log")
    try:
        yield process
    finally:
        process.stop()


@asynccontextmanager
async def blocked_inserts(mongo: AsyncMongoClient[dict[str, Any]]) -> AsyncIterator[None]:
    """The service's next insert waits in the database (its transaction stays open)."""
    await mongo.admin.command({
        "configureFailPoint": "failCommand", "mode": {"times": 1},
        "data": {"failCommands": ["insert"], "appName": APP_NAME, "blockConnection": True,
                 "blockTimeMS": 30_000, "errorCode": 91}})
    try:
        yield
    finally:
        await mongo.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


async def fence_is_held(mongo: AsyncMongoClient[dict[str, Any]], database: str,
                        cohort_id: str) -> bool:
    """True while another transaction has written the cohort's fence and not committed."""
    async with mongo.start_session() as session:
        try:
            async with await session.start_transaction():
                await mongo[database]["cohorts"].update_one(
                    {"_id": cohort_id}, {"$set": {"probe": 1}}, session=session)
                raise LookupError("fence free: roll the probe back")
        except LookupError:
            return False
        except PyMongoError as exc:
            if exc.has_error_label("TransientTransactionError"):
                return True
            raise


def import_body(rows: int) -> str:
    header = "employee_id,role,name,email,department,career_level,languages,time_zone,consent\n"
    return header + "".join(f"e-{i},mentor,Person {i},p{i}@example.com,IT,2,de,Europe/Berlin,yes\n"
                            for i in range(rows))


async def test_writes_to_a_cohort_resume_within_seconds_after_kill_9_mid_transaction(
        infra: Any, unique: str, tmp_path: Path) -> None:
    if infra.tier != "embedded":
        pytest.skip("needs failCommand and the embedded database's transaction lifetime")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri)
    with enrolment_process(infra, unique, tmp_path) as service:
        async with httpx.AsyncClient(timeout=30) as http:
            service.start()
            await eventually(lambda: service.answers(http), within=30, what="the service")
            response = await http.post(f"{service.url}/cohorts", json=cohort_spec(),
                                       headers=ADMIN)
            assert response.status_code == 201, response.text
            cohort_id = response.json()["cohort_id"]
            database = await database_of(mongo, cohort_id)

            async with blocked_inserts(mongo):
                upload = asyncio.create_task(http.post(
                    f"{service.url}/cohorts/{cohort_id}/imports", content=import_body(5),
                    headers={**ADMIN, "content-type": "text/csv"}))
                await eventually(lambda: fence_is_held(mongo, database, cohort_id),
                                 what="the import's transaction to hold the cohort fence")
                service.kill()
                killed_at = time.monotonic()
                with suppress(httpx.HTTPError):
                    await upload

            service.start()
            await eventually(lambda: service.answers(http), within=30, what="the restart")
            restarted_at = time.monotonic()

            async def enrolment_succeeds() -> bool:
                response = await http.post(
                    f"{service.url}/cohorts/{cohort_id}/participants",
                    json=application(email="after.crash@example.com"),
                    headers=headers([PARTICIPANT], "sub-after", participant_id="e-after"))
                assert response.status_code in (201, 503), response.text
                return response.status_code == 201

            await eventually(enrolment_succeeds, within=RECOVERY_GOAL_S,
                             what="a write to the cohort after the restart")
            resumed_at = time.monotonic()
    await mongo.close()
    sys.stderr.write(f"\n[crash recovery] restart took {restarted_at - killed_at:.1f}s; writes "
                     f"resumed {resumed_at - restarted_at:.1f}s after the restart "
                     f"({resumed_at - killed_at:.1f}s after kill -9)\n")


async def database_of(mongo: AsyncMongoClient[dict[str, Any]], cohort_id: str) -> str:
    """The database the service stores the cohort in (its name comes from its settings)."""
    for name in await mongo.list_database_names():
        if name.startswith("enrolment") and await mongo[name]["cohorts"].find_one(
                {"_id": cohort_id}, {"_id": 1}):
            return name
    raise AssertionError(f"cohort {cohort_id} is in no enrolment database")
