"""What the notifications service decides: which facts notify whom, when, and how a try ends.

A **delivery** is one message on one channel to one recipient because of one fact; its id is
derived from (channel, recipient, template, causing event id), so a redelivered event, a replay
or a second replica can only ever name the same delivery, and the database's unique index
turns the second claim into a no-op. Deliveries hold ids, times and topics only: the address,
the name and the language are looked up in the directory when the message is sent, so erasing
the directory entry erases the person from this service.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from contracts.notifications import Channel, NotificationDelivered, NotificationFailed
from contracts.sessions import SessionFormat

ERROR_MAX_LENGTH = 500


class Template(StrEnum):
    """The kinds of e-mail a participant receives."""

    WELCOME = "welcome"
    PAIR_PROPOSED = "pair_proposed"
    PAIR_NUDGE = "pair_nudge"
    PAIR_CONFIRMED = "pair_confirmed"
    SESSION_SCHEDULED = "session_scheduled"
    SESSION_RESCHEDULED = "session_rescheduled"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_REMINDER = "session_reminder"
    FEEDBACK_REQUEST = "feedback_request"
    MENTORSHIP_COMPLETED = "mentorship_completed"
    WITHDRAWAL_CONFIRMED = "withdrawal_confirmed"


MANDATORY = frozenset({Template.WELCOME, Template.WITHDRAWAL_CONFIRMED})
"""Confirmations of the person's own consent and withdrawal: sent despite an e-mail opt-out."""
CALENDAR = frozenset({Template.SESSION_SCHEDULED, Template.SESSION_RESCHEDULED,
                      Template.SESSION_CANCELLED})
"""Messages that carry an iCalendar attachment."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Waiting for its due time or its next try."""
    SENDING = "sending"
    """Claimed by a dispatcher until ``claimed_until``."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """Failed for good: a permanent refusal or every try used."""
    CANCELLED = "cancelled"
    """No longer wanted before it was due (the session was moved, the pair answered)."""
    SUPPRESSED = "suppressed"
    """The recipient opted out of the channel."""


SETTLED = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED,
                     DeliveryStatus.SUPPRESSED})


def delivery_id(channel: Channel, recipient_id: str, template: str, cause_id: str) -> str:
    """The one id a (channel, recipient, template, cause) can have: Message-ID and webhook-id."""
    key = "\x1f".join((channel.value, recipient_id, template, cause_id)).encode()
    return f"ntf-{hashlib.sha256(key).hexdigest()[:32]}"


@dataclass
class Delivery:
    """One message to one recipient on one channel, caused by one fact."""

    tenant_id: str
    cohort_id: str
    channel: Channel
    recipient_id: str
    template: str
    cause_id: str
    due_at: datetime
    subject_id: str = ""
    """The pair or session the message is about, so later facts can cancel it."""
    context: dict[str, Any] = field(default_factory=dict)
    """What the template shows: ids, times, topics, factors; never a name or an address."""
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    settled_at: datetime | None = None
    created_at: datetime | None = None
    delivery_id: str = ""

    def __post_init__(self) -> None:
        if not self.delivery_id:
            self.delivery_id = delivery_id(self.channel, self.recipient_id, self.template,
                                           self.cause_id)

    def delivered(self, now: datetime) -> NotificationDelivered:
        self.status, self.settled_at, self.last_error = DeliveryStatus.DELIVERED, now, None
        return NotificationDelivered(delivered_at=now, **self._fact())

    def failed(self, now: datetime, error: str) -> NotificationFailed:
        self.status, self.settled_at = DeliveryStatus.FAILED, now
        self.last_error = error[:ERROR_MAX_LENGTH]
        return NotificationFailed(failed_at=now, error=self.last_error,
                                  attempts=max(1, self.attempts), **self._fact())

    def suppressed(self, now: datetime) -> None:
        self.status, self.settled_at = DeliveryStatus.SUPPRESSED, now

    def _fact(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "cohort_id": self.cohort_id,
                "notification_id": self.delivery_id, "channel": self.channel,
                "recipient_id": self.recipient_id, "template": self.template,
                "caused_by_event_id": self.cause_id}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a delivery is tried before it counts as failed."""

    attempts: int = 6
    initial_backoff_s: float = 30.0
    max_backoff_s: float = 3600.0

    def backoff(self, attempt: int) -> timedelta:
        """Exponential with jitter in [ceiling/2, ceiling], so replicas do not retry in step."""
        ceiling = min(self.max_backoff_s, self.initial_backoff_s * 2 ** max(0, attempt - 1))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


@dataclass(frozen=True)
class Outcome:
    """How one try ended; ``error`` is a short description without personal data."""

    ok: bool
    permanent: bool = False
    error: str = ""

    @classmethod
    def sent(cls) -> Outcome:
        return cls(True)

    @classmethod
    def transient(cls, error: str) -> Outcome:
        return cls(False, False, error[:ERROR_MAX_LENGTH])

    @classmethod
    def refused(cls, error: str) -> Outcome:
        return cls(False, True, error[:ERROR_MAX_LENGTH])


def settle(delivery: Delivery, outcome: Outcome, now: datetime, policy: RetryPolicy
           ) -> NotificationDelivered | NotificationFailed | None:
    """Apply a try's outcome: the fact it causes, or ``None`` when another try is due later."""
    if outcome.ok:
        return delivery.delivered(now)
    if outcome.permanent or delivery.attempts >= policy.attempts:
        return delivery.failed(now, outcome.error or "failed")
    delivery.status = DeliveryStatus.PENDING
    delivery.last_error = outcome.error
    delivery.due_at = now + policy.backoff(delivery.attempts)
    return None


@dataclass(frozen=True)
class Cohort:
    """What a message needs of its cohort: its name and the language to fall back on."""

    tenant_id: str
    cohort_id: str
    name: str
    languages: tuple[str, ...]

    @property
    def language(self) -> str:
        return self.languages[0] if self.languages else "en"


@dataclass(frozen=True)
class SessionSlot:
    """The last known schedule of a session: the calendar entry both invitations describe."""

    tenant_id: str
    cohort_id: str
    session_id: str
    pair_id: str
    mentor_id: str
    mentee_id: str
    starts_at: datetime
    duration_minutes: int
    format: SessionFormat
    revision: int = 0
    cancelled: bool = False

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def people(self) -> tuple[str, str]:
        return self.mentor_id, self.mentee_id
