"""`revmentor up`: the whole platform on one machine, and nothing left behind when it stops."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from services.stack import roster
from services.stack.demo.units import UNITS, admin_token
from services.stack.infra import ExternalInfra
from services.stack.local_stack import STACK_FILE, LocalStack, StackInfo
from services.stack.mail_sink import Mailbox
from services.stack.roster import ServiceEntry
from tests.harness import alive, descendants, port_in_use

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
WITHOUT_INFRA = ("REVMENTOR_TEST_BACKEND", "KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")


@contextmanager
def revmentor_up(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], StackInfo]]:
    """`revmentor up` as its own process; yields once stack.json says every service is ready."""
    env = {k: v for k, v in os.environ.items() if k not in WITHOUT_INFRA}
    stack_file = data_dir / STACK_FILE
    with (data_dir.parent / f"{data_dir.name}.out").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.stack", "up", "--free-ports",
             "--data-dir", str(data_dir)], cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 90
        while not stack_file.exists():
            assert proc.poll() is None, f"revmentor up exited with {proc.returncode}"
            assert time.monotonic() < deadline, "revmentor up not ready within 90 s"
            time.sleep(0.2)
        yield proc, StackInfo.read(stack_file)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def ports_of(info: StackInfo) -> list[int]:
    urls = [*info.services.values(), f"tcp://{info.smtp}",
            f"tcp://{info.kafka_bootstrap_servers}", info.mongodb_uri, *info.databases.values()]
    return [int(port) for url in urls if (port := urlsplit(url).port)]


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=45)


def test_up_serves_every_installed_service_and_sigterm_leaves_no_process_or_port(
    tmp_path: Path,
) -> None:
    with revmentor_up(tmp_path / "stack") as (proc, info):
        children = descendants(proc.pid)
        ports = ports_of(info)
        assert sorted(info.services) == sorted(e.name for e in roster.installed())
        assert {"enrolment", "matching"} <= set(info.services)
        assert sorted(info.databases) == sorted(info.services)  # each its own database server
        assert len(set(info.databases.values())) == len(info.services)
        for url in info.services.values():
            assert httpx.get(f"{url}/readyz").status_code == 200
            assert httpx.get(f"{url}/docs").status_code == 200
            assert "revmentor_dead_letters" in httpx.get(f"{url}/metrics").text
        admin = {"Authorization": f"Bearer {admin_token(info.jwt_secret, UNITS[0].business_unit)}"}
        listed = httpx.get(f"{info.services['enrolment']}/cohorts", headers=admin)
        assert listed.status_code == 200, listed.text  # the printed tokens are accepted
        assert info.console is not None
        ports.append(urlsplit(info.console).port or 0)
        assert "Sign in" in httpx.get(f"{info.console}/signin").text

        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = ("a@example.com", "b@example.com",
                                                               "kept")
        message["Message-ID"] = "<m-1@revmentor.test>"
        message.set_content("hello")
        host, _, port = info.smtp.partition(":")
        with smtplib.SMTP(host, int(port), timeout=5) as smtp:
            smtp.send_message(message)
        kept = list(Mailbox(Path(info.mail_dir)))
        assert [(m.envelope_to, m.subject, m.message_id) for m in kept] == [
            (("b@example.com",), "kept", "<m-1@revmentor.test>")]

        assert stop(proc) == 0
    assert f"console: {info.console}" in (tmp_path / "stack.out").read_text()  # its URL printed
    assert [pid for pid in children if alive(pid)] == []
    assert [port for port in ports if port_in_use(port)] == []
    assert not (tmp_path / "stack" / STACK_FILE).exists()


def test_a_data_directory_keeps_the_database_between_runs(tmp_path: Path) -> None:
    unit = UNITS[1].business_unit
    with revmentor_up(tmp_path / "kept") as (proc, info):
        admin = {"Authorization": f"Bearer {admin_token(info.jwt_secret, unit)}"}
        opened = httpx.post(f"{info.services['enrolment']}/cohorts", headers=admin, json={
            "name": "Kept between runs", "languages": ["en"],
            "closes_at": "2199-01-01T00:00:00+00:00"})
        assert opened.status_code == 201, opened.text
        assert stop(proc) == 0
    with revmentor_up(tmp_path / "kept") as (proc, info):
        listed = httpx.get(f"{info.services['enrolment']}/cohorts", headers=admin).json()
        assert [c["cohort_id"] for c in listed["items"]] == [opened.json()["cohort_id"]]
        assert stop(proc) == 0


def test_external_infrastructure_is_used_as_given_and_missing_services_are_skipped(
    infra: Any, tmp_path: Path,
) -> None:
    ghost = ServiceEntry("ghost", "services.ghost", 8099)
    stack = LocalStack(data_dir=tmp_path, kafka=infra.kafka_bootstrap_servers,
                       mongodb=infra.mongodb_uri, fixed_ports=False,
                       services=(roster.entry("enrolment"), ghost))
    with stack:
        assert stack.skipped == (ghost,)
        assert list(stack.info.services) == ["enrolment"]
        assert stack.info.tier == "external"
        assert stack.info.kafka_bootstrap_servers == infra.kafka_bootstrap_servers
        url = stack.info.services["enrolment"]
        assert httpx.get(f"{url}/readyz").status_code == 200
        assert isinstance(stack.infra_tier, ExternalInfra)  # no broker or database of its own
    assert not port_in_use(urlsplit(url).port or 0)

