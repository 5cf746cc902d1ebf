"""Cancelling what waits for a session costs the same however many deliveries the service holds:
found through the subject's index, written by id, and nothing written when nothing waits (the
embedded database scanned every delivery for each session event, in the consumer's
transaction, and a 500-person programme's session events took minutes). Never hinted: the
embedded database answers a hinted find by walking the whole index."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications.domain import Channel, Delivery, Template
from tests.harness import COMMANDS
from tests.notifications.conftest import TENANT, NotificationsHarness

pytestmark = pytest.mark.integration


REMINDER = Template.SESSION_REMINDER.value


def waiting(harness: NotificationsHarness, session_id: str, recipient: str) -> Delivery:
    return Delivery(TENANT, harness.cohort_id, Channel.EMAIL, recipient, REMINDER,
                    f"cause-{session_id}", harness.clock() + timedelta(days=1),
                    subject_id=session_id)


async def test_a_session_with_nothing_waiting_reads_its_index_and_writes_nothing(
        harness: NotificationsHarness) -> None:
    store, now = harness.n.store, harness.clock()
    others = [waiting(harness, f"sess-{i}", f"p-{i}") for i in range(200)]
    mine = [waiting(harness, "sess-mine", who) for who in ("p-mentor", "p-mentee")]
    async with harness.n.service.outbox.transaction() as uow:
        await store.claim(others + mine, now, uow.session)
    await harness.n.dispatcher.stop()
    with COMMANDS.recording():
        async with harness.n.service.outbox.transaction() as uow:
            nothing = await store.cancel(TENANT, harness.cohort_id, templates=[REMINDER],
                                         subject_id="sess-new", now=now, session=uow.session)
    sent = [e.command_name + (" hinted" if "hint" in e.command else "")
            for e in COMMANDS.sent_to(collection="deliveries")]
    assert (nothing, sent) == (0, ["find"])
    async with harness.n.service.outbox.transaction() as uow:
        cancelled = await store.cancel(TENANT, harness.cohort_id, templates=[REMINDER],
                                       subject_id="sess-mine", now=now, session=uow.session)
    assert cancelled == 2
    statuses = {d["_id"]: d["status"] async for d in store.deliveries.find({})}
    assert sorted(statuses[d.delivery_id] for d in mine) == ["cancelled", "cancelled"]
    assert {statuses[d.delivery_id] for d in others} == {"pending"}
