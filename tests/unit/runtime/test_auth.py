"""Bearer tokens become principals: business unit and roles, or a 401."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from services.runtime.auth import (
    PARTICIPANT,
    PROGRAMME_ADMIN,
    TokenVerifier,
    issue_dev_token,
)
from services.runtime.settings import ServiceSettings

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(ServiceSettings.for_service("enrolment", jwt_secret=SECRET))


def test_token_yields_business_unit_roles_and_participant(verifier: TokenVerifier) -> None:
    token = issue_dev_token(SECRET, subject="u1", business_unit="bu-retail",
                            roles=[PARTICIPANT], participant_id="p-7")
    principal = verifier.verify(token)
    assert principal.business_unit == "bu-retail"
    assert principal.roles == {PARTICIPANT}
    assert principal.participant_id == "p-7"
    assert not principal.is_admin


def test_unknown_roles_are_dropped(verifier: TokenVerifier) -> None:
    token = issue_dev_token(SECRET, subject="u1", business_unit="bu", roles=["root",
                                                                              PROGRAMME_ADMIN])
    assert verifier.verify(token).roles == {PROGRAMME_ADMIN}


@pytest.mark.parametrize(
    "token",
    [
        issue_dev_token("another-secret-another-secret-another", subject="u", business_unit="b",
                        roles=[]),
        issue_dev_token(SECRET, subject="u", business_unit="b", roles=[],
                        ttl=timedelta(seconds=-5)),
        jwt.encode({"sub": "u", "roles": [], "exp": 9999999999}, SECRET, algorithm="HS256"),
        "not-a-jwt",
    ],
    ids=["wrong-signature", "expired", "no-business-unit", "garbage"],
)
def test_invalid_tokens_are_refused(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(jwt.PyJWTError):
        verifier.verify(token)


def test_unsigned_tokens_are_refused(verifier: TokenVerifier) -> None:
    token = jwt.encode({"sub": "u", "business_unit": "b", "roles": [], "exp": 9999999999},
                       "", algorithm="none")  # no key: an unsigned token
    with pytest.raises(jwt.PyJWTError):
        verifier.verify(token)
