"""Turns an e-mail delivery and its recipient into a finished message, at send time.

Nothing personal is stored with a delivery; the address, the names and the language are read
from the directory just before sending, so a message is always written to the person as they
are now, and nobody's address outlives their directory entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notifications.directory import Recipient
from services.notifications.domain import CALENDAR, Cohort, Delivery, Template
from services.notifications.invitations import Attendee, Invitation, calendar_of
from services.notifications.mail import Mail
from services.notifications.messages import Renderer, language_for, zone_of

SUMMARY = {"en": "Reverse mentoring session", "de": "Reverse-Mentoring-Treffen"}


@dataclass(frozen=True)
class Links:
    portal_url: str

    def of(self, context: dict[str, Any]) -> dict[str, str]:
        base = self.portal_url.rstrip("/")
        links = {"portal": base, "preferences": f"{base}/me/preferences"}
        if pair_id := context.get("pair_id"):
            links["pair"] = f"{base}/pairs/{pair_id}"
        if session_id := context.get("session_id"):
            links["session"] = f"{base}/sessions/{session_id}"
            links["feedback"] = f"{base}/sessions/{session_id}/feedback"
        return links


class Composer:
    def __init__(self, renderer: Renderer, links: Links, *, organiser: str, domain: str) -> None:
        self.renderer = renderer
        self.links = links
        self.organiser = organiser
        self.domain = domain

    def compose(self, delivery: Delivery, recipient: Recipient, partner: Recipient | None,
                cohort: Cohort | None, now: datetime) -> Mail:
        """The message; raises ``ValueError`` when the recipient has no address yet."""
        if not recipient.email:
            raise ValueError("no address")
        language = language_for(recipient.locale, cohort.languages if cohort else ())
        zone = zone_of(recipient.time_zone)
        context = {**delivery.context, "name": recipient.name,
                   "partner": partner.name if partner else None,
                   "cohort": cohort.name if cohort else delivery.cohort_id,
                   "links": self.links.of(delivery.context)}
        rendered = self.renderer.render(delivery.template, language, zone, context)
        calendar = None
        cancelled = delivery.template == Template.SESSION_CANCELLED
        if delivery.template in CALENDAR:
            people = [Attendee(recipient.email, recipient.name)]
            if partner is not None and partner.email:
                people.append(Attendee(partner.email, partner.name))
            invitation = Invitation(
                session_id=delivery.context["session_id"],
                revision=int(delivery.context["revision"]),
                starts_at=delivery.context["starts_at"],
                duration_minutes=int(delivery.context["duration_minutes"]),
                summary=f"{SUMMARY[language]}: {context['cohort']}",
                description=rendered.text, url=context["links"]["session"],
                organiser=self.organiser, attendees=tuple(people), time_zone=zone,
                cancelled=cancelled)
            calendar = calendar_of(invitation, domain=self.domain, now=now)
        return Mail(message_id=delivery.delivery_id, to=recipient.email, to_name=recipient.name,
                    subject=rendered.subject, text=rendered.text, html=rendered.html,
                    language=language, calendar=calendar,
                    calendar_method="CANCEL" if cancelled else "REQUEST")
