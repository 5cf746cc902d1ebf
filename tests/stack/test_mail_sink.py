"""The mail sink keeps every message it accepts, whole, and shows a notification sent twice."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage
from pathlib import Path

from typer.testing import CliRunner

from services.stack.cli import app
from services.stack.mail_sink import Mailbox, MailSink


def send(address: str, *, to: str, subject: str, message_id: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "revmentor@example.com", to, subject
    message["Message-ID"] = message_id
    message.set_content(body)
    host, _, port = address.partition(":")
    with smtplib.SMTP(host, int(port), timeout=5) as smtp:
        smtp.send_message(message)


def test_each_accepted_message_is_kept_in_arrival_order_with_its_envelope(tmp_path: Path) -> None:
    with MailSink(tmp_path / "mail") as sink:
        send(sink.address, to="jürgen.weiß@example.de", subject="Ihr Tandem: Lea Schäfer",
             message_id="<n-1@revmentor>", body="Hallo Jürgen, schön dass du dabei bist.")
        send(sink.address, to="amy@example.co.uk", subject="Your pair",
             message_id="<n-2@revmentor>", body="Hello Amy")
    kept = list(Mailbox(tmp_path / "mail"))
    assert [(m.envelope_to, m.subject, m.message_id) for m in kept] == [
        (("jürgen.weiß@example.de",), "Ihr Tandem: Lea Schäfer", "<n-1@revmentor>"),
        (("amy@example.co.uk",), "Your pair", "<n-2@revmentor>")]
    assert "schön dass du dabei bist" in kept[0].text()
    assert Mailbox(tmp_path / "mail").duplicates() == {}


def test_a_message_id_kept_twice_is_a_duplicate_delivery(tmp_path: Path) -> None:
    with MailSink(tmp_path) as sink:
        for _ in range(2):
            send(sink.address, to="amy@example.co.uk", subject="Your pair",
                 message_id="<n-2@revmentor>", body="Hello Amy")
        send(sink.address, to="amy@example.co.uk", subject="Reminder",
             message_id="<n-3@revmentor>", body="Hello Amy")
    assert Mailbox(tmp_path).duplicates() == {"<n-2@revmentor>": 2}
    assert Mailbox(tmp_path).count() == 3


def test_mail_command_lists_what_was_kept(tmp_path: Path) -> None:
    with MailSink(tmp_path / "mail") as sink:
        send(sink.address, to="amy@example.co.uk", subject="Your pair",
             message_id="<n-2@revmentor>", body="Hello Amy")
    result = CliRunner().invoke(app, ["mail", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    listed = [json.loads(line) for line in result.output.splitlines()]
    assert [(m["to"], m["subject"], m["message_id"]) for m in listed] == [
        (["amy@example.co.uk"], "Your pair", "<n-2@revmentor>")]
