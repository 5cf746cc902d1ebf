"""Scheduling, rescheduling and cancelling sessions over HTTP, and every plan that is refused."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from contracts.sessions import CancellationReason, CancelledBy, SessionCancelled, SessionScheduled
from tests.sessions.conftest import MENTEE, MENTOR, SessionsHarness

pytestmark = pytest.mark.integration


async def ready(h: SessionsHarness) -> str:
    await h.open_cohort()
    return await h.mentorship()


def problem_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = dict(response.json())
    assert body["type"] == f"urn:revmentor:problem:{code}"
    return body


async def test_a_member_schedules_a_session_both_members_see_its_details_and_admins_do_not(
    harness: SessionsHarness,
):
    h = harness
    pair_id = await ready(h)
    created = await h.schedule(pair_id, by=MENTEE, in_hours=2)
    assert (created["sequence"], created["revision"], created["status"]) == (1, 0, "scheduled")
    assert created["details"] == {"location": None, "video_link": "https://meet.example.com/rm-1",
                                  "agenda": "Prompting basics"}
    url = f"/sessions/{created['session_id']}"
    partner = (await h.http.get(url, headers=h.participant(MENTOR))).json()
    assert partner["details"] == created["details"]
    admin = (await h.http.get(url, headers=h.admin())).json()
    assert admin["details"] is None
    listed = (await h.http.get(f"/mentorships/{pair_id}/sessions", headers=h.admin())).json()
    assert [s["session_id"] for s in listed] == [created["session_id"]]
    [event] = [e.event for e in await h.events(count=1)]
    assert isinstance(event, SessionScheduled)
    assert (event.session_id, event.pair_id, event.mentor_id, event.mentee_id, event.video_link,
            event.location) == (created["session_id"], pair_id, MENTOR, MENTEE, None, None)


async def test_a_start_in_the_past_is_refused_with_the_earliest_allowed_start(
    harness: SessionsHarness,
):
    h = harness
    pair_id = await ready(h)
    response = await h.http.post(f"/mentorships/{pair_id}/sessions",
                                 json=h.plan(in_hours=-1), headers=h.participant(MENTEE))
    body = problem_of(response, 422, "start-in-past")
    assert body["earliest"] == (h.clock.now - timedelta(minutes=5)).isoformat()
    skewed = await h.http.post(f"/mentorships/{pair_id}/sessions",
                               json=h.plan(in_hours=-0.05), headers=h.participant(MENTEE))
    assert skewed.status_code == 201, "three minutes of clock skew are tolerated"


async def test_a_start_more_than_a_year_ahead_is_refused(harness: SessionsHarness):
    h = harness
    pair_id = await ready(h)
    response = await h.http.post(f"/mentorships/{pair_id}/sessions",
                                 json=h.plan(in_hours=24 * 367), headers=h.participant(MENTEE))
    body = problem_of(response, 422, "start-too-far-ahead")
    assert body["latest"] == (h.clock.now + timedelta(days=366)).isoformat()


@pytest.mark.parametrize("minutes", [0, 14, 241, 10_000])
async def test_a_duration_out_of_range_is_refused_with_the_allowed_range(
    harness: SessionsHarness, minutes: int
):
    h = harness
    pair_id = await ready(h)
    response = await h.http.post(f"/mentorships/{pair_id}/sessions",
                                 json=h.plan(duration_minutes=minutes),
                                 headers=h.participant(MENTEE))
    body = problem_of(response, 422, "duration-out-of-range")
    assert body["allowed_minutes"] == {"min": 15, "max": 240}


async def test_a_video_session_needs_a_link_and_an_in_person_one_a_place(
    harness: SessionsHarness,
):
    h = harness
    pair_id = await ready(h)
    url, who = f"/mentorships/{pair_id}/sessions", h.participant(MENTEE)
    no_link = await h.http.post(url, json=h.plan(video_link=None), headers=who)
    problem_of(no_link, 422, "video-link-required")
    no_place = await h.http.post(url, json=h.plan(format="in_person", video_link=None),
                                 headers=who)
    problem_of(no_place, 422, "location-required")
    in_person = await h.http.post(url, json=h.plan(format="in_person", video_link=None,
                                                   location="Room 4.12"), headers=who)
    assert in_person.status_code == 201, in_person.text


@pytest.mark.parametrize("fields", [
    {"video_link": "http://meet.example.com/x"}, {"video_link": "https://" + "a" * 2000},
    {"starts_at": "2031-05-01T10:00:00"}, {"starts_at": "0001-01-01T00:00:00+05:00"},
    {"format": "either"}, {"agenda": "x" * 2001}, {"location": ""}, {"duration_minutes": 2**40},
    {"colour": "blue"},
], ids=lambda f: next(iter(f)))
async def test_a_plan_the_api_cannot_read_is_a_422(harness: SessionsHarness,
                                                  fields: dict[str, Any]):
    h = harness
    pair_id = await ready(h)
    response = await h.http.post(f"/mentorships/{pair_id}/sessions", json=h.plan(**fields),
                                 headers=h.participant(MENTEE))
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


async def test_overlapping_sessions_of_the_pair_are_refused(harness: SessionsHarness):
    h = harness
    pair_id = await ready(h)
    first = await h.schedule(pair_id, in_hours=2)
    overlap = await h.http.post(f"/mentorships/{pair_id}/sessions", json=h.plan(in_hours=2.5),
                                headers=h.participant(MENTOR))
    body = problem_of(overlap, 409, "session-overlaps")
    assert body["session_id"] == first["session_id"]
    back_to_back = await h.schedule(pair_id, by=MENTOR, in_hours=3)
    await h.http.post(f"/sessions/{back_to_back['session_id']}/cancel",
                      json={"reason": "participant_unavailable"}, headers=h.participant(MENTOR))
    assert (await h.schedule(pair_id, in_hours=3))["sequence"] == 3, "a cancelled one is free"


async def test_two_members_scheduling_the_same_hour_at_once_get_one_session(
    harness: SessionsHarness,
):
    h = harness
    pair_id = await ready(h)
    answers = await asyncio.gather(*[
        h.http.post(f"/mentorships/{pair_id}/sessions", json=h.plan(in_hours=5),
                    headers=h.participant(who)) for who in (MENTOR, MENTEE)])
    assert sorted(a.status_code for a in answers) == [201, 409]


async def test_rescheduling_at_once_into_the_same_hour_leaves_one_of_them_where_it_was(
    harness: SessionsHarness,
):
    h = harness
    pair_id = await ready(h)
    one = await h.schedule(pair_id, in_hours=2)
    two = await h.schedule(pair_id, in_hours=4)
    answers = await asyncio.gather(*[
        h.http.post(f"/sessions/{s['session_id']}/reschedule", json=h.plan(in_hours=8),
                    headers=h.participant(who))
        for s, who in ((one, MENTOR), (two, MENTEE))])
    assert sorted(a.status_code for a in answers) == [200, 409]


async def test_rescheduling_moves_the_session_and_bumps_its_revision(harness: SessionsHarness):
    h = harness
    pair_id = await ready(h)
    session = await h.schedule(pair_id, in_hours=2)
    other = await h.schedule(pair_id, in_hours=24)
    url = f"/sessions/{session['session_id']}/reschedule"
    moved = await h.http.post(url, json=h.plan(in_hours=5, duration_minutes=90),
                              headers=h.participant(MENTOR))
    assert moved.status_code == 200, moved.text
    assert (moved.json()["revision"], moved.json()["duration_minutes"]) == (1, 90)
    again = await h.http.post(url, json=h.plan(in_hours=2.5), headers=h.participant(MENTEE))
    assert again.json()["revision"] == 2
    clash = await h.http.post(url, json=h.plan(in_hours=24.5), headers=h.participant(MENTEE))
    assert problem_of(clash, 409, "session-overlaps")["session_id"] == other["session_id"]
    past = await h.http.post(url, json=h.plan(in_hours=-2), headers=h.participant(MENTEE))
    problem_of(past, 422, "start-in-past")
    events = [e.event for e in await h.events(count=4)]
    assert [(e.session_id, e.revision) for e in events if isinstance(e, SessionScheduled)] == [
        (session["session_id"], 0), (other["session_id"], 0), (session["session_id"], 1),
        (session["session_id"], 2)]
    await h.held(session["session_id"])
    held = await h.http.post(url, json=h.plan(in_hours=30), headers=h.participant(MENTEE))
    problem_of(held, 409, "session-already-held")


async def test_cancelling_a_session_says_who_and_why_once(harness: SessionsHarness):
    h = harness
    pair_id = await ready(h)
    session = await h.schedule(pair_id)
    url = f"/sessions/{session['session_id']}/cancel"
    reserved = await h.http.post(url, json={"reason": "participant_withdrawn"},
                                 headers=h.participant(MENTEE))
    assert reserved.status_code == 422, "the platform's own reasons are not a member's"
    cancelled = await h.http.post(url, json={"reason": "rescheduled"},
                                  headers=h.participant(MENTEE))
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"]) == ("cancelled",
                                                                             "mentee")
    twice = await h.http.post(url, json={"reason": "rescheduled"}, headers=h.participant(MENTOR))
    problem_of(twice, 409, "session-cancelled")
    event = [e.event for e in await h.events(count=2)][1]
    assert isinstance(event, SessionCancelled)
    assert (event.cancelled_by, event.cancelled_by_id, event.reason) == (
        CancelledBy.MENTEE, MENTEE, CancellationReason.RESCHEDULED)


async def test_completing_a_cancelled_session_is_refused(harness: SessionsHarness):
    h = harness
    pair_id = await ready(h)
    session = await h.schedule(pair_id)
    await h.http.post(f"/sessions/{session['session_id']}/cancel", json={"reason": "other"},
                      headers=h.participant(MENTOR))
    h.clock.advance(timedelta(hours=2))
    response = await h.http.post(f"/sessions/{session['session_id']}/held",
                                 headers=h.participant(MENTOR))
    problem_of(response, 409, "session-cancelled")


async def test_a_session_is_held_once_and_only_after_it_started(harness: SessionsHarness):
    h = harness
    pair_id = await ready(h)
    session = await h.schedule(pair_id, in_hours=1)
    url = f"/sessions/{session['session_id']}/held"
    early = await h.http.post(url, headers=h.participant(MENTOR))
    starts_at = datetime.fromisoformat(session["starts_at"])
    assert datetime.fromisoformat(problem_of(early, 409, "session-not-started")["starts_at"]
                                  ) == starts_at
    h.clock.advance(timedelta(minutes=56))
    held = await h.http.post(url, headers=h.participant(MENTOR))
    assert held.status_code == 200, "five minutes before the start count as started"
    assert datetime.fromisoformat(held.json()["held_at"]) == starts_at
    again = await h.http.post(url, headers=h.participant(MENTEE))
    problem_of(again, 409, "session-already-held")
