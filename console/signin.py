"""Signing in and out.

Production: OpenID Connect, authorization code flow with PKCE (S256), through Authlib, against
the enterprise IdP named by ``REVMENTOR_CONSOLE_OIDC_ISSUER``. The ID token is verified against
the IdP's JWKS (issuer, audience, expiry, nonce); its claims say who signed in (``business_unit``,
``roles``, ``participant_id``); the access token is what the console sends the services.

The embedded stack: a dev sign-in where one picks a business unit and a role; the console mints
an HS256 token with the stack's dev secret, in the claims format the services verify
(``sub``, ``business_unit``, ``roles``, ``participant_id``, ``exp``, ``iat``).
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import jwt
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.pages import LANGUAGES, gettext_for, language_of, render
from console.settings import ConsoleSettings
from console.visits import Person, visit_of

ROLES = ("programme-admin", "participant", "platform-admin")
DIRECTORY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


def mint_dev_token(secret: str, person: Person, ttl: timedelta) -> str:
    """An HS256 token in the claims format the services verify (see the services' auth)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": person.subject, "business_unit": person.business_unit,
                              "roles": sorted(person.roles), "iat": now, "exp": now + ttl}
    if person.participant_id:
        claims["participant_id"] = person.participant_id
    return jwt.encode(claims, secret, algorithm="HS256")


def person_of_claims(claims: dict[str, Any]) -> Person:
    unit, roles = claims.get("business_unit"), claims.get("roles", [])
    if not isinstance(unit, str) or not unit or not isinstance(roles, list):
        raise ValueError("the ID token names no business unit or roles")
    name = claims.get("name") or claims.get("preferred_username")
    return Person(subject=str(claims["sub"]), business_unit=unit,
                  roles=frozenset(r for r in roles if r in ROLES),
                  participant_id=claims.get("participant_id"),
                  display_name=str(name) if name else None)


class Provider:
    """The IdP: discovery document and signing keys, fetched once and kept."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: jwt.PyJWKClient | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            issuer = (self.settings.oidc_issuer or "").rstrip("/")
            async with httpx.AsyncClient(timeout=10.0) as http:
                answer = await http.get(f"{issuer}/.well-known/openid-configuration")
                answer.raise_for_status()
                self._metadata = answer.json()
        return self._metadata

    def client(self, redirect_uri: str) -> AsyncOAuth2Client:
        secret = self.settings.oidc_client_secret
        return AsyncOAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scope=self.settings.oidc_scope, redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post" if secret else "none")

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        meta = await self.metadata()
        if self._keys is None:
            self._keys = jwt.PyJWKClient(meta["jwks_uri"])
        key = self._keys.get_signing_key_from_jwt(id_token).key
        claims: dict[str, Any] = jwt.decode(
            id_token, key, algorithms=["RS256", "ES256", "PS256"],
            audience=self.settings.oidc_client_id, issuer=meta["issuer"],
            options={"require": ["sub", "exp", "iat", "nonce"]})
        if not secrets.compare_digest(str(claims.get("nonce")), nonce):
            raise jwt.InvalidTokenError("nonce mismatch")
        return claims


def callback_url(request: Request, settings: ConsoleSettings) -> str:
    base = settings.public_url.rstrip("/") if settings.public_url else str(
        request.base_url).rstrip("/")
    return f"{base}/signin/callback"


def safe_next(target: str | None) -> str:
    """Only a path of this console: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def routes(settings: ConsoleSettings, provider: Provider) -> APIRouter:
    router = APIRouter()
    ttl = timedelta(hours=settings.session_hours)

    def signed_in(request: Request, person: Person, token: str) -> Response:
        visits = request.app.state.visits
        visit = visits.renew(visit_of(request))
        visit.person, visit.token = person, token
        request.state.visit = visit
        return RedirectResponse("/", status_code=303)

    @router.get("/signin", response_class=HTMLResponse)
    async def sign_in_page(request: Request) -> Response:
        return render(request, "signin.html", {
            "mode": settings.sign_in, "units": settings.dev_business_units, "roles": ROLES})

    @router.post("/signin/dev")
    async def dev_sign_in(
        request: Request, business_unit: Annotated[str, Form(max_length=100)],
        role: Annotated[str, Form()], participant_id: Annotated[str, Form(max_length=100)] = "",
        display_name: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        _ = gettext_for(language_of(request))
        if settings.sign_in != "dev":
            return render(request, "signin.html", {"mode": settings.sign_in, "error": _(
                "The dev sign-in is switched off here.")}, status_code=403)
        problems = []
        if role not in ROLES:
            problems.append(_("Choose a role."))
        if not DIRECTORY_ID.match(business_unit):
            problems.append(_("Choose a business unit."))
        if role == "participant" and not DIRECTORY_ID.match(participant_id):
            problems.append(_("A participant needs an employee id (letters, digits, . _ : -)."))
        if problems:
            return render(request, "signin.html", {
                "mode": settings.sign_in, "units": settings.dev_business_units,
                "roles": ROLES, "error": " ".join(problems)}, status_code=422)
        subject = participant_id if role == "participant" else f"admin-{business_unit}"
        person = Person(subject=subject, business_unit=business_unit, roles=frozenset({role}),
                        participant_id=participant_id if role == "participant" else None,
                        display_name=display_name.strip() or None)
        token = mint_dev_token(settings.dev_jwt_secret.get_secret_value(), person, ttl)
        return signed_in(request, person, token)

    @router.get("/signin/oidc")
    async def oidc_start(request: Request) -> Response:
        meta = await provider.metadata()
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        async with provider.client(callback_url(request, settings)) as client:
            url, state = client.create_authorization_url(
                meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
        visit_of(request).pending_sign_in = {"state": state, "verifier": verifier,
                                             "nonce": nonce, "started": time.time()}
        return RedirectResponse(url, status_code=303)

    @router.get("/signin/callback")
    async def oidc_callback(request: Request, code: str = "", state: str = "",
                            error: str = "") -> Response:
        _ = gettext_for(language_of(request))
        pending = visit_of(request).pending_sign_in or {}
        visit_of(request).pending_sign_in = None
        if error or not code or not pending or not secrets.compare_digest(
                state, str(pending.get("state"))) or time.time() - pending["started"] > 600:
            return render(request, "signin.html", {"mode": settings.sign_in, "error": _(
                "The sign-in did not complete. Please try again.")}, status_code=400)
        meta = await provider.metadata()
        try:
            async with provider.client(callback_url(request, settings)) as client:
                tokens = await client.fetch_token(
                    meta["token_endpoint"], code=code, code_verifier=pending["verifier"])
            claims = await provider.verify_id_token(str(tokens.get("id_token")),
                                                    pending["nonce"])
            person = person_of_claims(claims)
        except Exception as exc:  # the exchange refused (OAuthError), the token not valid…
            request.app.state.log.warning("oidc sign-in failed: %s", type(exc).__name__)
            return render(request, "signin.html", {"mode": settings.sign_in, "error": _(
                "The sign-in did not complete. Please try again.")}, status_code=400)
        return signed_in(request, person, str(tokens["access_token"]))

    @router.post("/signout")
    async def sign_out(request: Request) -> Response:
        request.state.visit = request.app.state.visits.end(visit_of(request))
        return RedirectResponse("/signin", status_code=303)

    @router.get("/language/{language}")
    async def choose_language(request: Request, language: str, next: str = "/") -> Response:
        if language in LANGUAGES:
            visit_of(request).language = language
        return RedirectResponse(safe_next(next), status_code=303)

    return router
