"""Participants' own programme: enrol with consent, see the proposal and why, accept or decline,
schedule, reschedule and cancel sessions, give feedback with a private note, withdraw."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from console.access import Participant
from console.matching import explanation_bar
from console.pages import N_, gettext_for, language_of, render
from console.participants import application_of
from console.problems import Notice
from console.visits import visit_of

DECLINE_REASONS = ("no_common_ground", "schedule_conflict", "prefers_other_topic", "other")
CANCEL_REASONS = ("rescheduled", "participant_unavailable", "other")
ERASED_ON_WITHDRAWAL = (N_("name"), N_("e-mail address"), N_("goals"),
                        N_("language for messages"), N_("manager and reporting line"),
                        N_("topics"), N_("languages"), N_("time zone"), N_("private notes"),
                        N_("place, link and agenda of your sessions"))


FORM_TIME_ZONE = "Europe/Berlin"
"""The time zone a session form starts in; the participant may change it."""


class PlanError(ValueError):
    """A field of the session form that cannot become a plan; names the field."""


def plan_of(form: FormData) -> dict[str, Any]:
    """The sessions service's plan from the form (pure: unit-tested)."""
    def text(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    try:
        zone = ZoneInfo(text("time_zone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise PlanError("time_zone") from None
    try:
        starts = datetime.combine(date.fromisoformat(text("day")),
                                  time.fromisoformat(text("start")), zone)
        minutes = int(text("duration_minutes") or 60)
    except ValueError as exc:
        raise PlanError("day" if "date" in str(exc) else "start") from None
    plan: dict[str, Any] = {"starts_at": starts.isoformat(), "duration_minutes": minutes,
                            "format": text("format") or "video"}
    if plan["format"] == "video":
        plan["video_link"] = text("video_link") or None
    else:
        plan["location"] = text("location") or None
    if text("agenda"):
        plan["agenda"] = text("agenda")
    return plan


def form_of(session: dict[str, Any] | None, today: date) -> dict[str, Any]:
    """The session form's values: a session's own plan to move it (pure: unit-tested), or a
    new one's defaults. Offering today to move a session made it easy to move it by mistake."""
    if session is None:
        return {"day": today.isoformat(), "start": "", "time_zone": FORM_TIME_ZONE,
                "duration_minutes": 60, "format": "video"}
    starts = datetime.fromisoformat(session["starts_at"]).astimezone(ZoneInfo(FORM_TIME_ZONE))
    details = session.get("details") or {}
    return {"day": starts.date().isoformat(), "start": starts.strftime("%H:%M"),
            "time_zone": FORM_TIME_ZONE, "duration_minutes": session["duration_minutes"],
            "format": session["format"], "video_link": details.get("video_link") or "",
            "location": details.get("location") or "", "agenda": details.get("agenda") or ""}


def my_side(item: dict[str, Any], me: str | None) -> str:
    return "mentor" if item.get("mentor_id") == me else "mentee"


def routes() -> APIRouter:
    router = APIRouter(prefix="/me")

    @router.get("", response_class=HTMLResponse)
    async def my_programme(request: Request, viewer: Participant) -> Response:
        caller, me = viewer.platform, viewer.person.acting_participant
        enrolments = await caller.get("enrolment", "/me/enrolments")
        every = (await caller.get("enrolment", "/cohorts", limit=100))["items"]
        names = {c["cohort_id"]: c["name"] for c in every}
        cohorts = [c for c in every if c["status"] == "open"]
        mine = {e["cohort_id"] for e in enrolments if e["status"] == "enrolled"}
        pairs = await caller.get("matching", "/me/pairs")
        mentorships = await caller.get("sessions", "/me/mentorships")
        policies = {c["cohort_id"]: c["matching_policy"] for c in every}
        for pair in pairs:
            if pair["cohort_id"] not in policies:
                cohort = await caller.get("enrolment", f"/cohorts/{pair['cohort_id']}")
                policies[pair["cohort_id"]] = cohort["matching_policy"]
        gettext = gettext_for(language_of(request))
        return render(request, "me.html", {
            "enrolments": enrolments, "open_cohorts": [c for c in cohorts
                                                       if c["cohort_id"] not in mine],
            "pairs": [p for p in pairs if p["status"] in ("proposed", "confirmed")],
            "mentorships": mentorships, "me": me, "reasons": DECLINE_REASONS, "names": names,
            "bar": lambda pair: explanation_bar(pair, policies[pair["cohort_id"]], gettext),
            "side": lambda item: my_side(item, me)})

    @router.get("/cohorts/{cohort_id}/enrol", response_class=HTMLResponse)
    async def enrol_form(request: Request, cohort_id: str, viewer: Participant) -> Response:
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        return render(request, "enrol_me.html", {"cohort": cohort, "defaults": {
            "name": viewer.person.display_name or ""}})

    @router.post("/cohorts/{cohort_id}/enrol")
    async def enrol(request: Request, cohort_id: str, viewer: Participant) -> Response:
        body = application_of(await request.form(), on_behalf=False)
        await viewer.platform.post("enrolment", f"/cohorts/{cohort_id}/participants", body)
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("You are enrolled. You will hear when a partner is "
                                        "proposed."))
        return RedirectResponse("/me", status_code=303)

    @router.post("/pairs/{pair_id}/{answer}")
    async def answer_pair(request: Request, pair_id: str, answer: str, viewer: Participant,
                          reason: Annotated[str, Form()] = "") -> Response:
        _ = gettext_for(language_of(request))
        if answer == "accept":
            await viewer.platform.post("matching", f"/pairs/{pair_id}/accept")
            visit_of(request).flash("ok", _("You accepted the proposal."))
        else:
            code = reason if reason in DECLINE_REASONS else "other"
            await viewer.platform.post("matching", f"/pairs/{pair_id}/decline",
                                       {"reason": code})
            visit_of(request).flash("ok", _("You declined the proposal."))
        return RedirectResponse("/me", status_code=303)

    @router.get("/mentorships/{pair_id}", response_class=HTMLResponse)
    async def mentorship(request: Request, pair_id: str, viewer: Participant) -> Response:
        caller, me = viewer.platform, viewer.person.acting_participant
        found = await caller.get("sessions", f"/mentorships/{pair_id}")
        sessions = await caller.get("sessions", f"/mentorships/{pair_id}/sessions")
        side = my_side(found, me)
        for s in sessions:
            s["mine_given"] = s[f"{side}_feedback_given"]
            s["form"] = form_of(s, date.today())
        return render(request, "mentorship.html", {
            "mentorship": found, "sessions": sessions, "side": side,
            "partner": found["mentee_id"] if side == "mentor" else found["mentor_id"],
            "cancel_reasons": CANCEL_REASONS, "new_form": form_of(None, date.today())})

    @router.post("/mentorships/{pair_id}/sessions")
    async def schedule(request: Request, pair_id: str, viewer: Participant) -> Response:
        plan = await _plan(request)
        if isinstance(plan, Response):
            return plan
        await viewer.platform.post("sessions", f"/mentorships/{pair_id}/sessions", plan)
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("Session scheduled; both of you get an invitation."))
        return RedirectResponse(f"/me/mentorships/{pair_id}", status_code=303)

    @router.post("/sessions/{session_id}/reschedule")
    async def reschedule(request: Request, session_id: str, viewer: Participant) -> Response:
        plan = await _plan(request)
        if isinstance(plan, Response):
            return plan
        moved = await viewer.platform.post("sessions", f"/sessions/{session_id}/reschedule",
                                           plan)
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("Session moved."))
        return RedirectResponse(f"/me/mentorships/{moved['pair_id']}", status_code=303)

    @router.post("/sessions/{session_id}/cancel")
    async def cancel(request: Request, session_id: str, viewer: Participant,
                     reason: Annotated[str, Form()] = "other") -> Response:
        done = await viewer.platform.post("sessions", f"/sessions/{session_id}/cancel", {
            "reason": reason if reason in CANCEL_REASONS else "other"})
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("Session cancelled."))
        return RedirectResponse(f"/me/mentorships/{done['pair_id']}", status_code=303)

    @router.post("/sessions/{session_id}/held")
    async def held(request: Request, session_id: str, viewer: Participant) -> Response:
        done = await viewer.platform.post("sessions", f"/sessions/{session_id}/held")
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("Marked as held. Please give your feedback."))
        return RedirectResponse(f"/me/mentorships/{done['pair_id']}", status_code=303)

    @router.post("/sessions/{session_id}/feedback")
    async def feedback(request: Request, session_id: str, viewer: Participant,
                       rating: Annotated[int, Form(ge=1, le=5)],
                       learned_something: Annotated[str, Form()] = "",
                       topics: Annotated[str, Form(max_length=1000)] = "",
                       note: Annotated[str, Form(max_length=4000)] = "",
                       pair_id: Annotated[str, Form(max_length=200)] = "") -> Response:
        body = {"rating": rating, "learned_something": learned_something == "on",
                "topics": [t.strip().lower() for t in topics.replace(";", ",").split(",")
                           if t.strip()][:10],
                "note": note.strip() or None}
        await viewer.platform.post("sessions", f"/sessions/{session_id}/feedback", body)
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("Thank you for your feedback."))
        return RedirectResponse(f"/me/mentorships/{pair_id}" if pair_id else "/me", 303)

    @router.get("/cohorts/{cohort_id}/withdraw", response_class=HTMLResponse)
    async def withdraw_page(request: Request, cohort_id: str, viewer: Participant) -> Response:
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        return render(request, "withdraw.html", {"cohort": cohort,
                                                 "erased": ERASED_ON_WITHDRAWAL})

    @router.post("/cohorts/{cohort_id}/withdraw", response_class=HTMLResponse)
    async def withdraw(request: Request, cohort_id: str, viewer: Participant) -> Response:
        me = viewer.person.acting_participant
        done = await viewer.platform.post(
            "enrolment", f"/cohorts/{cohort_id}/participants/{me}/withdraw", {})
        return render(request, "withdrawn.html", {"done": done})

    async def _plan(request: Request) -> dict[str, Any] | Response:
        _ = gettext_for(language_of(request))
        try:
            return plan_of(await request.form())
        except PlanError as exc:
            return render(request, "problem.html", {"notice": Notice(
                _("That did not work"), _("Please check the field “%(field)s”.") % {
                    "field": exc.args[0]}, "", 422)}, status_code=422)

    return router
