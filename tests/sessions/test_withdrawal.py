"""A withdrawal ends the person's mentorships in that cohort, cancels what is open and erases
their words; the numbers stay. A participant id is a directory id: the same in every cohort the
person joins and not unique across business units, so nothing elsewhere changes."""

from __future__ import annotations

import pytest

from contracts.sessions import (
    CancellationReason,
    CancelledBy,
    MentorshipCompleted,
    MentorshipOutcome,
    SessionCancelled,
    SessionCompleted,
    SessionScheduled,
)
from tests.harness import BU_INSURANCE, BU_RETAIL, eventually
from tests.sessions.conftest import MENTEE, MENTOR, SessionsHarness
from tests.sessions.test_scheduling import problem_of

pytestmark = pytest.mark.integration


async def ended(h: SessionsHarness, tenant: str, pair_id: str) -> None:
    async def is_ended() -> bool:
        m = await h.sessions.store.mentorship(tenant, pair_id)
        return m is not None and m.status.value == "ended_early"

    await eventually(is_ended, what=f"mentorship {pair_id} to end")


async def notes_of(h: SessionsHarness, cohort_id: str, author: str) -> list[str]:
    cursor = h.sessions.store.notes.find({"cohort_id": cohort_id, "author_id": author})
    return [d["text"] async for d in cursor]


async def test_a_withdrawal_ends_the_mentorship_cancels_what_is_open_and_erases_their_words(
    harness: SessionsHarness,
):
    h = harness
    await h.open_cohort(session_target=5)
    pair_id = await h.mentorship()
    first = await h.schedule(pair_id, in_hours=1)
    await h.held(first["session_id"])
    await h.feedback(first["session_id"], MENTEE, rating=2, note="mentee's own words")
    await h.feedback(first["session_id"], MENTOR, rating=4, note="mentor's own words")
    second = await h.schedule(pair_id, in_hours=2)
    await h.held(second["session_id"])
    upcoming = await h.schedule(pair_id, in_hours=48)

    await h.announce(h.withdrawal(MENTEE))
    await ended(h, BU_RETAIL, pair_id)

    events = [e.event for e in await h.events(count=6)]
    assert [type(e) for e in events] == [SessionScheduled, SessionCompleted, SessionScheduled,
                                         SessionScheduled, SessionCancelled,
                                         MentorshipCompleted]
    cancelled, completed = events[-2:]
    assert isinstance(cancelled, SessionCancelled)
    assert (cancelled.session_id, cancelled.cancelled_by, cancelled.reason) == (
        upcoming["session_id"], CancelledBy.SYSTEM, CancellationReason.PARTICIPANT_WITHDRAWN)
    assert isinstance(completed, MentorshipCompleted)
    assert (completed.outcome, completed.reason, completed.sessions_held) == (
        MentorshipOutcome.ENDED_EARLY, "participant_withdrawn", 2)

    assert await notes_of(h, h.cohort_id, MENTEE) == []
    assert await notes_of(h, h.cohort_id, MENTOR) == ["mentor's own words"]
    for session in (first, upcoming):
        view = await h.http.get(f"/sessions/{session['session_id']}",
                                headers=h.participant(MENTOR))
        assert view.json()["details"] == {"location": None, "video_link": None, "agenda": None}
    kpis = (await h.http.get(f"/cohorts/{h.cohort_id}/kpis", headers=h.admin())).json()
    assert kpis["average_rating"] == {"mentor": 4.0, "mentee": 2.0, "mentor_feedback": 1,
                                      "mentee_feedback": 1}, "the numbers stay"
    late = await h.feedback(second["session_id"], MENTEE)
    problem_of(late, 409, "participant-withdrawn")
    assert (await h.feedback(second["session_id"], MENTOR)).status_code == 201


async def test_withdrawing_from_one_cohort_leaves_the_persons_mentorships_in_every_other(
    harness: SessionsHarness,
):
    h = harness
    left, same_unit, other_unit = (f"{h.cohort_id}-{n}" for n in ("left", "same", "other"))
    pairs = {}
    for tenant, cohort_id in ((BU_RETAIL, left), (BU_RETAIL, same_unit),
                              (BU_INSURANCE, other_unit)):
        await h.open_cohort(cohort_id, tenant)
        pairs[cohort_id] = await h.mentorship(cohort_id, tenant)
        await h.schedule(pairs[cohort_id], tenant=tenant)
    kept = await h.schedule(pairs[same_unit], in_hours=3)
    await h.held(kept["session_id"])
    await h.feedback(kept["session_id"], MENTEE, note="kept in the other cohort")

    await h.announce(h.withdrawal(MENTEE, left))
    await ended(h, BU_RETAIL, pairs[left])

    # the withdrawal's transaction has committed: whatever it changed elsewhere is visible now
    for tenant, cohort_id in ((BU_RETAIL, same_unit), (BU_INSURANCE, other_unit)):
        m = await h.sessions.store.mentorship(tenant, pairs[cohort_id])
        assert m is not None and m.status.value == "active"
        sessions = await h.sessions.store.sessions_of(m)
        assert "cancelled" not in [s.status.value for s in sessions]
        assert all(s.plan.agenda == "Prompting basics" for s in sessions)
    assert await notes_of(h, same_unit, MENTEE) == ["kept in the other cohort"]
    # a later event in each cohort: a cancellation caused by the withdrawal would precede it
    for tenant, cohort_id, before in ((BU_RETAIL, same_unit, 2), (BU_INSURANCE, other_unit, 1)):
        sentinel = await h.schedule(pairs[cohort_id], tenant=tenant, in_hours=10)
        events = [e.event for e in await h.events(count=before + 1, cohort_id=cohort_id)]
        assert [type(e) for e in events] == [SessionScheduled] * (before + 1)
        last = events[-1]
        assert isinstance(last, SessionScheduled) and last.session_id == sentinel["session_id"]


async def test_someone_who_left_after_completing_gives_no_more_feedback(
    harness: SessionsHarness,
):
    h = harness
    await h.open_cohort(session_target=1)
    pair_id = await h.mentorship()
    session = await h.schedule(pair_id)
    await h.held(session["session_id"])
    await h.announce(h.withdrawal(MENTEE))

    async def recorded() -> bool:
        people = await h.sessions.store.people_of(BU_RETAIL, h.cohort_id, [MENTEE], None)
        return "withdrawn_at" in people.get(MENTEE, {})

    await eventually(recorded, what="the withdrawal to be recorded")
    problem_of(await h.feedback(session["session_id"], MENTEE, note="after leaving"), 409,
               "participant-withdrawn")
    assert await notes_of(h, h.cohort_id, MENTEE) == []
    assert (await h.feedback(session["session_id"], MENTOR)).status_code == 201
