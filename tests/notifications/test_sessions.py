"""Session invitations: the recipient's language and time zone, and an .ics that calendar
programs accept (one UID per session, SEQUENCE from its revision, REQUEST then CANCEL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import icalendar
import pytest

from contracts.sessions import SessionCancelled, SessionScheduled
from services.notifications.directory import Contact
from tests.notifications.conftest import TENANT, NotificationsHarness

pytestmark = pytest.mark.integration
STARTS = datetime(2030, 3, 12, 15, 0, tzinfo=UTC)


def calendar_of(mail: EmailMessage) -> icalendar.Calendar:
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "invitation.ics"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return icalendar.Calendar.from_ical(payload)


def subject(mail: EmailMessage) -> str:
    """The Subject unfolded: a long one is folded before its first word, which Python's parser
    keeps as a leading space."""
    return str(mail["Subject"]).strip()


def text_of(mail: EmailMessage) -> str:
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/plain"]
    return str(part.get_content())


async def mentorship(harness: NotificationsHarness) -> None:
    """A German cohort; the mentee's profile says English (locale en-US), in New York."""
    await harness.open_cohort(languages=["de", "en"])
    await harness.enrol(harness.person("p-mentor", time_zone="Europe/Berlin"),
                        harness.person("p-mentee", role="mentee", time_zone="America/New_York"))
    await harness.n.directory.record_contacts([Contact(
        TENANT, harness.cohort_id, "p-mentee", "Person p-mentee", "p-mentee@example.com",
        locale="en-US")], None)


def scheduled(harness: NotificationsHarness, starts_at: datetime = STARTS) -> SessionScheduled:
    return harness.fact(SessionScheduled, session_id="sess-1", pair_id="pair-1",
                        mentor_id="p-mentor", mentee_id="p-mentee",
                        starts_at=starts_at.isoformat(), duration_minutes=60, revision=0)


async def invitations(harness: NotificationsHarness, count: int) -> tuple[EmailMessage, ...]:
    """The ``count``-th message of mentor and mentee (the first is the welcome)."""
    await harness.mails_to("p-mentor@example.com", "p-mentee@example.com", count=count)
    return (harness.sink.to("p-mentor@example.com")[count - 1],
            harness.sink.to("p-mentee@example.com")[count - 1])


async def test_each_side_reads_the_invitation_in_their_language_and_local_time(
        harness: NotificationsHarness) -> None:
    await mentorship(harness)
    await harness.announce(scheduled(harness))
    mentor, mentee = await invitations(harness, 2)
    assert mentor["Content-Language"] == "de"
    assert subject(mentor) == ("Treffen geplant: Dienstag, 12. März 2030, 16:00 "
                                 "(Mitteleuropäische Normalzeit)")
    assert "60 Minuten, per Video" in text_of(mentor)
    assert mentee["Content-Language"] == "en"
    assert subject(mentee) == ("Session planned: Tuesday, March 12, 2030, 11:00 AM "
                                 "(Eastern Daylight Time)")
    assert "60 minutes, by video" in text_of(mentee)


async def test_the_invitation_is_an_ics_request_with_times_zone_people_and_uid(
        harness: NotificationsHarness) -> None:
    await mentorship(harness)
    await harness.announce(scheduled(harness))
    mentor, mentee = await invitations(harness, 2)
    cal = calendar_of(mentor)
    assert cal["METHOD"] == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == "sess-1@mentoring.example.com"
    assert event["SEQUENCE"] == 0
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert (start, end) == (STARTS, STARTS + timedelta(minutes=60))
    assert str(start.tzinfo) == "Europe/Berlin"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert str(event["ORGANIZER"]) == "mailto:noreply@mentoring.example.com"
    assert sorted(str(a) for a in event.get("ATTENDEE", [])) == ["mailto:p-mentee@example.com",
                                                          "mailto:p-mentor@example.com"]
    [mentee_event] = calendar_of(mentee).walk("VEVENT")
    assert str(mentee_event.decoded("DTSTART").tzinfo) == "America/New_York"
    assert str(mentee_event["UID"]) == "sess-1@mentoring.example.com"


async def test_a_reschedule_updates_the_same_entry_and_a_cancellation_removes_it(
        harness: NotificationsHarness) -> None:
    await mentorship(harness)
    await harness.announce(scheduled(harness))
    await invitations(harness, 2)
    await harness.announce(scheduled(harness, STARTS + timedelta(days=1)))
    moved, _ = await invitations(harness, 3)
    assert subject(moved).startswith("Treffen verschoben auf Mittwoch, 13. März 2030, 16:00")
    assert "geplant für Dienstag, 12. März 2030, 16:00" in text_of(moved)
    [event] = calendar_of(moved).walk("VEVENT")
    assert (str(event["UID"]), event["SEQUENCE"]) == ("sess-1@mentoring.example.com", 1)
    assert event.decoded("DTSTART") == STARTS + timedelta(days=1)
    await harness.announce(harness.fact(SessionCancelled, session_id="sess-1",
                                        pair_id="pair-1"))
    cancelled, _ = await invitations(harness, 4)
    cal = calendar_of(cancelled)
    [event] = cal.walk("VEVENT")
    assert (cal["METHOD"], str(event["STATUS"])) == ("CANCEL", "CANCELLED")
    assert (str(event["UID"]), event["SEQUENCE"]) == ("sess-1@mentoring.example.com", 2)
