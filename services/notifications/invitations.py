"""iCalendar invitations for sessions (RFC 5545, with RFC 5546's REQUEST and CANCEL methods).

One UID per session, whatever happens to it, so calendar programs update the one entry they
hold: an invitation is METHOD:REQUEST with the session's revision as SEQUENCE, a cancellation
METHOD:CANCEL with a higher SEQUENCE. Times carry the recipient's time zone (with its VTIMEZONE),
so the entry shows the hour the e-mail names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//revmentor//notifications//EN"


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str | None


@dataclass(frozen=True)
class Invitation:
    """What a calendar entry of one session says to one recipient."""

    session_id: str
    revision: int
    starts_at: datetime
    duration_minutes: int
    summary: str
    description: str
    url: str
    organiser: str
    """An RFC 5322 address, e.g. ``revmentor <noreply@example.com>``."""
    attendees: tuple[Attendee, ...]
    time_zone: ZoneInfo
    cancelled: bool = False


def uid_of(session_id: str, domain: str) -> str:
    return f"{session_id}@{domain}"


def calendar_of(invitation: Invitation, *, domain: str, now: datetime) -> bytes:
    """The .ics file: one VEVENT and the VTIMEZONE it refers to."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if invitation.cancelled else "REQUEST")
    event = icalendar.Event()
    event.add("uid", uid_of(invitation.session_id, domain))
    event.add("sequence", invitation.revision)
    event.add("dtstamp", now)
    start = invitation.starts_at.astimezone(invitation.time_zone)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=invitation.duration_minutes))
    event.add("summary", invitation.summary)
    event.add("description", invitation.description)
    event.add("url", invitation.url)
    event.add("status", "CANCELLED" if invitation.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    name, address = parseaddr(invitation.organiser)
    organiser = icalendar.vCalAddress(f"mailto:{address}")
    if name:
        organiser.params["CN"] = name
    event.add("organizer", organiser)
    for person in invitation.attendees:
        attendee = icalendar.vCalAddress(f"mailto:{person.email}")
        if person.name:
            attendee.params["CN"] = person.name
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        attendee.params["RSVP"] = "TRUE"
        event.add("attendee", attendee)
    cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
