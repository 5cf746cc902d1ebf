"""Webhooks per business unit: Standard Webhooks signatures that the library verifies on a real
HTTP receiver, retries and permanent refusals, disabling, Slack and Teams formats."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contracts import encode
from contracts.matching import PairConfirmed, PairProposed
from contracts.notifications import NotificationFailed
from contracts.topics import NOTIFICATIONS
from tests.harness import BU_INSURANCE, decoded, of_cohort, read_topic
from tests.notifications.conftest import NotificationsHarness, Receiver

pytestmark = pytest.mark.integration
DOCS = Path(__file__).parents[2] / "docs" / "notifications.md"
CONFIRMED = PairConfirmed.event_type()


def documented_receiver() -> Any:
    """The receiver sample of docs/notifications.md, run as it stands there."""
    text = DOCS.read_text()
    sample = re.search(r"<!-- receiver-sample.*?```python\n(.*?)```", text, re.S)
    assert sample is not None
    namespace: dict[str, Any] = {}
    exec(sample.group(1), namespace)
    return namespace["receive"]


async def register(harness: NotificationsHarness, url: str, types: list[str],
                   unit: str | None = None, **fields: Any) -> dict[str, Any]:
    headers = harness.admin(unit) if unit else harness.admin()
    answer = await harness.http.post("/webhooks", headers=headers,
                                     json={"url": url, "event_types": types, **fields})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def confirmed(harness: NotificationsHarness, pair_id: str = "pair-1") -> PairConfirmed:
    return harness.fact(PairConfirmed, pair_id=pair_id, mentor_id="p-a", mentee_id="p-b")


async def test_a_subscribed_fact_arrives_once_signed_and_the_documented_receiver_verifies_it(
        harness: NotificationsHarness, receiver: Receiver) -> None:
    endpoint = await register(harness, receiver.url("hr"), [CONFIRMED])
    await register(harness, receiver.url("other-unit"), [CONFIRMED], unit=BU_INSURANCE)
    record = encode(confirmed(harness), source="/revmentor/matching")
    proposed = harness.fact(PairProposed, pair_id="pair-2")
    await harness.announce(record, proposed, record)
    await harness.settled(lambda d: d["channel"] == "webhook" and d["status"] == "delivered")
    [(headers, body)] = receiver.to("hr")
    receive = documented_receiver()
    event = receive(endpoint["secret"], headers, body)
    assert event is not None
    assert (event["id"], event["type"], event["data"]["pair_id"]) == (
        record.event_id, CONFIRMED, "pair-1")
    assert receive(endpoint["secret"], headers, body) is None  # the same webhook-id again
    assert documented_receiver()("whsec_" + "A" * 44, headers, body) is None
    [delivery] = await harness.settled(lambda d: d["channel"] == "webhook" and
                                       d["status"] not in ("pending", "sending"))
    assert headers["webhook-id"] == delivery["_id"]
    assert receiver.to("other-unit") == []


async def test_a_refusing_endpoint_fails_for_good_and_a_failing_one_is_retried(
        harness: NotificationsHarness, receiver: Receiver) -> None:
    await register(harness, receiver.url("gone"), [CONFIRMED])
    await register(harness, receiver.url("flaky"), [CONFIRMED])
    receiver.answers = {"gone": [410], "flaky": [503, 200]}
    await harness.announce(confirmed(harness))
    await harness.settled(lambda d: d["channel"] == "webhook" and d["status"] == "failed")
    [flaky] = await harness.settled(lambda d: d["channel"] == "webhook" and
                                    d["status"] == "pending" and d["attempts"] == 1)
    assert flaky["last_error"] == "HTTP 503 from endpoint"
    harness.clock.advance(timedelta(seconds=61))
    await harness.tick()
    assert len(receiver.to("flaky")) == 2 and len(receiver.to("gone")) == 1
    facts = decoded(await read_topic(harness.bootstrap, NOTIFICATIONS, count=4,
                                     keep=of_cohort(harness.cohort_id)))
    failed = [e.event for e in facts if isinstance(e.event, NotificationFailed)
              and e.event.channel.value == "webhook"]
    assert [(f.channel.value, f.error, f.template) for f in failed] == [
        ("webhook", "HTTP 410 from endpoint", CONFIRMED)]


async def test_an_endpoint_failing_again_and_again_is_disabled_until_enabled(
        harness: NotificationsHarness, receiver: Receiver) -> None:
    dispatcher = harness.n.dispatcher
    dispatcher.policy = replace(dispatcher.policy, webhook_failures_before_disable=2)
    endpoint = await register(harness, receiver.url("broken"), [CONFIRMED])
    receiver.answers = {"broken": [400]}
    await harness.announce(confirmed(harness, "pair-1"), confirmed(harness, "pair-2"))
    await harness.settled(lambda d: d["channel"] == "webhook" and d["status"] == "failed",
                          count=2)
    read = await harness.http.get(f"/webhooks/{endpoint['endpoint_id']}",
                                  headers=harness.admin())
    assert (read.json()["enabled"], read.json()["consecutive_failures"]) == (False, 2)
    await harness.announce(confirmed(harness, "pair-3"))
    await harness.settled(lambda d: d["subject_id"] == "pair-3", count=2,
                          what="the e-mails about pair-3 (the fact was consumed)")
    assert await harness.n.store.deliveries.count_documents(
        {"channel": "webhook", "subject_id": "pair-3"}) == 0
    assert len(receiver.to("broken")) == 2
    enabled = await harness.http.post(f"/webhooks/{endpoint['endpoint_id']}/enable",
                                      headers=harness.admin())
    assert (enabled.json()["enabled"], enabled.json()["consecutive_failures"]) == (True, 0)


async def test_slack_and_teams_endpoints_get_their_own_message_formats(
        harness: NotificationsHarness, receiver: Receiver) -> None:
    await register(harness, receiver.url("slack"), [CONFIRMED], format="slack")
    await register(harness, receiver.url("teams"), [CONFIRMED], format="teams")
    await harness.announce(confirmed(harness))
    await harness.settled(lambda d: d["channel"] == "webhook" and d["status"] == "delivered",
                          count=2)
    [(_, slack)] = receiver.to("slack")
    [(_, teams)] = receiver.to("teams")
    slack_body, teams_body = json.loads(slack), json.loads(teams)
    assert slack_body["text"] == "revmentor: Pair confirmed"
    assert slack_body["blocks"][0]["text"]["text"] == "*revmentor: Pair confirmed*"
    assert (teams_body["@type"], teams_body["title"]) == ("MessageCard",
                                                         "revmentor: Pair confirmed")
    facts = {f["name"]: f["value"] for f in teams_body["sections"][0]["facts"]}
    assert (facts["Cohort"], facts["About"]) == (harness.cohort_id, "pair-1")
