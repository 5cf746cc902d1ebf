"""Which deliveries a fact causes and when they are due (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts import Envelope, decode, encode
from contracts.base import Event
from contracts.matching import PairProposed
from contracts.notifications import Channel, NotificationDelivered, NotificationFailed
from contracts.sessions import SessionFormat, SessionScheduled
from services.notifications.domain import (
    Delivery,
    DeliveryStatus,
    Outcome,
    RetryPolicy,
    SessionSlot,
    delivery_id,
    settle,
)
from services.notifications.planning import Planner, Timing
from tests.harness import example

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
PLANNER = Planner(Timing(reminder_hours_before=24, nudge_after_days=3,
                         feedback_delay_minutes=30))


def envelope(event: Event, at: datetime = NOW) -> Envelope:
    return decode(encode(event, source="/test", time=at).value)


def scheduled(starts_at: datetime) -> SessionScheduled:
    return example(SessionScheduled, starts_at=starts_at.isoformat(), duration_minutes=60)


def by_template(deliveries: list[Delivery]) -> dict[str, list[datetime]]:
    found: dict[str, list[datetime]] = {}
    for d in deliveries:
        found.setdefault(d.template, []).append(d.due_at)
    return found


def test_a_session_brings_an_invitation_now_a_reminder_a_day_before_and_feedback_after() -> None:
    starts = NOW + timedelta(days=5)
    event = scheduled(starts)
    slot, deliveries = PLANNER.session_scheduled(envelope(event), event, None, NOW)
    assert by_template(deliveries) == {
        "session_scheduled": [NOW, NOW],
        "session_reminder": [starts - timedelta(hours=24)] * 2,
        "feedback_request": [starts + timedelta(minutes=90)] * 2,
    }
    assert {d.recipient_id for d in deliveries} == {event.mentor_id, event.mentee_id}
    assert slot.revision == 1  # the contract example is a rescheduled session


def test_a_session_within_a_day_is_reminded_now_and_a_past_one_not_at_all() -> None:
    soon = scheduled(NOW + timedelta(hours=3))
    _, deliveries = PLANNER.session_scheduled(envelope(soon), soon, None, NOW)
    assert by_template(deliveries)["session_reminder"] == [NOW, NOW]
    past = scheduled(NOW - timedelta(hours=3))
    _, deliveries = PLANNER.session_scheduled(envelope(past), past, None, NOW)
    assert "session_reminder" not in by_template(deliveries)


def test_a_second_schedule_is_a_reschedule_with_the_next_revision() -> None:
    event = scheduled(NOW + timedelta(days=5))
    previous = SessionSlot(event.tenant_id, event.cohort_id, event.session_id, event.pair_id,
                           event.mentor_id, event.mentee_id, NOW + timedelta(days=4), 60,
                           SessionFormat.VIDEO, revision=2)
    slot, deliveries = PLANNER.session_scheduled(envelope(event), event, previous, NOW)
    assert slot.revision == 3
    moved = [d for d in deliveries if d.template == "session_rescheduled"]
    assert [d.context["previous_starts_at"] for d in moved] == [previous.starts_at] * 2
    assert {d.context["revision"] for d in deliveries} == {3}


def test_a_proposal_explains_its_top_three_factors_from_each_sides_view_and_nudges_later(
        ) -> None:
    event = example(PairProposed, proposed_at=NOW.isoformat())
    deliveries = PLANNER.pair_proposed(envelope(event), event, NOW)
    mentor = next(d for d in deliveries if d.template == "pair_proposed"
                  and d.recipient_id == event.mentor_id)
    assert [f["factor"] for f in mentor.context["top_factors"]] == [
        "topic_fit", "cross_department", "reverse_topic_fit"]
    assert (mentor.context["teaches"], mentor.context["learns"]) == (["genai"], ["negotiation"])
    mentee = next(d for d in deliveries if d.template == "pair_proposed"
                  and d.recipient_id == event.mentee_id)
    assert (mentee.context["teaches"], mentee.context["learns"]) == (["negotiation"], ["genai"])
    assert by_template(deliveries)["pair_nudge"] == [NOW + timedelta(days=3)] * 2


def test_a_fact_older_than_a_week_is_no_news() -> None:
    event = example(PairProposed)
    assert PLANNER.is_news(envelope(event, NOW - timedelta(days=6)), NOW)
    assert not PLANNER.is_news(envelope(event, NOW - timedelta(days=8)), NOW)


def test_a_delivery_has_one_id_per_channel_recipient_template_and_cause() -> None:
    one = delivery_id(Channel.EMAIL, "p-1", "welcome", "event-1")
    assert one == delivery_id(Channel.EMAIL, "p-1", "welcome", "event-1")
    assert len({one, delivery_id(Channel.WEBHOOK, "p-1", "welcome", "event-1"),
                delivery_id(Channel.EMAIL, "p-2", "welcome", "event-1"),
                delivery_id(Channel.EMAIL, "p-1", "pair_nudge", "event-1"),
                delivery_id(Channel.EMAIL, "p-1", "welcome", "event-2")}) == 5


def test_a_try_is_retried_with_growing_backoff_until_the_attempts_are_used() -> None:
    policy = RetryPolicy(attempts=3, initial_backoff_s=10, max_backoff_s=25)
    d = Delivery("bu", "coh", Channel.EMAIL, "p-1", "welcome", "event-1", NOW)
    waits = []
    for attempt in (1, 2):
        d.attempts = attempt
        assert settle(d, Outcome.transient("SMTP 451"), NOW, policy) is None
        assert d.status is DeliveryStatus.PENDING
        waits.append((d.due_at - NOW).total_seconds())
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20
    d.attempts = 3
    failed = settle(d, Outcome.transient("SMTP 451"), NOW, policy)
    assert isinstance(failed, NotificationFailed)
    assert (failed.attempts, failed.error, d.status) == (3, "SMTP 451", DeliveryStatus.FAILED)
    fresh = Delivery("bu", "coh", Channel.EMAIL, "p-1", "welcome", "event-2", NOW, attempts=1)
    assert isinstance(settle(fresh, Outcome.refused("SMTP 550"), NOW, policy),
                      NotificationFailed)
    ok = Delivery("bu", "coh", Channel.EMAIL, "p-1", "welcome", "event-3", NOW, attempts=1)
    delivered = settle(ok, Outcome.sent(), NOW, policy)
    assert isinstance(delivered, NotificationDelivered)
    assert delivered.notification_id == ok.delivery_id
