"""E-mail over real SMTP: one message per fact, in the recipient's language and time zone."""

from __future__ import annotations

import pytest

from contracts import encode
from tests.notifications.conftest import NotificationsHarness

pytestmark = pytest.mark.integration


async def test_a_redelivered_enrolment_sends_one_welcome(harness: NotificationsHarness) -> None:
    await harness.open_cohort()
    lea = harness.person("p-lea")
    record = encode(lea, source="/revmentor/enrolment")
    await harness.announce(record, record)  # the broker delivers it twice
    await harness.enrol(harness.person("p-marker"))  # same partition: after both copies
    await harness.mails_to("p-lea@example.com")
    welcome = harness.sink.to("p-lea@example.com")
    assert len(welcome) == 1
    assert welcome[0]["Subject"] == "Welcome to AI at work: your enrolment is confirmed"


async def test_the_welcome_has_text_and_html_parts_and_a_stable_message_id(
        harness: NotificationsHarness) -> None:
    await harness.open_cohort()
    lea = harness.person("p-lea")
    await harness.enrol(lea)
    [mail] = harness.sink.to("p-lea@example.com")
    parts = {p.get_content_type(): p.get_content() for p in mail.walk() if not p.is_multipart()}
    assert sorted(parts) == ["text/html", "text/plain"]
    assert "Hello Person p-lea," in parts["text/plain"]
    assert "<strong>AI at work</strong>" in parts["text/html"]
    # the mail reaches the sink a moment before the dispatcher records the outcome
    [delivery] = await harness.settled(lambda d: d["template"] == "welcome" and
                                       d["recipient_id"] == "p-lea" and
                                       d["status"] not in ("pending", "sending"))
    assert mail["Message-ID"] == f"<{delivery['_id']}@mentoring.example.com>"
    assert mail["From"] == "revmentor <noreply@mentoring.example.com>"
    assert delivery["status"] == "delivered"
