"""Both sides' feedback on a held session: once each, only after it was held, within its window;
SessionCompleted carries ratings, learned flags and topics once both have spoken or the window
closed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.sessions import SessionCompleted, SessionFeedback
from tests.harness import eventually
from tests.sessions.conftest import MENTEE, MENTOR, SessionsHarness
from tests.sessions.test_scheduling import problem_of

pytestmark = pytest.mark.integration


async def held_session(h: SessionsHarness) -> str:
    await h.open_cohort(session_target=3)
    pair_id = await h.mentorship()
    session = await h.schedule(pair_id)
    await h.held(session["session_id"])
    return str(session["session_id"])


async def test_feedback_waits_for_the_session_to_be_held(harness: SessionsHarness):
    h = harness
    await h.open_cohort()
    pair_id = await h.mentorship()
    session = await h.schedule(pair_id)
    problem_of(await h.feedback(session["session_id"], MENTOR), 409, "session-not-held")


async def test_each_side_gives_feedback_once_and_reads_only_its_own(harness: SessionsHarness):
    h = harness
    session_id = await held_session(h)
    given = await h.feedback(session_id, MENTEE, rating=4, topics=("genai", "genai", "ai-act"),
                             note="ask about the budget cycle")
    assert given.status_code == 201, given.text
    assert {k: v for k, v in given.json().items() if k != "given_at"} == {
        "session_id": session_id, "rating": 4, "learned_something": True,
        "topics": ["genai", "ai-act"], "note": "ask about the budget cycle"}
    problem_of(await h.feedback(session_id, MENTEE), 409, "feedback-already-given")
    own = await h.http.get(f"/sessions/{session_id}/feedback", headers=h.participant(MENTEE))
    assert own.json()["note"] == "ask about the budget cycle"
    theirs = await h.http.get(f"/sessions/{session_id}/feedback", headers=h.participant(MENTOR))
    problem_of(theirs, 404, "feedback-not-found")
    view = (await h.http.get(f"/sessions/{session_id}", headers=h.participant(MENTOR))).json()
    assert (view["mentee_feedback_given"], view["mentor_feedback_given"],
            view["feedback_closed"]) == (True, False, False)


@pytest.mark.parametrize("rating", [0, 6, -3])
async def test_a_rating_outside_one_to_five_is_refused_with_the_allowed_range(
    harness: SessionsHarness, rating: int
):
    h = harness
    session_id = await held_session(h)
    body = problem_of(await h.feedback(session_id, MENTOR, rating=rating), 422,
                      "rating-out-of-range")
    assert body["allowed_ratings"] == {"min": 1, "max": 5}
    assert (await h.feedback(session_id, MENTOR, rating=5)).status_code == 201, (
        "a refused rating records nothing")


@pytest.mark.parametrize("body", [
    {"rating": 5, "learned_something": True, "topics": ["t"] * 11},
    {"rating": 5, "learned_something": True, "topics": ["x" * 81]},
    {"rating": 5, "learned_something": True, "note": "n" * 4001},
    {"rating": 5, "learned_something": True, "comment": "free text"},
    {"rating": 5},
], ids=["eleven-topics", "long-topic", "long-note", "comment", "no-flag"])
async def test_feedback_the_api_cannot_read_is_a_422(harness: SessionsHarness,
                                                    body: dict[str, object]):
    h = harness
    session_id = await held_session(h)
    response = await h.http.post(f"/sessions/{session_id}/feedback", json=body,
                                 headers=h.participant(MENTOR))
    assert response.status_code == 422, response.text


async def test_the_second_feedback_publishes_the_session_with_both(harness: SessionsHarness):
    h = harness
    session_id = await held_session(h)
    await h.feedback(session_id, MENTOR, rating=3, topics=("negotiation",), learned=False)
    await h.feedback(session_id, MENTEE, rating=5, topics=("genai",))
    [completed] = [e.event for e in await h.events(count=2)
                   if isinstance(e.event, SessionCompleted)]
    assert isinstance(completed, SessionCompleted)
    assert (completed.mentor_feedback, completed.mentee_feedback) == (
        SessionFeedback(rating=3, learned_something=False, topics=["negotiation"]),
        SessionFeedback(rating=5, learned_something=True, topics=["genai"]))


async def test_a_closed_feedback_window_publishes_what_was_given_and_takes_no_more(
    harness: SessionsHarness,
):
    h = harness
    session_id = await held_session(h)
    await h.feedback(session_id, MENTOR, rating=4)
    h.clock.advance(h.sessions.settings.feedback_window + timedelta(minutes=1))

    async def announced() -> bool:
        session = await h.sessions.store.session("bu-retail", session_id)
        return session is not None and session.completion_sent

    await eventually(announced, what="the feedback deadline to publish the session")
    [completed] = [e.event for e in await h.events(count=2)
                   if isinstance(e.event, SessionCompleted)]
    assert isinstance(completed, SessionCompleted)
    assert completed.mentor_feedback == SessionFeedback(rating=4, learned_something=True,
                                                        topics=["genai"])
    assert completed.mentee_feedback is None
    late = await h.feedback(session_id, MENTEE)
    problem_of(late, 409, "feedback-window-closed")
