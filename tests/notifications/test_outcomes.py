"""What becomes of each try: facts with ids only, permanent and transient SMTP failures,
opt-outs, and a withdrawal that is confirmed and then leaves no trace of the person."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from contracts import encode
from contracts.enrolment import ParticipantWithdrawn
from contracts.matching import PairConfirmed
from contracts.notifications import NotificationDelivered, NotificationFailed
from contracts.topics import NOTIFICATIONS
from tests.harness import decoded, eventually, of_cohort, read_topic
from tests.notifications.conftest import TENANT, NotificationsHarness

pytestmark = pytest.mark.integration


async def test_a_delivery_is_announced_with_ids_only(harness: NotificationsHarness) -> None:
    await harness.open_cohort()
    lea = harness.person("p-lea")
    [record] = await harness.announce(encode(lea, source="/revmentor/enrolment"))
    await harness.mails_to(str(lea.email))
    [fact] = await read_topic(harness.bootstrap, NOTIFICATIONS, count=1,
                              keep=of_cohort(harness.cohort_id))
    [env] = decoded([fact])
    assert isinstance(env.event, NotificationDelivered)
    assert (env.event.recipient_id, env.event.template, env.event.channel.value,
            env.event.caused_by_event_id) == ("p-lea", "welcome", "email", record.event_id)
    assert b"@" not in fact.value and b"Person p-lea" not in fact.value


async def test_a_refused_address_fails_for_good_and_a_busy_server_is_tried_again(
        harness: NotificationsHarness) -> None:
    await harness.open_cohort()
    harness.sink.refuse("p-gone@example.com", "550 5.1.1 no such user")
    harness.sink.refuse("p-busy@example.com", "451 4.3.0 try again later", times=1)
    await harness.announce(harness.person("p-gone"), harness.person("p-busy"))
    [gone] = await harness.settled(lambda d: d["recipient_id"] == "p-gone" and
                                   d["status"] == "failed")
    [busy] = await harness.settled(lambda d: d["recipient_id"] == "p-busy" and
                                   d["attempts"] == 1 and d["status"] == "pending")
    assert (gone["attempts"], gone["last_error"]) == (1, "SMTP 550: recipient refused")
    assert busy["last_error"] == "SMTP 451: recipient refused"
    assert busy["due_at"] > harness.clock() + timedelta(seconds=29)
    harness.clock.advance(timedelta(seconds=61))
    await harness.tick()
    assert len(harness.sink.to("p-busy@example.com")) == 1
    facts = decoded(await read_topic(harness.bootstrap, NOTIFICATIONS, count=2,
                                     keep=of_cohort(harness.cohort_id)))
    failed = [e.event for e in facts if isinstance(e.event, NotificationFailed)]
    assert [(f.recipient_id, f.error, f.attempts) for f in failed] == [
        ("p-gone", "SMTP 550: recipient refused", 1)]


async def test_an_opt_out_silences_everything_but_the_withdrawal_confirmation(
        harness: NotificationsHarness) -> None:
    await harness.open_cohort()
    await harness.enrol(harness.person("p-mentor"), harness.person("p-mentee", role="mentee"))
    opted = await harness.http.put("/me/preferences", headers=harness.participant("p-mentee"),
                                   json={"email_opt_out": True})
    assert opted.json() == {"email_opt_out": True}
    await harness.announce(harness.fact(PairConfirmed, pair_id="pair-1", mentor_id="p-mentor",
                                        mentee_id="p-mentee"))
    await harness.mails_to("p-mentor@example.com", count=2)
    await harness.settled(lambda d: d["recipient_id"] == "p-mentee" and
                          d["template"] == "pair_confirmed" and d["status"] == "suppressed")
    await harness.announce(harness.fact(ParticipantWithdrawn, participant_id="p-mentee",
                                        role="mentee"))
    mails = await harness.mails_to("p-mentee@example.com", count=2)
    assert str(mails[1]["Subject"]).strip() == "You have left AI at work"


async def test_a_withdrawn_participant_is_confirmed_then_gone_from_every_collection(
        harness: NotificationsHarness) -> None:
    await harness.open_cohort()
    lea = harness.person("p-lea")
    await harness.enrol(lea, harness.person("p-mentee", role="mentee"))
    await harness.announce(harness.fact(ParticipantWithdrawn, participant_id="p-lea",
                                        role="mentor"))
    await harness.mails_to(str(lea.email), count=2)

    async def erased() -> bool:
        for name in await harness.n.service.db.list_collection_names():
            async for doc in harness.n.service.db[name].find({}):
                text = json.dumps(doc, default=str)
                if str(lea.email) in text or str(lea.name) in text:
                    return False
        return True

    await eventually(erased, what="the address and name to be erased")
    mentee = await harness.n.directory.recipients([(TENANT, harness.cohort_id, "p-mentee")])
    assert list(mentee) == [(TENANT, harness.cohort_id, "p-mentee")]


async def test_a_tombstone_before_the_withdrawal_still_lets_the_confirmation_out(
        harness: NotificationsHarness) -> None:
    await harness.open_cohort()
    await harness.enrol(harness.person("p-lea"), harness.person("p-max"))
    async with harness.n.service.outbox.transaction() as uow:
        await harness.n.commands.profiles_erased(uow, [(harness.cohort_id, "p-lea"),
                                                       (harness.cohort_id, "p-max")])
    await harness.announce(harness.fact(ParticipantWithdrawn, participant_id="p-lea",
                                        role="mentor"))
    await harness.mails_to("p-lea@example.com", count=2)
    keys = [(TENANT, harness.cohort_id, p) for p in ("p-lea", "p-max")]

    async def lea_erased() -> bool:
        return list(await harness.n.directory.recipients(keys)) == [keys[1]]

    await eventually(lea_erased, what="p-lea's entry to be erased after the confirmation")
    harness.clock.advance(timedelta(seconds=harness.n.settings.erase_grace_s))
    await harness.tick()
    assert await harness.n.directory.recipients(keys) == {}
