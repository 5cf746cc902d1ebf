"""Local server processes and the probes that tell when they answer.

The embedded tier runs the broker and the database as subprocesses; this module owns their life
cycle (own process group, log file, polite stop then SIGKILL) and the readiness checks.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

LOOPBACK = "127.0.0.1"


class InfraError(RuntimeError):
    """A tier could not be started; the message carries what the server said last."""


class ServerProcess:
    """A server subprocess in its own process group, logging to a file.

    Its own group keeps a terminal's Ctrl-C away from it, so the owner decides the shutdown
    order, and a stop reaches anything the server spawned.
    """

    def __init__(self, name: str, argv: list[str], log_path: Path, stop_signal: int,
                 wake_port: int | None = None, env: Mapping[str, str] | None = None) -> None:
        self.name, self.argv, self.log_path, self.stop_signal = name, argv, log_path, stop_signal
        self.wake_port = wake_port
        self.env = dict(env) if env is not None else None
        self.popen: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True,
                                          env=self.env)

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def exited(self) -> int | None:
        """The exit code once the process ended, else None (also when never spawned)."""
        return self.popen.poll() if self.popen is not None else None

    def ask_to_stop(self) -> None:
        """Send the polite signal without waiting, so that several servers stop in parallel."""
        if self.popen is not None:
            self._signal(self.popen, self.stop_signal)

    def wait_ready(self, answers: Callable[[], bool], timeout: float) -> float:
        """Poll `answers` until true and return the seconds since spawn; fail early if it dies."""
        assert self.popen is not None
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.popen.poll() is not None:
                raise InfraError(f"{self.name} exited with code {self.popen.returncode} "
                                 f"before it was ready; last output:\n{self.tail()}")
            if answers():
                return time.monotonic() - started
            time.sleep(0.02)
        raise InfraError(f"{self.name} not ready after {timeout:.0f}s; last output:\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log file)"

    def stop(self, grace: float) -> None:
        """Polite signal, up to `grace` seconds, then SIGKILL to the whole group; always reaps.

        secantusd needs two nudges. Its accept() thread notices shutdown only on a new connection,
        so we poke the port. CPython runs signal handlers on the main thread only, so a signal that
        a connection thread born at that instant dequeues is lost: still listening 1 s after the
        signal means it was, and we send it again (pokes wait 0.1 s after a signal to not race).
        """
        popen, self.popen = self.popen, None
        if popen is None:
            return
        deadline = time.monotonic() + grace
        signalled = time.monotonic()
        self._signal(popen, self.stop_signal)
        while popen.poll() is None and time.monotonic() < deadline:
            since = time.monotonic() - signalled
            if self.wake_port and since > 0.1 and poke(self.wake_port) and since > 1.0:
                signalled = time.monotonic()
                self._signal(popen, self.stop_signal)
            with suppress(subprocess.TimeoutExpired):
                popen.wait(0.05)
        if popen.poll() is None:
            self._signal(popen, signal.SIGKILL)
            popen.wait()

    @staticmethod
    def _signal(popen: subprocess.Popen[bytes], signum: int) -> None:
        if popen.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(popen.pid, signum)


def poke(port: int) -> bool:
    """Connect and hang up; True while something still listens on `port`."""
    try:
        with socket.create_connection((LOOPBACK, port), 0.1):
            return True
    except OSError:
        return False


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_or_free(preferred: int, host: str = LOOPBACK) -> int:
    """``preferred`` when nothing listens there (the roster's ports), else a free one."""
    with socket.socket() as sock:
        try:
            sock.bind((host, preferred))
        except OSError:
            return free_port(host)
    return preferred


def kafka_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when the broker answers a Metadata v0 request listing at least one broker.

    Raw protocol rather than aiokafka, so it also works inside a running event loop.
    """
    client_id = b"revmentor-infra"
    request = struct.pack(">hhih", 3, 0, 7, len(client_id)) + client_id + struct.pack(">i", 0)
    try:
        with socket.create_connection((host, port), timeout) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            reply = sock.makefile("rb")
            (size,) = struct.unpack(">i", reply.read(4))
            correlation_id, brokers = struct.unpack_from(">ii", reply.read(size))
    except (OSError, struct.error):
        return False
    return bool(correlation_id == 7 and brokers >= 1)


def mongo_answers(uri: str, timeout_ms: int = 300) -> bool:
    """True when the server answers `hello` as a writable primary (transactions need one)."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        return bool(client.admin.command("hello").get("isWritablePrimary"))
    except PyMongoError:
        return False
    finally:
        client.close()
