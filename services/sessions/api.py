"""HTTP routes of the sessions service: members' sessions and feedback, admins' overview and KPIs.

Each route parses, authorises (the token's role, business unit and acting participant), calls
one command or one read of :class:`~services.sessions.commands.SessionsCommands`, and renders a
view from :mod:`services.sessions.schemas`. Another unit's cohort, mentorship or session is a
404, as is a mentorship or session the calling participant is not a member of.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.runtime.auth import Admin, Member, ParticipantOnly, Principal
from services.runtime.errors import NotFound
from services.runtime.openapi import problems
from services.sessions.commands import SessionsCommands
from services.sessions.domain import MentorshipStatus, Session
from services.sessions.schemas import (
    CancelRequest,
    EndRequest,
    FeedbackRequest,
    FeedbackView,
    Kpis,
    MentorshipView,
    SessionPlan,
    SessionView,
)

Id = Annotated[str, Path(min_length=1, max_length=100)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
After = Annotated[str | None, Query(max_length=100, description="The last pair id of the "
                                    "previous page.")]


def routes(commands: SessionsCommands) -> APIRouter:
    router = APIRouter(tags=["sessions"])

    # programme admins ----------------------------------------------------------------------

    @router.get("/cohorts/{cohort_id}/mentorships", response_model=list[MentorshipView])
    async def list_mentorships(cohort_id: Id, who: Admin, status: MentorshipStatus | None = None,
                               limit: Limit = 100, after: After = None) -> list[MentorshipView]:
        """The cohort's mentorships in pair id order; pass the last one's id as ``after``."""
        found = await commands.mentorships(who.business_unit, cohort_id, status, after=after,
                                           limit=limit)
        return [MentorshipView.of(m) for m in found]

    @router.get("/cohorts/{cohort_id}/kpis", response_model=Kpis)
    async def cohort_kpis(cohort_id: Id, who: Admin) -> Kpis:
        """The cohort's evidence of success, computed by the database."""
        return await commands.cohort_kpis(who.business_unit, cohort_id)

    @router.get("/kpis", response_model=Kpis)
    async def unit_kpis(who: Admin) -> Kpis:
        """The same figures over every cohort of the token's business unit."""
        return await commands.unit_kpis(who.business_unit)

    @router.post("/mentorships/{pair_id}/end", response_model=MentorshipView,
                 responses=problems(409))
    async def end_mentorship(pair_id: Id, body: EndRequest, who: Admin) -> MentorshipView:
        """End a mentorship early: open sessions cancelled, MentorshipCompleted ended_early."""
        m = await commands.end_mentorship(who.business_unit, pair_id, who.subject, body.reason)
        return MentorshipView.of(m)

    # admins and members --------------------------------------------------------------------

    @router.get("/mentorships/{pair_id}", response_model=MentorshipView)
    async def read_mentorship(pair_id: Id, who: Member) -> MentorshipView:
        m = await commands.mentorship(who.business_unit, pair_id,
                                      reader=who.acting_participant, admin=who.is_admin)
        return MentorshipView.of(m)

    @router.get("/mentorships/{pair_id}/sessions", response_model=list[SessionView])
    async def list_sessions(pair_id: Id, who: Member) -> list[SessionView]:
        found = await commands.sessions(who.business_unit, pair_id,
                                        reader=who.acting_participant, admin=who.is_admin)
        return [_view(s, who) for s in found]

    @router.get("/sessions/{session_id}", response_model=SessionView)
    async def read_session(session_id: Id, who: Member) -> SessionView:
        s = await commands.session(who.business_unit, session_id,
                                   reader=who.acting_participant, admin=who.is_admin)
        return _view(s, who)

    # members -------------------------------------------------------------------------------

    @router.get("/me/mentorships", response_model=list[MentorshipView])
    async def my_mentorships(who: ParticipantOnly) -> list[MentorshipView]:
        found = await commands.own_mentorships(who.business_unit, _acting(who))
        return [MentorshipView.of(m) for m in found]

    @router.post("/mentorships/{pair_id}/sessions", status_code=201, response_model=SessionView,
                 responses=problems(409))
    async def schedule_session(pair_id: Id, body: SessionPlan, who: ParticipantOnly
                               ) -> SessionView:
        """Put a session in both calendars: SessionScheduled."""
        s = await commands.schedule(who.business_unit, pair_id, _acting(who), body.plan())
        return _view(s, who)

    @router.post("/sessions/{session_id}/reschedule", response_model=SessionView,
                 responses=problems(409))
    async def reschedule_session(session_id: Id, body: SessionPlan, who: ParticipantOnly
                                 ) -> SessionView:
        """Move a scheduled session: SessionScheduled with the next revision."""
        s = await commands.reschedule(who.business_unit, session_id, _acting(who), body.plan())
        return _view(s, who)

    @router.post("/sessions/{session_id}/cancel", response_model=SessionView,
                 responses=problems(409))
    async def cancel_session(session_id: Id, body: CancelRequest, who: ParticipantOnly
                             ) -> SessionView:
        s = await commands.cancel(who.business_unit, session_id, _acting(who),
                                  body.reason.as_contract())
        return _view(s, who)

    @router.post("/sessions/{session_id}/held", response_model=SessionView,
                 responses=problems(409))
    async def hold_session(session_id: Id, who: ParticipantOnly) -> SessionView:
        """Mark the session as held; the target's session completes the mentorship."""
        s = await commands.hold(who.business_unit, session_id, _acting(who))
        return _view(s, who)

    @router.post("/sessions/{session_id}/feedback", status_code=201, response_model=FeedbackView,
                 responses=problems(409))
    async def give_feedback(session_id: Id, body: FeedbackRequest, who: ParticipantOnly
                            ) -> FeedbackView:
        """Your feedback on a held session, once; the second side's publishes SessionCompleted."""
        feedback, note = await commands.give_feedback(
            who.business_unit, session_id, _acting(who), rating=body.rating,
            learned_something=body.learned_something, topics=body.topics, note=body.note)
        return FeedbackView.of(session_id, feedback, note)

    @router.get("/sessions/{session_id}/feedback", response_model=FeedbackView)
    async def my_feedback(session_id: Id, who: ParticipantOnly) -> FeedbackView:
        """Your own feedback and private note; nobody else's."""
        feedback, note = await commands.own_feedback(who.business_unit, session_id,
                                                     _acting(who))
        return FeedbackView.of(session_id, feedback, note)

    return router


def _view(s: Session, who: Principal) -> SessionView:
    return SessionView.of(s, member=s.role_of(who.acting_participant) is not None)


def _acting(who: Principal) -> str:
    """A participant-only route always has an acting participant; guard the type anyway."""
    if who.acting_participant is None:
        raise NotFound("participant-not-found", "the token speaks for no participant")
    return who.acting_participant
