"""Events of the notifications service: the outcome of each e-mail or webhook delivery.

They name the recipient by participant or webhook id, never by address: events are retained far
longer than a withdrawn participant's personal data may be.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from contracts.base import Event, Identifier, Timestamp

_PRODUCER = "notifications"
_DELIVERY = {
    "tenant_id": "bu-retail-banking",
    "cohort_id": "coh-2025-autumn",
    "notification_id": "ntf-5b0e7d13",
    "channel": "email",
    "recipient_id": "p-b83a0c55",
    "template": "session_invitation",
    "caused_by_event_id": "6f1d2c3b-8e4a-4f5b-9c7d-0a1b2c3d4e5f",
}


class Channel(StrEnum):
    """How a notification travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"


class _Notification(Event):
    """What both delivery outcomes share; not an event of its own."""

    producer = _PRODUCER

    notification_id: Identifier = Field(description="Id of the notification.")
    channel: Channel = Field(description="How it was sent.")
    recipient_id: Identifier = Field(
        pattern=r"^[^@]+$",
        description="Participant id (e-mail) or webhook id (webhook); never an address.",
    )
    template: str = Field(
        min_length=1,
        max_length=64,
        description="Kind of notification, e.g. pair_proposed, session_invitation.",
    )
    caused_by_event_id: str = Field(
        min_length=1,
        max_length=512,
        description="CloudEvents id of the event that caused the notification.",
    )

    def subject(self) -> str:
        """The notification the fact is about."""
        return self.notification_id


class NotificationDelivered(_Notification):
    """The mail server or webhook endpoint accepted the notification."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_DELIVERY, "delivered_at": "2025-11-05T10:00:03+01:00"}]}
    )

    delivered_at: Timestamp = Field(description="When the receiving side accepted it.")


class NotificationFailed(_Notification):
    """Delivery failed for good after ``attempts`` tries; nobody was notified."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_DELIVERY,
                    "channel": "webhook",
                    "recipient_id": "wh-hr-portal",
                    "template": "pair_confirmed",
                    "failed_at": "2025-10-01T14:35:40+02:00",
                    "error": "HTTP 503 from endpoint",
                    "attempts": 5,
                }
            ]
        }
    )

    failed_at: Timestamp = Field(description="When the last attempt failed.")
    error: str = Field(
        min_length=1, max_length=500, description="Last error, without personal data."
    )
    attempts: int = Field(ge=1, le=1000, description="How many delivery attempts were made.")
