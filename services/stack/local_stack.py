"""The whole platform on one machine: infrastructure, a mail sink and every service's process.

`revmentor up` and `revmentor demo` run this; so do the end-to-end test and the pipeline
benchmark. Each service is its own process (`revmentor service NAME`) on its own port, exactly
as a deployment runs it; only the URLs of the broker, the database and the mail server are
handed in through the environment. The stack is ready when every service's `/readyz` answers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx

from services.runtime.settings import ServiceSettings
from services.stack import roster
from services.stack.infra import (
    KAFKA_ENV,
    MONGO_ENV,
    EmbeddedInfra,
    ExternalInfra,
    Infra,
    InfraTier,
)
from services.stack.mail_sink import MailSink
from services.stack.roster import ServiceEntry
from services.stack.servers import LOOPBACK, InfraError, ServerProcess, free_port, port_or_free

STACK_FILE = "stack.json"
"""What a running stack writes into its data directory for the demo and other clients."""


@dataclass(frozen=True)
class StackInfo:
    """Where everything of a running stack answers: what `stack.json` holds."""

    services: dict[str, str]
    smtp: str
    mail_dir: str
    kafka_bootstrap_servers: str
    mongodb_uri: str
    tier: str
    jwt_secret: str
    logs: dict[str, str] = field(default_factory=dict)
    console: str | None = None
    """The web console's URL, when it runs."""
    databases: dict[str, str] = field(default_factory=dict)
    """Each service's MongoDB URI, where it differs from ``mongodb_uri`` (embedded: its own)."""

    def write(self, path: Path) -> None:
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(self.__dict__, indent=2))
        partial.chmod(0o600)  # it holds the signing secret of dev tokens
        os.replace(partial, path)

    @classmethod
    def read(cls, path: Path) -> StackInfo:
        return cls(**json.loads(path.read_text()))


def jwt_secret() -> str:
    """The secret every service verifies dev tokens with: REVMENTOR_JWT_SECRET or the default."""
    return ServiceSettings.for_service("stack").jwt_secret.get_secret_value()


