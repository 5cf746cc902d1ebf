"""Who is calling: the principal carried by a bearer JWT.

Production uses the enterprise's OIDC provider (``jwt_jwks_url``); the embedded stack and tests
sign HS256 tokens with a dev secret. Claims name the business unit (the tenant) and roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.runtime.settings import ServiceSettings

PROGRAMME_ADMIN = "programme-admin"
PARTICIPANT = "participant"
PLATFORM_ADMIN = "platform-admin"
ROLES = frozenset({PROGRAMME_ADMIN, PARTICIPANT, PLATFORM_ADMIN})
BUSINESS_UNIT_CLAIM = "business_unit"
ROLES_CLAIM = "roles"


@dataclass(frozen=True)
class Principal:
    subject: str
    business_unit: str
    roles: frozenset[str]
    participant_id: str | None = None

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_admin(self) -> bool:
        return PROGRAMME_ADMIN in self.roles or PLATFORM_ADMIN in self.roles

    @property
    def acting_participant(self) -> str | None:
        """The participant this token acts for: its ``participant_id`` claim, else its subject.

        ``None`` unless the token holds the participant role: an admin's subject is not a
        participant id, so an admin-only token never speaks for a participant.
        """
        if PARTICIPANT not in self.roles:
            return None
        return self.participant_id or self.subject


class TokenVerifier:
    """Verifies signature, expiry, audience and issuer; maps claims to a :class:`Principal`."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    def verify(self, token: str) -> Principal:
        s = self.settings
        key: Any = (
            self._jwks.get_signing_key_from_jwt(token).key
            if self._jwks
            else s.jwt_secret.get_secret_value()
        )
        claims = jwt.decode(
            token, key, algorithms=s.jwt_algorithms, audience=s.jwt_audience, issuer=s.jwt_issuer,
            options={"require": ["sub", "exp"], "verify_aud": s.jwt_audience is not None},
        )
        unit = claims.get(BUSINESS_UNIT_CLAIM)
        roles = claims.get(ROLES_CLAIM, [])
        if not isinstance(unit, str) or not unit or not isinstance(roles, list):
            raise jwt.InvalidTokenError("token lacks business_unit or roles")
        return Principal(
            subject=str(claims["sub"]),
            business_unit=unit,
            roles=frozenset(r for r in roles if r in ROLES),
            participant_id=claims.get("participant_id"),
        )


def issue_dev_token(
    secret: str, *, subject: str, business_unit: str, roles: list[str],
    participant_id: str | None = None, ttl: timedelta = timedelta(hours=1),
) -> str:
    """An HS256 token for the embedded stack, the demo and tests; never used in production."""
    claims: dict[str, Any] = {
        "sub": subject, BUSINESS_UNIT_CLAIM: business_unit, ROLES_CLAIM: roles,
        "exp": datetime.now(UTC) + ttl, "iat": datetime.now(UTC),
    }
    if participant_id:
        claims["participant_id"] = participant_id
    return jwt.encode(claims, secret, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: 401 without a valid token."""
    if credentials is None:
        raise HTTPException(401, "a bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.verify(credentials.credentials)
    except jwt.PyJWTError as exc:
        raise HTTPException(401, f"invalid token: {exc}",
                            headers={"WWW-Authenticate": "Bearer"}) from None


def require_role(*roles: str) -> Any:
    """Dependency factory: 403 unless the principal holds one of ``roles``."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.roles.intersection(roles):
            raise HTTPException(403, f"requires one of the roles: {', '.join(roles)}")
        return principal

    return Depends(check)


Admin = Annotated[Principal, require_role(PROGRAMME_ADMIN, PLATFORM_ADMIN)]
"""A programme or platform admin of the token's business unit."""
ParticipantOnly = Annotated[Principal, require_role(PARTICIPANT)]
"""An enrolled employee acting for themself."""
Member = Annotated[Principal, require_role(PROGRAMME_ADMIN, PLATFORM_ADMIN, PARTICIPANT)]
"""Anyone of the business unit: admins and participants."""
