"""Webhook endpoints: a business unit's subscriptions to the platform's facts.

A programme admin registers a URL, the event types wanted and a format (Standard Webhooks,
Slack, Microsoft Teams). The signing secret is generated here, returned once at registration
and kept to sign every request; it is never shown again. An endpoint that keeps failing is
disabled; an admin enables it again.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.catalogue import ALL_EVENTS
from contracts.enrolment import ParticipantEnrolled
from services.runtime.mongo import Database

Session = AsyncClientSession | None
SUBSCRIBABLE = tuple(cls.event_type() for cls in ALL_EVENTS
                     if cls.producer != "notifications" and cls is not ParticipantEnrolled)
"""Every fact of the other services; ``ParticipantEnrolled`` still carries name and e-mail on
this version of the contracts, which must not leave for another system."""


class WebhookFormat(StrEnum):
    STANDARD = "standard"
    """The CloudEvent as the body, signed per the Standard Webhooks specification."""
    SLACK = "slack"
    """A Slack incoming-webhook message."""
    TEAMS = "teams"
    """A Microsoft Teams message card."""


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class Endpoint:
    endpoint_id: str
    tenant_id: str
    url: str
    event_types: list[str]
    format: WebhookFormat
    secret: str
    description: str = ""
    enabled: bool = True
    consecutive_failures: int = 0
    created_at: datetime | None = None
    disabled_at: datetime | None = None


class EndpointStore:
    def __init__(self, db: Database) -> None:
        self.col = db["endpoints"]

    async def ensure_indexes(self) -> None:
        await self.col.create_index([("tenant_id", ASCENDING), ("event_types", ASCENDING)])

    async def add(self, endpoint: Endpoint) -> None:
        await self.col.insert_one({"_id": endpoint.endpoint_id, **_doc(endpoint)})

    async def count(self, tenant_id: str) -> int:
        return await self.col.count_documents({"tenant_id": tenant_id})

    async def of_unit(self, tenant_id: str) -> list[Endpoint]:
        cursor = self.col.find({"tenant_id": tenant_id}).sort("created_at", ASCENDING)
        return [_endpoint(d) async for d in cursor]

    async def get(self, tenant_id: str, endpoint_id: str, session: Session = None
                  ) -> Endpoint | None:
        doc = await self.col.find_one({"_id": endpoint_id, "tenant_id": tenant_id},
                                      session=session)
        return _endpoint(doc) if doc else None

    async def by_ids(self, ids: list[str]) -> dict[str, Endpoint]:
        return {d["_id"]: _endpoint(d) async for d in self.col.find({"_id": {"$in": ids}})}

    async def subscribed(self, tenants: set[str], session: Session) -> list[Endpoint]:
        """Enabled endpoints of ``tenants``; the caller matches event types."""
        cursor = self.col.find({"tenant_id": {"$in": sorted(tenants)}, "enabled": True},
                               session=session)
        return [_endpoint(d) async for d in cursor]

    async def remove(self, tenant_id: str, endpoint_id: str) -> bool:
        result = await self.col.delete_one({"_id": endpoint_id, "tenant_id": tenant_id})
        return result.deleted_count == 1

    async def set_enabled(self, tenant_id: str, endpoint_id: str, enabled: bool
                          ) -> Endpoint | None:
        doc = await self.col.find_one_and_update(
            {"_id": endpoint_id, "tenant_id": tenant_id},
            {"$set": {"enabled": enabled, "consecutive_failures": 0,
                      "disabled_at": None}}, return_document=ReturnDocument.AFTER)
        return _endpoint(doc) if doc else None

    async def record_result(self, endpoint_id: str, ok: bool, *, disable_after: int,
                            now: datetime, session: Session) -> bool:
        """Count a success (reset) or a failed delivery; True if this failure disabled it."""
        if ok:
            await self.col.update_one({"_id": endpoint_id, "consecutive_failures": {"$ne": 0}},
                                      {"$set": {"consecutive_failures": 0}}, session=session)
            return False
        doc = await self.col.find_one_and_update(
            {"_id": endpoint_id}, {"$inc": {"consecutive_failures": 1}},
            return_document=ReturnDocument.AFTER, session=session)
        if doc is None or not doc["enabled"] or doc["consecutive_failures"] < disable_after:
            return False
        await self.col.update_one({"_id": endpoint_id},
                                  {"$set": {"enabled": False, "disabled_at": now}},
                                  session=session)
        return True


def _doc(e: Endpoint) -> dict[str, Any]:
    return {"tenant_id": e.tenant_id, "url": e.url, "event_types": e.event_types,
            "format": e.format.value, "secret": e.secret, "description": e.description,
            "enabled": e.enabled, "consecutive_failures": e.consecutive_failures,
            "created_at": e.created_at, "disabled_at": e.disabled_at}


def _endpoint(doc: dict[str, Any]) -> Endpoint:
    return Endpoint(endpoint_id=doc["_id"], tenant_id=doc["tenant_id"], url=doc["url"],
                    event_types=list(doc["event_types"]), format=WebhookFormat(doc["format"]),
                    secret=doc["secret"], description=doc.get("description", ""),
                    enabled=doc["enabled"], consecutive_failures=doc["consecutive_failures"],
                    created_at=doc.get("created_at"), disabled_at=doc.get("disabled_at"))
