"""Signing in through OpenID Connect: authorization code with PKCE, against a real provider on
loopback (tests/console/idp.py), the console's own code unmocked."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from console.app import create_app
from console.settings import ConsoleSettings
from tests.console.idp import Provider, serving
from tests.harness import free_port

CLAIMS = {"sub": "oidc-user-7", "name": "Dana Admin", "business_unit": "bu-oidc",
          "roles": ["programme-admin"]}


@pytest.fixture
def idp() -> Iterator[Provider]:
    with serving(CLAIMS) as provider:
        yield provider


@pytest.fixture
def console(idp: Provider) -> Iterator[TestClient]:
    down = f"http://127.0.0.1:{free_port()}"
    settings = ConsoleSettings(sign_in="oidc", oidc_issuer=idp.issuer,
                               oidc_client_id="revmentor-console", enrolment_url=down,
                               matching_url=down, sessions_url=down, notifications_url=down)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


def start(console: TestClient) -> tuple[dict[str, list[str]], str]:
    """The console sends the browser to the IdP; the IdP sends it back with a code."""
    to_idp = console.get("/signin/oidc", follow_redirects=False)
    assert to_idp.status_code == 303
    asked = parse_qs(urlsplit(to_idp.headers["location"]).query)
    back = httpx.get(to_idp.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    assert callback.path == "/signin/callback"
    return asked, f"{callback.path}?{callback.query}"


def test_a_person_signs_in_with_the_authorization_code_flow_and_pkce(
    console: TestClient, idp: Provider,
) -> None:
    asked, callback = start(console)
    assert asked["response_type"] == ["code"]
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["client_id"] == ["revmentor-console"]
    assert "code_verifier" not in asked  # the verifier travels only to the token endpoint
    assert asked["redirect_uri"] == ["http://127.0.0.1/signin/callback"]

    signed_in = console.get(callback, follow_redirects=False)
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/")
    assert len(idp.token_requests) == 1 and idp.token_requests[0]["code_verifier"]
    page = console.get("/kpis")  # the sessions service is down: a notice, the person shown
    assert "Dana Admin · bu-oidc" in page.text
    assert "Service unavailable" in page.text


def test_a_callback_with_another_state_is_refused(console: TestClient, idp: Provider) -> None:
    _, callback = start(console)
    forged = callback.replace("state=", "state=x")
    refused = console.get(forged, follow_redirects=False)
    assert refused.status_code == 400
    assert "The sign-in did not complete" in refused.text
    assert idp.token_requests == []  # the code was never exchanged


def test_a_code_whose_pkce_challenge_does_not_match_is_refused(
    console: TestClient, idp: Provider,
) -> None:
    _, callback = start(console)
    for grant in idp.grants.values():
        grant.challenge = "a-challenge-the-console-never-sent"
    refused = console.get(callback, follow_redirects=False)
    assert refused.status_code == 400
    assert console.get("/cohorts", follow_redirects=False).headers["location"] == "/signin"


def test_an_id_token_for_another_sign_in_is_refused(console: TestClient, idp: Provider) -> None:
    idp.wrong_nonce = True
    _, callback = start(console)
    refused = console.get(callback, follow_redirects=False)
    assert refused.status_code == 400
    assert console.get("/cohorts", follow_redirects=False).headers["location"] == "/signin"
