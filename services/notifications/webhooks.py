"""Webhook requests: the Standard Webhooks signature, and the Slack and Teams formats.

Every request carries ``webhook-id`` (the delivery id: the same on every retry, so a receiver
drops a duplicate), ``webhook-timestamp`` (the time of this try, in seconds) and
``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` under the
endpoint's secret), made by the ``standardwebhooks`` library that receivers verify with.
A 2xx answer is a delivery; 4xx other than 408 and 429 a permanent refusal; anything else
(5xx, 408, 429, timeouts, refused connections) is tried again with backoff.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from services.notifications.domain import Outcome
from services.notifications.endpoints import Endpoint, WebhookFormat

RETRYABLE_4XX = frozenset({408, 425, 429})
USER_AGENT = "revmentor-notifications/1"


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    at = at.astimezone(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def body_for(endpoint: Endpoint, cloudevent: str) -> str:
    """What the endpoint's format sends for one CloudEvent (already JSON)."""
    if endpoint.format is WebhookFormat.STANDARD:
        return cloudevent
    event = json.loads(cloudevent)
    title, facts = describe(event)
    if endpoint.format is WebhookFormat.SLACK:
        lines = "\n".join(f"*{name}:* {value}" for name, value in facts)
        return json.dumps({"text": title, "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines}}]})
    return json.dumps({
        "@type": "MessageCard", "@context": "https://schema.org/extensions",
        "summary": title, "themeColor": "0F6CBD", "title": title,
        "sections": [{"facts": [{"name": n, "value": v} for n, v in facts]}]})


def describe(event: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """A human-readable title and facts for a CloudEvent: ids and counts, never a name."""
    kind = str(event.get("type", "")).split(".")
    name = kind[2] if len(kind) > 2 else str(event.get("type"))
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    assert isinstance(data, dict)
    facts = [("Business unit", str(event.get("tenantid"))),
             ("Cohort", str(event.get("cohortid"))),
             ("About", str(event.get("subject"))),
             ("When", str(event.get("time")))]
    for key in ("starts_at", "sessions_held", "outcome", "reason"):
        if data.get(key) is not None:
            facts.append((key.replace("_", " ").capitalize(), str(data[key])))
    stats = data.get("statistics")
    if isinstance(stats, dict) and "pairs_proposed" in stats:
        facts.append(("Pairs proposed", str(stats["pairs_proposed"])))
    return f"revmentor: {words[:1].upper()}{words[1:]}", facts


class WebhookTransport:
    def __init__(self, timeout_s: float) -> None:
        self.client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def post(self, endpoint: Endpoint, message_id: str, body: str) -> Outcome:
        headers = signed_headers(endpoint.secret, message_id, body, datetime.now(UTC))
        try:
            response = await self.client.post(endpoint.url, content=body.encode(),
                                              headers=headers)
        except httpx.HTTPError as exc:
            return Outcome.transient(type(exc).__name__)
        status = response.status_code
        if 200 <= status < 300:
            return Outcome.sent()
        error = f"HTTP {status} from endpoint"
        if 400 <= status < 500 and status not in RETRYABLE_4XX:
            return Outcome.refused(error)
        return Outcome.transient(error)

    async def close(self) -> None:
        await self.client.aclose()
