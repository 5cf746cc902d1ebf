"""Infrastructure tiers and `revmentor infra`: real servers up, real clients in, nothing left."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pymongo import MongoClient
from pymongo.errors import ServerSelectionTimeoutError

from services.stack import infra as infra_module
from services.stack.infra import EmbeddedInfra, InfraError, open_infra, select_tier
from tests.harness import alive, descendants

REPO = Path(__file__).resolve().parents[2]


def _read_lines(stream: Any, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))


def _mongo(uri: str, **options: Any) -> MongoClient[dict[str, Any]]:
    return MongoClient(uri, **options)


async def _produce_one(bootstrap_servers: str) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        sent = await producer.send_and_wait("revmentor.infra-smoke", b"hello", key=b"k")
    finally:
        await producer.stop()
    return sent.offset


@pytest.mark.integration
def test_infra_command_serves_both_urls_and_stops_cleanly_on_sigterm() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REVMENTOR_TEST_BACKEND"}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.stack", "infra"], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
        urls: dict[str, str] = {}
        while len(urls) < 2:
            remaining = 10 - (time.monotonic() - started)
            assert remaining > 0, f"no URLs within 10 s; got {urls}"
            name, _, value = lines.get(timeout=remaining).partition("=")
            urls[name] = value
        assert urls["KAFKA_BOOTSTRAP_SERVERS"].startswith("127.0.0.1:")
        assert urls["MONGODB_URI"].startswith("mongodb://127.0.0.1:")
        children = descendants(proc.pid)
        assert len(children) >= 2, children  # tansu and secantusd

        assert asyncio.run(_produce_one(urls["KAFKA_BOOTSTRAP_SERVERS"])) == 0
        with _mongo(urls["MONGODB_URI"], serverSelectionTimeoutMS=3000) as client:
            assert client.admin.command("hello")["isWritablePrimary"] is True

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not [pid for pid in children if alive(pid)], "a server outlived `revmentor infra`"


@pytest.mark.integration
def test_database_restart_keeps_data_on_the_same_port() -> None:
    before = descendants(os.getpid())
    with EmbeddedInfra() as embedded:
        uri = embedded.infra.mongodb_uri
        workdir = embedded.workdir
        assert embedded.startup_seconds["tansu"] < 10
        assert embedded.startup_seconds["secantusd"] < 10
        with _mongo(uri) as client:
            client.revmentor_infra_test.things.insert_one({"_id": "kept"})

        embedded.stop_database()
        down_at = time.monotonic()
        with _mongo(uri, serverSelectionTimeoutMS=500) as client, pytest.raises(
            ServerSelectionTimeoutError
        ):
            client.admin.command("ping")
        assert time.monotonic() - down_at < 3

        embedded.start_database()
        with _mongo(uri) as client:
            assert client.revmentor_infra_test.things.find_one({"_id": "kept"}) == {"_id": "kept"}
    assert workdir is not None and not workdir.exists()
    assert descendants(os.getpid()) <= before


@pytest.mark.integration
def test_a_server_that_cannot_start_fails_fast_with_its_output() -> None:
    before = descendants(os.getpid())
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        embedded = EmbeddedInfra(mongo_port=taken, startup_timeout=15)
        started = time.monotonic()
        with pytest.raises(InfraError, match="secantusd exited") as failure:
            embedded.start()
    assert time.monotonic() - started < 10
    assert "last output" in str(failure.value)
    assert embedded.workdir is None  # the broker that did start was stopped and cleaned up
    assert descendants(os.getpid()) <= before


@pytest.mark.integration
def test_each_own_database_answers_apart_even_when_its_first_port_was_taken(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A port chosen free can be taken before the server binds it (by any process's outgoing
    connection); that server starts again on another port instead of failing the stack."""
    before = descendants(os.getpid())
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        choose = infra_module.free_port
        monkeypatch.setattr(infra_module, "free_port",
                            lambda *a: next(ports, None) or choose(*a))
        with EmbeddedInfra(kafka_port=choose(), mongo_port=choose(),
                           own_databases=["matching", "sessions"]) as embedded:
            uris = embedded.infra.own_databases
            assert sorted(uris) == ["matching", "sessions"]
            assert f":{taken}/" not in uris["matching"]
            for name, uri in uris.items():
                with _mongo(uri) as client:
                    client[name].things.insert_one({"_id": name})
            with _mongo(embedded.infra.mongodb_uri) as shared:
                assert shared.list_database_names() == ["local"]  # nothing written there
            assert embedded.infra.mongodb_uri_of("sessions") == uris["sessions"]
            assert embedded.infra.mongodb_uri_of("enrolment") == embedded.infra.mongodb_uri
    assert descendants(os.getpid()) <= before


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("REVMENTOR_TEST_BACKEND", "KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(infra_module, "docker_available", lambda *a, **k: True)
    return monkeypatch


def test_forced_backend_wins_over_everything(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    clean_env.setenv("MONGODB_URI", "mongodb://mongo/?replicaSet=rs0")
    clean_env.setenv("REVMENTOR_TEST_BACKEND", "Embedded")
    assert select_tier(None) == "embedded"
    assert select_tier("containers") == "embedded"


def test_detection_order_external_then_containers_then_embedded(
    clean_env: pytest.MonkeyPatch,
) -> None:
    assert select_tier(None) == "containers"
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    assert select_tier("auto") == "containers"  # one URL alone is not an external tier
    clean_env.setenv("MONGODB_URI", "mongodb://mongo/?replicaSet=rs0")
    assert select_tier(None) == "external"
    clean_env.delenv("MONGODB_URI")
    clean_env.setattr(infra_module, "docker_available", lambda *a, **k: False)
    assert select_tier(None) == "embedded"


def test_requested_tier_applies_when_nothing_is_forced(clean_env: pytest.MonkeyPatch) -> None:
    assert select_tier("embedded") == "embedded"
    with pytest.raises(ValueError, match="unknown infrastructure tier"):
        select_tier("kubernetes")
    clean_env.setenv("REVMENTOR_TEST_BACKEND", "docker")
    with pytest.raises(ValueError, match="unknown infrastructure tier"):
        select_tier(None)


def test_external_tier_takes_the_urls_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(InfraError, match="MONGODB_URI"):
        open_infra("external").start()
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    clean_env.setenv("MONGODB_URI", "mongodb://mongo/?replicaSet=rs0")
    with open_infra("external") as external:
        assert external.infra.env() == {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "MONGODB_URI": "mongodb://mongo/?replicaSet=rs0"}
        assert external.infra.tier == "external"


def test_docker_available_says_no_quickly_without_an_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    started = time.monotonic()
    assert infra_module.docker_available(timeout=1) is False
    assert time.monotonic() - started < 3
