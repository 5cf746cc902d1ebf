"""The HTTP API: the delivery log and webhook endpoints for a unit's admins, preferences for
participants; bounded inputs, problem+json, and another unit's things are a 404."""

from __future__ import annotations

import pytest

from contracts.matching import PairConfirmed
from tests.harness import BU_INSURANCE
from tests.notifications.conftest import NotificationsHarness, Receiver
from tests.notifications.test_webhooks import documented_receiver

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"
CONFIRMED = PairConfirmed.event_type()


async def test_the_delivery_log_is_filtered_paged_and_the_units_own(
        harness: NotificationsHarness) -> None:
    await harness.open_cohort()
    await harness.enrol(*(harness.person(f"p-{i}") for i in range(3)))
    await harness.settled(lambda d: d["status"] == "delivered", count=3)
    admin = harness.admin()
    mine = await harness.http.get("/deliveries", params={"participant_id": "p-1"},
                                  headers=admin)
    [item] = mine.json()["items"]
    assert (item["recipient_id"], item["template"], item["status"], item["channel"]) == (
        "p-1", "welcome", "delivered", "email")
    assert "@" not in mine.text
    first = await harness.http.get("/deliveries", params={"template": "welcome", "limit": 2},
                                   headers=admin)
    assert len(first.json()["items"]) == 2
    rest = await harness.http.get("/deliveries", headers=admin, params={
        "template": "welcome", "limit": 2, "before": first.json()["next_before"]})
    assert (len(rest.json()["items"]), rest.json()["next_before"]) == (1, None)
    ids = {i["delivery_id"] for i in first.json()["items"] + rest.json()["items"]}
    assert len(ids) == 3
    failed = await harness.http.get("/deliveries", params={"status": "failed"}, headers=admin)
    assert failed.json()["items"] == []
    other = harness.admin(BU_INSURANCE)
    assert (await harness.http.get("/deliveries", headers=other)).json()["items"] == []
    hidden = await harness.http.get(f"/deliveries/{item['delivery_id']}", headers=other)
    assert (hidden.status_code, hidden.headers["content-type"]) == (404, PROBLEM)
    assert hidden.json()["type"] == "urn:revmentor:problem:delivery-not-found"
    shown = await harness.http.get(f"/deliveries/{item['delivery_id']}", headers=admin)
    assert shown.json() == item


async def test_an_endpoints_secret_is_shown_once_and_other_units_never_see_it(
        harness: NotificationsHarness, receiver: Receiver) -> None:
    admin, other = harness.admin(), harness.admin(BU_INSURANCE)
    created = await harness.http.post("/webhooks", headers=admin, json={
        "url": receiver.url("hr"), "event_types": [CONFIRMED], "description": "HR portal"})
    assert created.status_code == 201
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    listed = await harness.http.get("/webhooks", headers=admin)
    assert [e["endpoint_id"] for e in listed.json()] == [endpoint["endpoint_id"]]
    assert "secret" not in listed.json()[0]
    path = f"/webhooks/{endpoint['endpoint_id']}"
    assert (await harness.http.get("/webhooks", headers=other)).json() == []
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/ping"), ("POST", "/enable")):
        answer = await harness.http.request(method, path + suffix, headers=other)
        assert (answer.status_code, answer.json()["type"]) == (
            404, "urn:revmentor:problem:endpoint-not-found"), (method, suffix)
    ping = await harness.http.post(f"{path}/ping", headers=admin)
    assert ping.json() == {"delivered": True, "permanent_failure": False, "error": None}
    [(headers, body)] = receiver.to("hr")
    event = documented_receiver()(endpoint["secret"], headers, body)
    assert event is not None and event["type"] == "revmentor.notifications.WebhookPing.v1"
    assert (await harness.http.delete(path, headers=admin)).status_code == 204
    assert (await harness.http.get(path, headers=admin)).status_code == 404


async def test_registration_refuses_what_it_cannot_honour(
        harness: NotificationsHarness, receiver: Receiver) -> None:
    admin = harness.admin()
    cases = [
        {"url": receiver.url("x"), "event_types": ["revmentor.enrolment.ParticipantEnrolled.v1"]},
        {"url": receiver.url("x"), "event_types": []},
        {"url": "ftp://example.com/hook", "event_types": [CONFIRMED]},
        {"url": "https://example.com/" + "a" * 2000, "event_types": [CONFIRMED]},
        {"url": receiver.url("x"), "event_types": [CONFIRMED], "description": "d" * 201},
        {"url": receiver.url("x"), "event_types": [CONFIRMED], "format": "fax"},
    ]
    for body in cases:
        answer = await harness.http.post("/webhooks", headers=admin, json=body)
        assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM), body
    harness.n.commands.allow_http = False
    plain = await harness.http.post("/webhooks", headers=admin, json={
        "url": receiver.url("x"), "event_types": [CONFIRMED]})
    assert plain.json()["type"] == "urn:revmentor:problem:endpoint-url-not-https"
    harness.n.commands.allow_http = True
    harness.n.commands.hosts = ("internal.example.com", ".partner.example")
    for url, status in (("https://hr.partner.example/x", 201), ("https://partner.example/x", 422),
                        ("https://evil.example/x", 422)):
        answer = await harness.http.post("/webhooks", headers=admin, json={
            "url": url, "event_types": [CONFIRMED]})
        assert answer.status_code == status, url
    assert answer.json()["allowed_hosts"] == ["internal.example.com", ".partner.example"]
    harness.n.commands.hosts = ()
    harness.n.commands.max_endpoints = 2
    body = {"url": receiver.url("x"), "event_types": [CONFIRMED]}
    assert (await harness.http.post("/webhooks", headers=admin, json=body)).status_code == 201
    full = await harness.http.post("/webhooks", headers=admin, json=body)
    assert (full.status_code, full.json()["limit"]) == (409, 2)


async def test_only_admins_read_the_log_and_only_participants_their_preferences(
        harness: NotificationsHarness) -> None:
    lea = harness.participant("p-lea")
    assert (await harness.http.get("/deliveries", headers=lea)).status_code == 403
    assert (await harness.http.get("/deliveries")).status_code == 401
    assert (await harness.http.get("/me/preferences", headers=harness.admin())
            ).status_code == 403
    assert (await harness.http.get("/me/preferences", headers=lea)).json() == {
        "email_opt_out": False}
    too_long = await harness.http.get("/deliveries", headers=harness.admin(),
                                      params={"participant_id": "p" * 129})
    assert (too_long.status_code, too_long.headers["content-type"]) == (422, PROBLEM)
    unknown = await harness.http.get("/deliveries", headers=harness.admin(),
                                     params={"status": "lost"})
    assert unknown.status_code == 422
    await harness.http.put("/me/preferences", headers=lea, json={"email_opt_out": True})
    other_unit = harness.participant("p-lea", unit=BU_INSURANCE)
    assert (await harness.http.get("/me/preferences", headers=other_unit)).json() == {
        "email_opt_out": False}
