"""Programme admins' cohorts: the list, opening one with its whole matching policy, closing."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from console.access import Admin
from console.pages import gettext_for, language_of, render
from console.visits import visit_of

WEIGHTS = ("topic_fit", "reverse_topic_fit", "format", "cross_department", "goal_similarity")
DEFAULT_POLICY: dict[str, Any] = {
    "mode": "batch", "mentor_capacity": 1, "min_level_gap": 2, "cross_department": "preferred",
    "max_timezone_gap_hours": 6.0, "exclude_reporting_line": True, "objective": "max_score",
    "weights": {"topic_fit": 1.0, "reverse_topic_fit": 0.4, "format": 0.2,
                "cross_department": 0.3, "goal_similarity": 0.2},
}


class FormError(ValueError):
    """A field of the form that cannot become a request; the message names the field."""


def cohort_request(form: FormData) -> dict[str, Any]:
    """The enrolment service's cohort spec from the form (pure: unit-tested)."""
    def text(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def number(name: str, kind: type[int] | type[float]) -> Any:
        try:
            return kind(text(name))
        except ValueError:
            raise FormError(name) from None

    try:
        zone = ZoneInfo(text("time_zone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise FormError("time_zone") from None

    def moment(name: str, end_of_day: bool) -> str | None:
        if not text(name):
            return None
        try:
            day = date.fromisoformat(text(name))
        except ValueError:
            raise FormError(name) from None
        at = datetime.combine(day, time(23, 59) if end_of_day else time(0, 0), zone)
        return at.isoformat()

    languages = [x.strip().lower() for x in text("languages").replace(";", ",").split(",")
                 if x.strip()]
    spec: dict[str, Any] = {
        "name": text("name"), "languages": languages,
        "closes_at": moment("closes_on", end_of_day=True),
        "session_target": number("session_target", int),
        "matching_policy": {
            "mode": text("mode"), "mentor_capacity": number("mentor_capacity", int),
            "min_level_gap": number("min_level_gap", int),
            "cross_department": text("cross_department"),
            "max_timezone_gap_hours": number("max_timezone_gap_hours", float),
            "exclude_reporting_line": form.get("exclude_reporting_line") == "on",
            "objective": text("objective"),
            "weights": {w: number(f"weight_{w}", float) for w in WEIGHTS},
        },
    }
    if (opens := moment("opens_on", end_of_day=False)) is not None:
        spec["opens_at"] = opens
    return spec


def routes() -> APIRouter:
    router = APIRouter()

    @router.get("/cohorts", response_class=HTMLResponse)
    async def cohort_list(request: Request, viewer: Admin, status: str = "") -> Response:
        page = await viewer.platform.get("enrolment", "/cohorts", limit=100, status=status)
        return render(request, "cohorts.html", {"cohorts": page["items"], "status": status})

    @router.get("/cohorts/new", response_class=HTMLResponse)
    async def cohort_form(request: Request, viewer: Admin) -> Response:
        closes = (date.today() + timedelta(days=30)).isoformat()
        return render(request, "cohort_new.html", {
            "policy": DEFAULT_POLICY, "values": {"closes_on": closes, "languages": "de, en",
                                                 "session_target": 6,
                                                 "time_zone": "Europe/Berlin"}})

    @router.post("/cohorts")
    async def open_cohort(request: Request, viewer: Admin) -> Response:
        form = await request.form()
        _ = gettext_for(language_of(request))
        try:
            spec = cohort_request(form)
        except FormError as exc:
            return render(request, "cohort_new.html", {
                "policy": DEFAULT_POLICY, "values": dict(form),
                "error": _("Please check the field “%(field)s”.") % {"field": exc.args[0]}},
                status_code=422)
        cohort = await viewer.platform.post("enrolment", "/cohorts", spec)
        visit_of(request).flash("ok", _("Cohort “%(name)s” opened.") % {"name": cohort["name"]})
        return RedirectResponse(f"/cohorts/{cohort['cohort_id']}", status_code=303)

    @router.get("/cohorts/{cohort_id}", response_class=HTMLResponse)
    async def cohort_page(request: Request, cohort_id: str, viewer: Admin) -> Response:
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        return render(request, "cohort.html", {"cohort": cohort})

    @router.post("/cohorts/{cohort_id}/close")
    async def close_cohort(request: Request, cohort_id: str, viewer: Admin) -> Response:
        await viewer.platform.post("enrolment", f"/cohorts/{cohort_id}/close")
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("The cohort is closed; enrolment has ended."))
        return RedirectResponse(f"/cohorts/{cohort_id}", status_code=303)

    return router
