"""One message per fact whatever fails: replays, concurrent dispatchers, a dispatcher that dies
holding a claim."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from contracts import Envelope, decode, encode
from contracts.matching import PairConfirmed
from services.notifications.app import Notifications, build
from services.notifications.sink import MailSink
from tests.harness import metric
from tests.notifications.conftest import NotificationsHarness, PinnedClock, notifications_settings

pytestmark = pytest.mark.integration


@asynccontextmanager
async def replicas(infra: Any, unique: str, sink: MailSink, clock: PinnedClock, count: int
                   ) -> AsyncIterator[list[Notifications]]:
    """More instances on the same database, their dispatchers driven by the test."""
    settings = notifications_settings(infra, f"notifications-{unique}", sink)
    built = [build(settings, clock=clock, dispatching=False) for _ in range(count)]
    try:
        yield built
    finally:
        for n in built:
            await n.service.client.close()


async def pending(harness: NotificationsHarness, count: int) -> None:
    await harness.settled(lambda d: d["status"] == "pending", count=count,
                          what=f"{count} pending deliveries")


async def test_a_fact_applied_twice_claims_each_message_once(
        harness: NotificationsHarness) -> None:
    """Even past the inbox (a replay after its rows expired), the unique key holds."""
    await harness.open_cohort()
    await harness.enrol(harness.person("p-mentor"), harness.person("p-mentee", role="mentee"))
    confirmed = harness.fact(PairConfirmed, pair_id="pair-1", mentor_id="p-mentor",
                             mentee_id="p-mentee")
    env: Envelope = decode(encode(confirmed, source="/revmentor/matching").value)
    async with harness.n.service.outbox.transaction(env) as uow:
        await harness.n.commands.pair_confirmed(uow, env)
    await harness.mails_to("p-mentor@example.com", "p-mentee@example.com", count=2)
    async with harness.n.service.outbox.transaction(env) as uow:
        await harness.n.commands.pair_confirmed(uow, env)
    assert await harness.n.store.deliveries.count_documents(
        {"template": "pair_confirmed"}) == 2
    await harness.tick()
    assert len(harness.sink.to("p-mentor@example.com")) == 2


async def test_three_dispatchers_at_once_send_each_message_once(
        harness: NotificationsHarness, infra: Any, unique: str, sink: MailSink,
        clock: PinnedClock) -> None:
    await harness.n.dispatcher.stop()
    await harness.open_cohort()
    people = [harness.person(f"p-{i:02d}") for i in range(30)]
    await harness.announce(*people)
    await pending(harness, 30)
    async with replicas(infra, unique, sink, clock, 2) as (a, b):
        taken = await asyncio.gather(harness.n.dispatcher.tick(), a.dispatcher.tick(),
                                     b.dispatcher.tick())
    assert sum(taken) == 30
    assert sorted(len(sink.to(str(p.email))) for p in people) == [1] * 30


async def test_a_claim_left_by_a_dead_dispatcher_is_sent_once_after_it_expires(
        harness: NotificationsHarness) -> None:
    await harness.n.dispatcher.stop()
    await harness.open_cohort()
    await harness.announce(harness.person("p-lea"))
    await pending(harness, 1)
    [doc] = [d async for d in harness.n.store.deliveries.find({})]
    ttl = timedelta(seconds=harness.n.settings.dispatch_claim_ttl_s)
    assert await harness.n.store.take([doc["_id"]], harness.clock(), "dead-replica", ttl)
    assert await harness.n.dispatcher.tick() == 0
    harness.clock.advance(ttl + timedelta(milliseconds=1))
    assert await harness.n.dispatcher.tick() == 1
    assert await harness.n.dispatcher.tick() == 0
    [mail] = harness.sink.to("p-lea@example.com")
    assert mail["Message-ID"] == f"<{doc['_id']}@mentoring.example.com>"
    settled = await harness.n.store.deliveries.find_one({"_id": doc["_id"]})
    assert settled is not None
    assert (settled["status"], settled["attempts"]) == ("delivered", 2)


async def test_the_due_gauge_shows_what_waits_and_falls_to_zero_once_it_is_sent(
        harness: NotificationsHarness) -> None:
    """What operators (and the demo, before it counts the e-mails) watch for a dispatch
    backlog: deliveries due and not yet taken."""
    await harness.n.dispatcher.stop()
    await harness.open_cohort()
    people = [harness.person(f"p-{i}") for i in range(3)]
    await harness.announce(*people)
    await pending(harness, 3)
    assert metric(harness.n.service, "revmentor_notifications_due") == 0
    assert await harness.n.dispatcher.tick() == 3
    assert metric(harness.n.service, "revmentor_notifications_due") == 3
    assert await harness.n.dispatcher.tick() == 0
    assert metric(harness.n.service, "revmentor_notifications_due") == 0
    assert sorted(len(harness.sink.to(str(p.email))) for p in people) == [1, 1, 1]
