"""A mail sink: an aiosmtpd SMTP server that keeps every message it accepts.

The embedded stack and the tests send real SMTP over the network to it. Each message is kept
in memory and, given a directory, also written there as ``<n>-<message id>.eml``. A recipient
can be made to refuse with a chosen SMTP reply (``refuse``), to test permanent (5xx) and
transient (4xx) failures.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        key = address.lower()
        if key in self.sink.refusals:
            reply, left = self.sink.refusals[key]
            if left is not None:
                if left <= 1:
                    del self.sink.refusals[key]
                else:
                    self.sink.refusals[key] = (reply, left - 1)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.sink.keep(message, envelope.content)
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, directory: Path | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.directory = directory
        self.messages: list[EmailMessage] = []
        self.refusals: dict[str, tuple[str, int | None]] = {}
        self._lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname=host, port=port or _free_port(host))

    @property
    def host(self) -> str:
        return str(self.controller.hostname)

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def refuse(self, address: str, reply: str, times: int | None = None) -> None:
        """Answer RCPT TO ``address`` with ``reply`` (e.g. ``550 no such user``), the next
        ``times`` tries or always."""
        self.refusals[address.lower()] = (reply, times)

    def keep(self, message: EmailMessage, raw: bytes) -> None:
        with self._lock:
            self.messages.append(message)
            number = len(self.messages)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = SAFE.sub("_", str(message.get("Message-ID", "message")).strip("<>"))[:120]
            (self.directory / f"{number:06d}-{name}.eml").write_bytes(raw)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in list(self.messages) if address in str(m.get("To", ""))]


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
