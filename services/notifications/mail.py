"""E-mail over SMTP with aiosmtplib: MIME building and a pooled transport.

Every message of a delivery carries the same ``Message-ID`` (derived from the delivery id), so
the one unavoidable duplicate (the server accepted, the dispatcher died before recording it)
can be recognised and dropped by the receiving side. A dispatch pass sends over a few
connections that it opens once; an SMTP 5xx is a permanent refusal, anything else (4xx,
connection and timeout errors) a transient one tried again later.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import aiosmtplib

from services.notifications.domain import Outcome
from services.notifications.settings import NotificationsSettings


@dataclass(frozen=True)
class Mail:
    message_id: str
    to: str
    to_name: str | None
    subject: str
    text: str
    html: str
    language: str
    calendar: bytes | None = None
    calendar_method: str = "REQUEST"


def mime_of(mail: Mail, sender: str, domain: str, sent_at: datetime) -> EmailMessage:
    """multipart/mixed: the alternative text and HTML parts, then the invitation if any."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((mail.to_name or "", mail.to)) if mail.to_name else mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{mail.message_id}@{domain}>"
    message["Date"] = format_datetime(sent_at)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    if mail.calendar is not None:
        message.add_attachment(mail.calendar, maintype="text", subtype="calendar",
                               filename="invitation.ics",
                               params={"method": mail.calendar_method})
    message["Content-Language"] = mail.language  # last: building the parts moves Content-*
    return message


def valid_address(address: str) -> bool:
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return "@" in address


class MailTransport:
    """Sends a pass's messages over ``smtp_connections`` connections opened for that pass."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host, port=s.smtp_port, timeout=s.smtp_timeout_s,
            use_tls=s.smtp_security == "tls", start_tls=s.smtp_security == "starttls",
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
        )

    async def send_all(self, messages: list[tuple[str, EmailMessage]]) -> dict[str, Outcome]:
        """Send ``(delivery id, message)`` pairs; the outcome of each by delivery id."""
        outcomes: dict[str, Outcome] = {}
        lanes = min(self.settings.smtp_connections, len(messages))
        queue: asyncio.Queue[tuple[str, EmailMessage]] = asyncio.Queue()
        for item in messages:
            queue.put_nowait(item)
        await asyncio.gather(*(self._lane(queue, outcomes) for _ in range(lanes)))
        return outcomes

    async def _lane(self, queue: asyncio.Queue[tuple[str, EmailMessage]],
                    outcomes: dict[str, Outcome]) -> None:
        client = self._client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = _describe(exc)
            while not queue.empty():
                outcomes[queue.get_nowait()[0]] = Outcome.transient(error)
            return
        try:
            while not queue.empty():
                delivery_id, message = queue.get_nowait()
                outcomes[delivery_id] = await self._send(client, message)
                if not client.is_connected:
                    await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = _describe(exc)
            while not queue.empty():
                outcomes[queue.get_nowait()[0]] = Outcome.transient(error)
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()

    async def _send(self, client: aiosmtplib.SMTP, message: EmailMessage) -> Outcome:
        try:
            errors, _ = await client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            error = f"SMTP {codes[0] if codes else '?'}: recipient refused"
            return Outcome.refused(error) if codes and min(codes) >= 500 else Outcome.transient(
                error)
        except aiosmtplib.SMTPResponseException as exc:
            error = f"SMTP {exc.code}"
            return Outcome.refused(error) if exc.code >= 500 else Outcome.transient(error)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Outcome.transient(_describe(exc))
        if errors:
            return Outcome.refused(f"SMTP {next(iter(errors.values()))[0]}: recipient refused")
        return Outcome.sent()


def _describe(exc: BaseException) -> str:
    """The kind of failure without its message: server replies may echo the address."""
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"
