"""A browser's visit: the signed session cookie, what the server keeps for it, and CSRF.

The cookie holds only a random visit id, signed (itsdangerous) and ``HttpOnly``,
``SameSite=Lax``, ``Secure`` outside localhost. The bearer token stays on the server, in the
visit, so no page and no script ever sees it. Visits live in this process's memory: a restart
signs everyone out (one console replica; a shared store would be needed for more).

CSRF: every visit has a random token; every form carries it in ``csrf_token`` and htmx sends it
as ``X-CSRF-Token``. A state-changing request without the right one is refused with 403.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

COOKIE = "revmentor_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
MAX_VISITS = 20_000
"""Kept in memory; beyond it expired visits go, then those of nobody signed in."""


@dataclass(frozen=True)
class Person:
    """Who is signed in, as the token's claims say."""

    subject: str
    business_unit: str
    roles: frozenset[str]
    participant_id: str | None = None
    display_name: str | None = None

    @property
    def is_admin(self) -> bool:
        return bool(self.roles & {"programme-admin", "platform-admin"})

    @property
    def is_participant(self) -> bool:
        return "participant" in self.roles

    @property
    def acting_participant(self) -> str | None:
        return (self.participant_id or self.subject) if self.is_participant else None


@dataclass
class Visit:
    visit_id: str
    csrf: str
    expires_at: float
    token: str | None = None
    person: Person | None = None
    language: str | None = None
    pending_sign_in: dict[str, Any] | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)
    fresh: bool = False

    def flash(self, kind: str, message: str) -> None:
        self.flashes.append((kind, message))

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        return taken


class CsrfRefused(Exception):
    """A state-changing request without this visit's CSRF token."""


class Visits:
    """The visits of this process, found by the signed id in the cookie."""

    def __init__(self, secret: str, ttl_s: float) -> None:
        self._signer = TimestampSigner(secret, salt="revmentor-console-visit")
        self._ttl = ttl_s
        self._open: dict[str, Visit] = {}

    def of(self, request: Request) -> Visit:
        """The request's visit, or a new anonymous one."""
        now = time.time()
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                visit_id = self._signer.unsign(raw, max_age=int(self._ttl)).decode()
            except (BadSignature, SignatureExpired):
                visit_id = ""
            visit = self._open.get(visit_id)
            if visit is not None and visit.expires_at > now:
                return visit
            self._open.pop(visit_id, None)
        return self._new(now)

    def _new(self, now: float) -> Visit:
        if len(self._open) > MAX_VISITS:  # expired ones first, then anonymous ones
            self._open = {k: v for k, v in self._open.items() if v.expires_at > now}
            if len(self._open) > MAX_VISITS:
                self._open = {k: v for k, v in self._open.items() if v.person is not None}
        visit = Visit(secrets.token_urlsafe(24), secrets.token_urlsafe(32), now + self._ttl,
                      fresh=True)
        self._open[visit.visit_id] = visit
        return visit

    def renew(self, visit: Visit) -> Visit:
        """A new id and CSRF token for the same visit (at sign-in: no session fixation)."""
        self._open.pop(visit.visit_id, None)
        renewed = self._new(time.time())
        renewed.language = visit.language
        self._open[renewed.visit_id] = renewed
        return renewed

    def end(self, visit: Visit) -> Visit:
        self._open.pop(visit.visit_id, None)
        fresh = self._new(time.time())
        fresh.language = visit.language
        return fresh

    def cookie(self, visit: Visit) -> str:
        return self._signer.sign(visit.visit_id).decode()

    def set_cookie(self, response: Any, visit: Visit, request: Request) -> None:
        response.set_cookie(COOKIE, self.cookie(visit), max_age=int(self._ttl), path="/",
                            httponly=True, samesite="lax", secure=needs_secure(request))


def needs_secure(request: Request) -> bool:
    """``Secure`` everywhere but on a developer's own machine (plain http on loopback)."""
    return (request.url.hostname or "") not in LOCAL_HOSTS


def visit_of(request: Request) -> Visit:
    visit: Visit = request.state.visit
    return visit


async def csrf_guard(request: Request) -> None:
    """App-wide dependency: refuse a state-changing request without the visit's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded",
                                    "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, visit_of(request).csrf):
        raise CsrfRefused
