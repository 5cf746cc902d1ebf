"""What the notifications HTTP API takes and returns: the delivery log, webhook endpoints and a
participant's preferences. Every response has a typed schema; no view shows an address."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from contracts.notifications import Channel
from services.notifications.domain import Delivery, DeliveryStatus, Outcome
from services.notifications.endpoints import SUBSCRIBABLE, Endpoint, WebhookFormat


def _subscribable(value: str) -> str:
    if value not in SUBSCRIBABLE:
        raise ValueError(f"not an event type one can subscribe to: {value[:128]}")
    return value


EventType = Annotated[
    str, Field(max_length=128, json_schema_extra={"enum": list(SUBSCRIBABLE)}),
    AfterValidator(_subscribable)]


class DeliveryView(BaseModel):
    """One message on one channel to one recipient because of one fact."""

    delivery_id: str = Field(description="Also the e-mail's Message-ID and the webhook-id.")
    cohort_id: str
    channel: Channel
    recipient_id: str = Field(description="Participant id (e-mail) or endpoint id (webhook).")
    template: str = Field(description="E-mail template, or the CloudEvent type of a webhook.")
    cause_id: str = Field(description="CloudEvents id of the fact that caused it.")
    subject_id: str = Field(description="The pair or session it is about, if any.")
    status: DeliveryStatus
    attempts: int
    due_at: datetime = Field(description="When it is (or was) next due.")
    created_at: datetime | None
    settled_at: datetime | None
    last_error: str | None = Field(description="The last failure, without personal data.")

    @classmethod
    def of(cls, d: Delivery) -> DeliveryView:
        return cls(delivery_id=d.delivery_id, cohort_id=d.cohort_id, channel=d.channel,
                   recipient_id=d.recipient_id, template=d.template, cause_id=d.cause_id,
                   subject_id=d.subject_id, status=d.status, attempts=d.attempts,
                   due_at=d.due_at, created_at=d.created_at, settled_at=d.settled_at,
                   last_error=d.last_error)


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_before: str | None = Field(
        description="Pass as `before` for the next (older) page; none on the last page.")


class EndpointRequest(BaseModel):
    url: str = Field(max_length=2000, pattern=r"^https?://[^\s/$.?#][^\s]*$",
                     description="Where to POST; https:// (http:// only where the deployment "
                     "allows it, for local receivers).")
    event_types: list[EventType] = Field(min_length=1, max_length=len(SUBSCRIBABLE))
    format: WebhookFormat = WebhookFormat.STANDARD
    description: str = Field("", max_length=200)


class EndpointView(BaseModel):
    endpoint_id: str
    url: str
    event_types: list[str]
    format: WebhookFormat
    description: str
    enabled: bool = Field(description="False once it failed too often in a row.")
    consecutive_failures: int
    created_at: datetime | None
    disabled_at: datetime | None

    @classmethod
    def of(cls, e: Endpoint) -> EndpointView:
        return cls(endpoint_id=e.endpoint_id, url=e.url, event_types=e.event_types,
                   format=e.format, description=e.description, enabled=e.enabled,
                   consecutive_failures=e.consecutive_failures, created_at=e.created_at,
                   disabled_at=e.disabled_at)


class EndpointCreatedView(EndpointView):
    secret: str = Field(description="The Standard Webhooks signing secret (whsec_…). Shown "
                        "this once: store it where the receiver verifies signatures.")

    @classmethod
    def created(cls, e: Endpoint) -> EndpointCreatedView:
        return cls(**EndpointView.of(e).model_dump(), secret=e.secret)


class PingView(BaseModel):
    delivered: bool
    permanent_failure: bool = Field(description="The endpoint refused (4xx): fix, don't retry.")
    error: str | None

    @classmethod
    def of(cls, outcome: Outcome) -> PingView:
        return cls(delivered=outcome.ok, permanent_failure=outcome.permanent,
                   error=outcome.error or None)


class Preferences(BaseModel):
    """A participant's opt-outs per channel; confirmations of consent and withdrawal are sent
    regardless."""

    email_opt_out: bool = False
