"""Scheduled messages on the injected clock: reminders, feedback requests and nudges are
deliveries with a due time, sent once when the pinned clock reaches it, also after a restart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contracts.matching import PairAccepted, PairProposed
from contracts.sessions import SessionCancelled, SessionScheduled
from services.notifications.app import build
from services.notifications.sink import MailSink
from tests.harness import eventually
from tests.notifications.conftest import NotificationsHarness, PinnedClock, notifications_settings

pytestmark = pytest.mark.integration


def subjects(harness: NotificationsHarness, address: str) -> list[str]:
    return [str(m["Subject"]).strip() for m in harness.sink.to(address)]


async def pair(harness: NotificationsHarness) -> None:
    await harness.open_cohort()
    await harness.enrol(harness.person("p-mentor"), harness.person("p-mentee", role="mentee"))


def session_in(harness: NotificationsHarness, delta: timedelta, session_id: str = "sess-1"
               ) -> SessionScheduled:
    return harness.fact(SessionScheduled, session_id=session_id, pair_id="pair-1",
                        mentor_id="p-mentor", mentee_id="p-mentee",
                        starts_at=(harness.clock() + delta).isoformat(), duration_minutes=60)


async def due_count(harness: NotificationsHarness, template: str, status: str) -> int:
    return await harness.n.store.deliveries.count_documents(
        {"template": template, "status": status})


async def test_the_reminder_goes_out_24_hours_before_the_session_not_earlier(
        harness: NotificationsHarness) -> None:
    await pair(harness)
    await harness.announce(session_in(harness, timedelta(days=3)))
    await harness.mails_to("p-mentor@example.com", "p-mentee@example.com", count=2)
    harness.clock.advance(timedelta(days=2) - timedelta(minutes=1))
    await harness.tick()
    assert await due_count(harness, "session_reminder", "pending") == 2
    harness.clock.advance(timedelta(minutes=1))
    await harness.tick()
    await harness.mails_to("p-mentor@example.com", "p-mentee@example.com", count=3)
    assert subjects(harness, "p-mentee@example.com")[2].startswith("Reminder: your session")
    harness.clock.advance(timedelta(hours=1))
    await harness.tick()
    assert len(harness.sink.to("p-mentee@example.com")) == 3


async def test_the_feedback_request_follows_the_planned_end_and_a_cancellation_stops_both(
        harness: NotificationsHarness) -> None:
    await pair(harness)
    await harness.announce(session_in(harness, timedelta(days=3)),
                           session_in(harness, timedelta(days=4), session_id="sess-2"))
    await harness.mails_to("p-mentor@example.com", count=3)
    await harness.announce(harness.fact(SessionCancelled, session_id="sess-2",
                                        pair_id="pair-1"))
    await harness.mails_to("p-mentor@example.com", count=4)
    harness.clock.advance(timedelta(days=3, minutes=90))
    await harness.tick()
    await harness.mails_to("p-mentor@example.com", count=6)
    mentor = subjects(harness, "p-mentor@example.com")
    assert [s.split(":")[0].split(" ")[0] for s in mentor] == [
        "Welcome", "Session", "Session", "Session", "Reminder", "How"]
    harness.clock.advance(timedelta(days=2))
    await harness.tick()
    assert len(harness.sink.to("p-mentor@example.com")) == 6
    assert await due_count(harness, "session_reminder", "cancelled") == 2
    assert await due_count(harness, "feedback_request", "cancelled") == 2


async def test_a_nudge_reaches_only_the_side_that_has_not_answered(
        harness: NotificationsHarness) -> None:
    await pair(harness)
    proposed = harness.fact(PairProposed, pair_id="pair-1", mentor_id="p-mentor",
                            mentee_id="p-mentee", proposed_at=harness.clock().isoformat())
    await harness.announce(proposed)
    await harness.mails_to("p-mentor@example.com", "p-mentee@example.com", count=2)
    await harness.announce(harness.fact(PairAccepted, pair_id="pair-1", mentor_id="p-mentor",
                                        mentee_id="p-mentee", by_participant_id="p-mentee",
                                        by_role="mentee",
                                        accepted_at=harness.clock().isoformat()))

    async def answered() -> bool:
        return await due_count(harness, "pair_nudge", "cancelled") == 1

    await eventually(answered, what="the mentee's nudge to be cancelled")
    harness.clock.advance(timedelta(days=3))
    await harness.tick()
    await harness.mails_to("p-mentor@example.com", count=3)
    assert subjects(harness, "p-mentor@example.com")[2] == (
        "Your proposed mentee is waiting for your answer")
    assert len(harness.sink.to("p-mentee@example.com")) == 2


async def test_a_reminder_scheduled_before_a_restart_is_sent_once_after_it(
        harness: NotificationsHarness, infra: Any, unique: str, sink: MailSink,
        clock: PinnedClock) -> None:
    await pair(harness)
    await harness.announce(session_in(harness, timedelta(days=3)))
    await harness.mails_to("p-mentor@example.com", "p-mentee@example.com", count=2)
    await harness.n.service.stop()  # the harness's lifespan stops it again: a no-op
    clock.advance(timedelta(days=2, hours=1))
    settings = notifications_settings(infra, f"notifications-{unique}", sink)
    again, twin = build(settings, clock=clock), build(settings, clock=clock)
    async with again.app.router.lifespan_context(again.app), \
            twin.app.router.lifespan_context(twin.app):
        await harness.mails_to("p-mentor@example.com", "p-mentee@example.com", count=3)
        await again.dispatcher.tick()
        await twin.dispatcher.tick()
    assert len(harness.sink.to("p-mentor@example.com")) == 3
    assert len(harness.sink.to("p-mentee@example.com")) == 3
