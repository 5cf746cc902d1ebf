"""The console's own guards, in process (no service needs to answer for them): CSRF on every
form, the session cookie's flags, the bearer token kept on the server, a service that is down."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from console.app import create_app
from console.settings import ConsoleSettings
from console.visits import COOKIE
from tests.harness import free_port

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def nowhere() -> str:
    """A loopback URL nothing listens on: a service that is down."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def console() -> Iterator[TestClient]:
    settings = ConsoleSettings(enrolment_url=nowhere(), matching_url=nowhere(),
                               sessions_url=nowhere(), notifications_url=nowhere(),
                               service_timeout_s=2.0)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    found = CSRF.search(client.get(path).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def sign_in(client: TestClient, role: str = "programme-admin") -> None:
    answer = client.post("/signin/dev", data={
        "csrf_token": csrf_of(client), "business_unit": "bu-sec", "role": role,
        "participant_id": "emp-1" if role == "participant" else ""}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def test_a_form_post_without_the_csrf_token_is_refused(console: TestClient) -> None:
    refused = console.post("/signin/dev", data={"business_unit": "bu-sec",
                                                "role": "programme-admin"})
    assert refused.status_code == 403
    assert "Form refused" in refused.text and "Traceback" not in refused.text
    sign_in(console)
    form = {"name": "Sneaky", "languages": "en", "closes_on": "2199-01-01"}
    assert console.post("/cohorts", data=form).status_code == 403
    assert console.post("/cohorts", data={**form, "csrf_token": "forged"}).status_code == 403
    assert console.post("/signout", data={}).status_code == 403
    assert console.post("/cohorts/c-1/close", headers={"X-CSRF-Token": "forged"}
                        ).status_code == 403


def test_the_csrf_token_of_the_visit_lets_a_form_through(console: TestClient) -> None:
    sign_in(console)
    token = csrf_of(console, "/cohorts/new")
    answer = console.post("/cohorts/c-1/close", headers={"X-CSRF-Token": token})
    assert answer.status_code == 503  # past the guard; the enrolment service is down
    assert "does not answer right now" in answer.text


def test_the_session_cookie_is_signed_httponly_and_samesite_lax(console: TestClient) -> None:
    header = console.get("/signin").headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=")
    flags = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # plain http on the developer's own machine


def test_the_session_cookie_is_secure_outside_localhost() -> None:
    app = create_app(ConsoleSettings(enrolment_url=nowhere()))
    with TestClient(app, base_url="https://console.example.com") as client:
        header = client.get("/signin").headers["set-cookie"]
    assert "secure" in {part.strip().lower() for part in header.split(";")}


def test_a_tampered_cookie_is_a_new_anonymous_visit(console: TestClient) -> None:
    sign_in(console)
    signed = console.cookies[COOKIE]
    console.cookies.set(COOKIE, signed[:-2] + ("AA" if not signed.endswith("AA") else "BB"))
    answer = console.get("/cohorts", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/signin")


def test_signing_in_gives_the_visit_a_new_id(console: TestClient) -> None:
    console.get("/signin")
    before = console.cookies[COOKIE]
    sign_in(console)
    assert console.cookies[COOKIE] != before


def test_no_page_includes_the_bearer_token(console: TestClient) -> None:
    sign_in(console, role="participant")
    visits = console.app.state.visits  # type: ignore[attr-defined]
    scope = {"type": "http", "headers": [(b"cookie", f"{COOKIE}={console.cookies[COOKIE]}"
                                          .encode())]}
    token = visits.of(Request(scope)).token
    assert token and token.count(".") == 2
    for path in ("/signin", "/me", "/me/mentorships/p-1", "/cohorts", "/language/de?next=/me"):
        page = console.get(path)
        assert token not in page.text, path
        assert token not in str(page.headers), path


def test_a_service_that_is_down_shows_a_notice_not_a_blank_page(console: TestClient) -> None:
    sign_in(console)
    page = console.get("/cohorts")
    assert page.status_code == 503
    assert "Service unavailable" in page.text
    assert "The enrolment service does not answer right now" in page.text
    console.get("/language/de")
    assert "Der Dienst „Anmeldung“ antwortet gerade nicht" in console.get("/cohorts").text


def test_a_page_for_admins_is_refused_to_a_participant(console: TestClient) -> None:
    sign_in(console, role="participant")
    page = console.get("/cohorts")
    assert page.status_code == 403 and "This page is for another role." in page.text


def test_without_signing_in_every_page_leads_to_the_sign_in(console: TestClient) -> None:
    for path in ("/", "/cohorts", "/me", "/kpis", "/deliveries"):
        answer = console.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/signin"), path


def test_probes_and_assets_open_no_visit(console: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/static/htmx.min.js", "/static/console.css"):
        answer = console.get(path)
        assert answer.status_code == 200, path
        assert "set-cookie" not in answer.headers, path
