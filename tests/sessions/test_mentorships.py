"""Mentorships as admins and members see them, an admin ending one, and bodies too large."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from contracts.sessions import (
    CancellationReason,
    CancelledBy,
    MentorshipCompleted,
    MentorshipOutcome,
    SessionCancelled,
)
from tests.sessions.conftest import MENTEE, MENTOR, SessionsHarness
from tests.sessions.test_scheduling import problem_of

pytestmark = pytest.mark.integration


async def test_admins_list_a_cohorts_mentorships_and_members_their_own(
    harness: SessionsHarness,
):
    h = harness
    await h.open_cohort(session_target=4)
    first = await h.mentorship()
    second = await h.mentorship(mentor="e-1002", mentee="e-2002")
    await h.http.post(f"/mentorships/{second}/end", json={"reason": "moved_role"},
                      headers=h.admin())
    listed = await h.http.get(f"/cohorts/{h.cohort_id}/mentorships", headers=h.admin())
    assert sorted(m["pair_id"] for m in listed.json()) == sorted([first, second])
    url = f"/cohorts/{h.cohort_id}/mentorships"
    page = (await h.http.get(url, params={"limit": 1}, headers=h.admin())).json()
    rest = (await h.http.get(url, params={"limit": 1, "after": page[0]["pair_id"]},
                             headers=h.admin())).json()
    assert [m["pair_id"] for m in page + rest] == sorted([first, second])
    assert (await h.http.get(url, params={"limit": 501}, headers=h.admin())).status_code == 422
    active = await h.http.get(f"/cohorts/{h.cohort_id}/mentorships?status=active",
                              headers=h.admin())
    assert [m["pair_id"] for m in active.json()] == [first]
    mine = await h.http.get("/me/mentorships", headers=h.participant(MENTEE))
    [own] = mine.json()
    assert (own["pair_id"], own["mentor_id"], own["session_target"], own["status"]) == (
        first, MENTOR, 4, "active")
    read = await h.http.get(f"/mentorships/{first}", headers=h.participant(MENTOR))
    assert read.json() == own
    problem_of(await h.http.get("/cohorts/no-such-cohort/mentorships", headers=h.admin()),
               404, "cohort-not-found")
    forbidden = await h.http.get(f"/cohorts/{h.cohort_id}/mentorships",
                                 headers=h.participant(MENTOR))
    assert forbidden.status_code == 403


async def test_an_admin_ends_a_mentorship_with_a_reason_code_and_its_sessions_are_cancelled(
    harness: SessionsHarness,
):
    h = harness
    await h.open_cohort()
    pair_id = await h.mentorship()
    session = await h.schedule(pair_id)
    url = f"/mentorships/{pair_id}/end"
    free_text = await h.http.post(url, json={"reason": "Lea was unhappy with Max"},
                                  headers=h.admin())
    assert free_text.status_code == 422
    by_member = await h.http.post(url, json={"reason": "done"}, headers=h.participant(MENTOR))
    assert by_member.status_code == 403
    ended = await h.http.post(url, json={"reason": "moved_role"}, headers=h.admin())
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["end_reason"]) == ("ended_early", "moved_role")
    problem_of(await h.http.post(url, json={"reason": "moved_role"}, headers=h.admin()),
               409, "mentorship-ended")
    events = [e.event for e in await h.events(count=3)][1:]
    cancelled, completed = events
    assert isinstance(cancelled, SessionCancelled)
    assert (cancelled.session_id, cancelled.cancelled_by, cancelled.cancelled_by_id,
            cancelled.reason) == (session["session_id"], CancelledBy.ADMIN, None,
                                  CancellationReason.MENTORSHIP_ENDED)
    assert isinstance(completed, MentorshipCompleted)
    assert (completed.outcome, completed.reason, completed.sessions_held) == (
        MentorshipOutcome.ENDED_EARLY, "moved_role", 0)


async def test_scheduling_on_an_ended_mentorship_is_refused(harness: SessionsHarness):
    h = harness
    await h.open_cohort()
    pair_id = await h.mentorship()
    await h.http.post(f"/mentorships/{pair_id}/end", json={"reason": "moved_role"},
                      headers=h.admin())
    response = await h.http.post(f"/mentorships/{pair_id}/sessions", json=h.plan(),
                                 headers=h.participant(MENTEE))
    body = problem_of(response, 409, "mentorship-ended")
    assert body["mentorship_status"] == "ended_early"


async def test_a_body_beyond_the_limit_is_refused_with_413_however_it_is_sent(
    harness: SessionsHarness,
):
    h = harness
    await h.open_cohort()
    pair_id = await h.mentorship()
    limit = h.sessions.settings.http_max_body_bytes
    padded = {**h.plan(), "agenda": "x" * (limit + 1)}
    declared = await h.http.post(f"/mentorships/{pair_id}/sessions", json=padded,
                                 headers=h.participant(MENTEE))
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"agenda": "'
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000
        yield b'"}'

    chunked = await h.http.post(f"/mentorships/{pair_id}/sessions", content=chunks(),
                                headers={**h.participant(MENTEE),
                                         "content-type": "application/json"})
    assert chunked.status_code == 413
    assert chunked.headers["content-type"] == "application/problem+json"
    assert chunked.json()["title"] == declared.json()["title"]
    assert (await h.http.get(f"/mentorships/{pair_id}/sessions", headers=h.admin())
            ).json() == []
