"""From a confirmed pair to a completed mentorship, over the real broker: what the sessions
service consumes, and what a plain Kafka consumer reads from it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts import encode
from contracts.sessions import (
    CancellationReason,
    CancelledBy,
    MentorshipCompleted,
    MentorshipOutcome,
    SessionCancelled,
    SessionCompleted,
    SessionFeedback,
    SessionScheduled,
)
from tests.harness import metric
from tests.sessions.conftest import MENTEE, MENTOR, SessionsHarness

pytestmark = pytest.mark.integration


async def test_two_held_sessions_with_feedback_from_both_complete_a_mentorship_of_target_two(
    harness: SessionsHarness,
):
    h = harness
    await h.open_cohort(session_target=2)
    pair_id = await h.mentorship()

    first = await h.schedule(pair_id, by=MENTEE, in_hours=2)
    await h.held(first["session_id"], by=MENTOR)
    assert (await h.feedback(first["session_id"], MENTOR, rating=4,
                             topics=("negotiation",))).status_code == 201
    assert (await h.feedback(first["session_id"], MENTEE, rating=5,
                             topics=("genai", "prompting"))).status_code == 201
    h.clock.advance(timedelta(days=14))
    second = await h.schedule(pair_id, by=MENTOR, in_hours=3)
    await h.held(second["session_id"], by=MENTEE)
    for side in (MENTOR, MENTEE):
        assert (await h.feedback(second["session_id"], side)).status_code == 201

    events = [e.event for e in await h.events(count=5)]
    assert [type(e) for e in events] == [SessionScheduled, SessionCompleted, SessionScheduled,
                                         MentorshipCompleted, SessionCompleted]
    scheduled, completed, _, ended, last = events
    assert isinstance(scheduled, SessionScheduled)
    assert (scheduled.session_id, scheduled.sequence, scheduled.revision, scheduled.format.value,
            scheduled.duration_minutes) == (first["session_id"], 1, 0, "video", 60)
    assert isinstance(completed, SessionCompleted)
    assert completed.mentor_feedback == SessionFeedback(
        rating=4, learned_something=True, topics=["negotiation"])
    assert completed.mentee_feedback == SessionFeedback(
        rating=5, learned_something=True, topics=["genai", "prompting"])
    assert isinstance(ended, MentorshipCompleted)
    assert (ended.pair_id, ended.outcome, ended.sessions_held, ended.reason) == (
        pair_id, MentorshipOutcome.COMPLETED, 2, None)
    assert isinstance(last, SessionCompleted) and last.session_id == second["session_id"]
    mentorship = (await h.http.get(f"/mentorships/{pair_id}", headers=h.admin())).json()
    assert (mentorship["status"], mentorship["sessions_held"]) == ("completed", 2)


async def test_reaching_the_target_cancels_the_sessions_still_scheduled(harness: SessionsHarness):
    h = harness
    await h.open_cohort(session_target=1)
    pair_id = await h.mentorship()
    first = await h.schedule(pair_id, in_hours=1)
    later = await h.schedule(pair_id, in_hours=48)
    await h.held(first["session_id"])
    events = [e.event for e in await h.events(count=4)]
    assert [type(e) for e in events] == [SessionScheduled, SessionScheduled, SessionCancelled,
                                         MentorshipCompleted]
    cancelled = events[2]
    assert isinstance(cancelled, SessionCancelled)
    assert (cancelled.session_id, cancelled.cancelled_by, cancelled.reason) == (
        later["session_id"], CancelledBy.SYSTEM, CancellationReason.MENTORSHIP_ENDED)


async def test_redelivered_confirmations_and_withdrawals_change_nothing(harness: SessionsHarness):
    h = harness
    await h.open_cohort()
    confirmed = h.confirmed()
    record = encode(confirmed, source="/revmentor/matching")
    await h.send(record.topic, record.value, record.key, record.headers)
    await h.known(confirmed.tenant_id, confirmed.pair_id)
    session = await h.schedule(confirmed.pair_id)

    await h.send(record.topic, record.value, record.key, record.headers)  # the same event again
    await h.announce(confirmed)  # the same fact under a new event id
    withdrawn = encode(h.withdrawal(MENTEE), source="/revmentor/enrolment")
    for _ in range(2):
        await h.send(withdrawn.topic, withdrawn.value, withdrawn.key, withdrawn.headers)
    await h.announce(h.withdrawal(MENTEE))
    # a later fact on the same partitions: once it is applied, everything before it is too
    sentinel = await h.mentorship(mentor="e-1002", mentee="e-2002")
    ended = await h.http.post(f"/mentorships/{sentinel}/end", json={"reason": "sentinel"},
                              headers=h.admin())
    assert ended.status_code == 200, ended.text

    events = [e.event for e in await h.events(count=4)]
    assert [type(e) for e in events] == [SessionScheduled, SessionCancelled,
                                         MentorshipCompleted, MentorshipCompleted]
    assert [getattr(e, "pair_id", None) for e in events] == [confirmed.pair_id] * 3 + [sentinel]
    stored = await h.sessions.store.mentorship(confirmed.tenant_id, confirmed.pair_id)
    assert stored is not None
    assert (stored.status.value, stored.sessions_planned) == ("ended_early", 1)
    cancelled = await h.sessions.store.session(confirmed.tenant_id, session["session_id"])
    assert cancelled is not None and cancelled.status.value == "cancelled"
    assert metric(h.sessions.service, "revmentor_events_duplicate_total") == 2


async def test_a_confirmation_arriving_after_the_members_withdrawal_ends_at_once(
    harness: SessionsHarness,
):
    h = harness
    await h.open_cohort()
    confirmed = h.confirmed()
    later = h.withdrawal(MENTOR, role="mentor")
    await h.announce(later)
    await h.announce(confirmed)
    await h.known(confirmed.tenant_id, confirmed.pair_id)
    [ended] = [e.event for e in await h.events(count=1)]
    assert isinstance(ended, MentorshipCompleted)
    assert (ended.pair_id, ended.outcome, ended.reason) == (
        confirmed.pair_id, MentorshipOutcome.ENDED_EARLY, "participant_withdrawn")
