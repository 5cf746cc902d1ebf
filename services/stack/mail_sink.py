"""The stack's mail server: it accepts every message over SMTP and keeps it as an .eml file.

Nothing leaves the machine, yet the notifications service talks real SMTP to it, and the demo and
the end-to-end test read what was "sent" (who got what, and whether anyone got it twice) from
the files: one per accepted message, named by arrival so that a listing is in order.
"""

from __future__ import annotations

import email
import email.policy
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.stack.servers import LOOPBACK, free_port

SUFFIX = ".eml"


class MailDrop:
    """aiosmtpd handler: each message becomes one file, written whole before it is visible.

    The envelope (sender, recipients) goes in front as ``X-Envelope-From``/``X-Envelope-To``
    headers, as a mail delivery agent records ``Return-Path``: the recipients of a message need
    not be its ``To`` header.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        sender = envelope.mail_from or ""
        trace = (f"X-Envelope-From: <{sender}>\r\n"
                 f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(trace + content)
        os.replace(partial, self.directory / f"{name}{SUFFIX}")
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on a loopback port (a thread of this process) that keeps what it gets."""

    def __init__(self, directory: Path, *, host: str = LOOPBACK, port: int = 0) -> None:
        self.directory, self.host, self.port = directory, host, port
        self._controller: Controller | None = None

    def start(self) -> str:
        """Listen and return ``host:port``; on a taken port the error names it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        controller = Controller(MailDrop(self.directory), hostname=self.host, port=self.port,
                                enable_SMTPUTF8=True, ready_timeout=10)
        controller.start()
        self._controller = controller
        return self.address

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> MailSink:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass(frozen=True)
class StoredMail:
    """One kept message, as a reader of the mailbox needs it."""

    path: Path
    envelope_to: tuple[str, ...]
    message_id: str | None
    subject: str
    sender: str
    message: EmailMessage

    def text(self) -> str:
        """Every text part, decoded: what a recipient could read."""
        parts = []
        for part in self.message.walk():
            if part.get_content_maintype() == "text":
                parts.append(str(part.get_content()))
        return "\n".join(parts)

    def header(self, name: str) -> str | None:
        value = self.message.get(name)
        return None if value is None else str(value)


class Mailbox:
    """What the mail sink kept in ``directory``, oldest first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def paths(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if p.name.endswith(SUFFIX))

    def count(self) -> int:
        return len(self.paths())

    def __iter__(self) -> Iterator[StoredMail]:
        for path in self.paths():
            yield read_mail(path)

    def duplicates(self) -> dict[str, int]:
        """Message-IDs kept more than once, with how often: a notification sent twice."""
        seen = Counter(m.message_id for m in self if m.message_id)
        return {mid: n for mid, n in seen.items() if n > 1}


def read_mail(path: Path) -> StoredMail:
    message: Any = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    to = tuple(a.strip() for a in str(message.get("X-Envelope-To", "")).split(",") if a.strip())
    return StoredMail(path=path, envelope_to=to, message_id=_str(message.get("Message-ID")),
                      subject=str(message.get("Subject", "")),
                      sender=str(message.get("From", "")), message=message)


def _str(value: Any) -> str | None:
    return None if value is None else str(value).strip()