class LocalStack:
    """Start with `with LocalStack(...) as stack:`; leaving the block stops every process.

    ``data_dir`` keeps the database (its storage path), the mail and the logs between runs;
    without it everything lives in a temporary directory removed on stop. The demo keeps its
    mail and logs but not its database (``persist_database=False``). ``kafka`` and
    ``mongodb`` (both or neither) name external infrastructure instead of the embedded one.
    ``fixed_ports`` prefers the roster's ports (a developer's bookmarks keep working) and falls
    back to free ones; tests and the demo's own stack take free ports. ``settings`` are service
    settings (field name to value) given to every service.
    """

    def __init__(self, *, data_dir: Path | None = None, kafka: str | None = None,
                 mongodb: str | None = None, host: str = LOOPBACK, fixed_ports: bool = True,
                 settings: Mapping[str, str] | None = None,
                 services: Sequence[ServiceEntry] = roster.ROSTER,
                 ready_timeout: float = 90.0, stop_grace: float = 20.0,
                 keep_data_dir: bool | None = None,
                 persist_database: bool | None = None, console: bool = True) -> None:
        if bool(kafka) != bool(mongodb):
            raise InfraError("external infrastructure needs both a Kafka and a MongoDB URL")
        self.data_dir, self.kafka, self.mongodb = data_dir, kafka, mongodb
        self.keep = keep_data_dir if keep_data_dir is not None else data_dir is not None
        self.persist_database = self.keep if persist_database is None else persist_database
        self.host, self.fixed_ports = host, fixed_ports
        self.settings = dict(settings or {})
        self.installed = roster.installed(tuple(services))
        self.console = console and roster.CONSOLE.installed()
        self.skipped = tuple(e for e in services if e not in self.installed)
        self.ready_timeout, self.stop_grace = ready_timeout, stop_grace
        self.root: Path | None = None
        self.infra_tier: InfraTier | None = None
        self.mail: MailSink | None = None
        self.processes: dict[str, ServerProcess] = {}
        self.startup_seconds: dict[str, float] = {}
        self._info: StackInfo | None = None

    @property
    def info(self) -> StackInfo:
        if self._info is None:
            raise InfraError("the stack is not running")
        return self._info

    @property
    def stack_file(self) -> Path:
        assert self.root is not None
        return self.root / STACK_FILE

    def start(self) -> StackInfo:
        """Start everything and wait until each service is ready; on any failure, even Ctrl-C,
        stop what already runs."""
        if self._info is None:
            try:
                self._info = self._start()
            except BaseException:
                self.stop()
                raise
        return self._info

    def _start(self) -> StackInfo:
        began = time.monotonic()
        self.root = root = self.data_dir or Path(tempfile.mkdtemp(prefix="revmentor-stack-"))
        (root / "logs").mkdir(parents=True, exist_ok=True)
        if self.kafka and self.mongodb:
            self.infra_tier = ExternalInfra({KAFKA_ENV: self.kafka, MONGO_ENV: self.mongodb})
        else:
            kept = root / "database" if self.persist_database else None
            self.infra_tier = EmbeddedInfra(storage_path=kept, own_databases=[
                e.name for e in self.installed])
        infra = self.infra_tier.start()
        self.startup_seconds["infrastructure"] = time.monotonic() - began
        self.mail = MailSink(root / "mail", host=self.host, port=self._port(roster.MAIL_PORT))
        self.mail.start()
        secret = jwt_secret()
        urls: dict[str, str] = {}
        for entry in self.installed:
            port = self._port(entry.port)
            urls[entry.name] = f"http://{self.host}:{port}"
            process = ServerProcess(
                entry.name,
                [sys.executable, "-m", "services.stack", "service", entry.name,
                 "--host", self.host, "--port", str(port)],
                root / "logs" / f"{entry.name}.log", signal.SIGTERM,
                env=self._environment(entry, infra, secret))
            self.processes[entry.name] = process
            process.spawn()
        self._await_ready(urls, began)
        console_url = self._start_console(root, urls, secret, began) if self.console else None
        info = StackInfo(
            services=urls, smtp=self.mail.address, mail_dir=str(self.mail.directory),
            kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
            mongodb_uri=infra.mongodb_uri, tier=infra.tier, jwt_secret=secret,
            logs={name: str(p.log_path) for name, p in self.processes.items()},
            console=console_url, databases=dict(infra.own_databases))
        info.write(root / STACK_FILE)
        self.startup_seconds["total"] = time.monotonic() - began
        return info

    def _start_console(self, root: Path, urls: Mapping[str, str], secret: str,
                       began: float) -> str:
        """The console after the services, told where they answer and the dev secret."""
        entry = roster.CONSOLE
        port = self._port(entry.port)
        url = f"http://{self.host}:{port}"
        env = {**os.environ, "REVMENTOR_JWT_SECRET": secret,
               f"{entry.env_prefix}DEV_JWT_SECRET": secret,
               **{f"{entry.env_prefix}{name.upper()}_URL": u for name, u in urls.items()}}
        process = ServerProcess(entry.name, [sys.executable, "-m", entry.module, "--host",
                                             self.host, "--port", str(port)],
                                root / "logs" / f"{entry.name}.log", signal.SIGTERM, env=env)
        self.processes[entry.name] = process
        process.spawn()
        self._await_ready({entry.name: url}, began)
        return url

    def _port(self, preferred: int) -> int:
        return port_or_free(preferred, self.host) if self.fixed_ports else free_port(self.host)

    def _environment(self, entry: ServiceEntry, infra: Infra, secret: str) -> dict[str, str]:
        """The process environment: ours, the stack's URLs (also the service's own variables,
        which would otherwise win), the dev secret, and the settings asked for."""
        prefix = entry.env_prefix
        env = {**os.environ, **infra.env(), "REVMENTOR_JWT_SECRET": secret,
               f"{prefix}KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
               f"{prefix}MONGODB_URI": infra.mongodb_uri_of(entry.name)}
        if entry.sends_mail and self.mail is not None:
            env[f"{prefix}SMTP_HOST"] = self.mail.host
            env[f"{prefix}SMTP_PORT"] = str(self.mail.port)
        env.update({prefix + name.upper(): value for name, value in self.settings.items()})
        return env

    def _await_ready(self, urls: Mapping[str, str], began: float) -> None:
        """Poll every `/readyz` until each says 200; a process that dies fails at once."""
        pending = dict(urls)
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(timeout=1.0) as http:
            while pending:
                for name, url in list(pending.items()):
                    process = self.processes[name]
                    if (code := process.exited()) is not None:
                        raise InfraError(f"{name} exited with code {code} before it was ready; "
                                         f"last output:\n{process.tail()}")
                    if _ready(http, url):
                        self.startup_seconds[name] = time.monotonic() - began
                        del pending[name]
                if pending and time.monotonic() > deadline:
                    name = next(iter(pending))
                    raise InfraError(f"{name} not ready at {pending[name]} after "
                                     f"{self.ready_timeout:.0f}s; last output:\n"
                                     f"{self.processes[name].tail()}")
                if pending:
                    time.sleep(0.1)

    def stop(self) -> None:
        """Stop the services (in parallel, each gracefully, killed after the grace), then the
        mail sink and the infrastructure; safe to call twice."""
        self._info = None
        processes, self.processes = list(self.processes.values()), {}
        for process in processes:
            process.ask_to_stop()
        for process in processes:
            process.stop(self.stop_grace)
        if self.mail is not None:
            self.mail.stop()
            self.mail = None
        if self.infra_tier is not None:
            self.infra_tier.stop()
            self.infra_tier = None
        if self.root is not None:
            (self.root / STACK_FILE).unlink(missing_ok=True)  # nothing answers there any more
            if not self.keep:
                shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def pids(self) -> dict[str, int]:
        return {name: pid for name, p in self.processes.items() if (pid := p.pid) is not None}

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _ready(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(f"{url}/readyz").status_code == 200
    except httpx.HTTPError:
        return False

