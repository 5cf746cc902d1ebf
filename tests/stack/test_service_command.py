"""`revmentor service NAME`: one service in the foreground, as a container runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from services.stack import roster
from services.stack.cli import app
from services.stack.roster import ServiceEntry
from tests.harness import free_port, port_in_use

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_a_service_stops_gracefully_on_sigterm_and_exits_0(infra: Any, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
           "MONGODB_URI": infra.mongodb_uri, "REVMENTOR_MATCHING_LOG_LEVEL": "INFO"}
    log = tmp_path / "matching.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.stack", "service", "matching",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _ready(f"http://127.0.0.1:{port}"):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "matching not ready within 60 s"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert '"service_stopped"' in log.read_text()  # consumers stopped, outbox flushed
    assert not port_in_use(port)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_an_unknown_service_is_refused_with_the_known_names() -> None:
    result = CliRunner().invoke(app, ["service", "billing"])
    assert result.exit_code == 2
    assert "enrolment, matching, sessions, notifications" in " ".join(result.output.split())


def test_a_service_missing_from_the_checkout_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    ghost = ServiceEntry("ghost", "services.ghost", 8099)
    monkeypatch.setattr(roster, "ROSTER", (*roster.ROSTER, ghost))
    result = CliRunner().invoke(app, ["service", "ghost"])
    assert result.exit_code == 2
    assert "not installed" in result.output


def test_the_roster_lists_each_service_once_with_its_own_port() -> None:
    names = [e.name for e in roster.ROSTER]
    ports = [e.port for e in roster.ROSTER]
    assert names == ["enrolment", "matching", "sessions", "notifications"]
    assert len(set(ports)) == len(ports) and roster.MAIL_PORT not in ports
    assert roster.entry("matching").installed()
    assert not ServiceEntry("ghost", "services.ghost", 8099).installed()
