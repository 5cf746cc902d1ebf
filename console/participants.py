"""Programme admins' participants: search and filter, enrol one, import a file, withdraw."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from console.access import Admin
from console.pages import gettext_for, is_htmx, language_of, render
from console.platform import Caller
from console.visits import visit_of

SEARCH_PAGES = 20
PAGE = 500
WITHDRAWAL_REASONS = ("moved_role", "left_company", "no_time", "other")


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _list(form: FormData, name: str) -> list[str]:
    return [x.strip() for x in _text(form, name).replace(";", ",").split(",") if x.strip()]


def application_of(form: FormData, *, on_behalf: bool) -> dict[str, Any]:
    """The enrolment service's application from the form (pure: unit-tested)."""
    body: dict[str, Any] = {
        "role": _text(form, "role"), "name": _text(form, "name"), "email": _text(form, "email"),
        "department": _text(form, "department"),
        "career_level": int(_text(form, "career_level") or 0),
        "languages": _list(form, "languages"), "time_zone": _text(form, "time_zone"),
        "topics_offered": _list(form, "topics_offered"),
        "topics_wanted": _list(form, "topics_wanted"),
        "preferred_format": _text(form, "preferred_format") or "either",
        "goals": _text(form, "goals"), "consent": form.get("consent") == "on",
    }
    if manager := _text(form, "manager_id"):
        body["manager_id"] = manager
    if on_behalf:
        body["employee_id"] = _text(form, "employee_id")
    return body


def import_format(filename: str, content_type: str) -> str:
    """``jsonl`` for JSON Lines files, else ``csv``."""
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson", ".json")) or "ndjson" in content_type:
        return "jsonl"
    return "csv"


async def people_of(caller: Caller, cohort_id: str, **filters: Any) -> list[dict[str, Any]]:
    """The cohort's participants matching ``filters`` (pages of 500, up to 10,000)."""
    people: list[dict[str, Any]] = []
    cursor = None
    for _ in range(SEARCH_PAGES):
        page = await caller.get("enrolment", f"/cohorts/{cohort_id}/participants", limit=PAGE,
                                cursor=cursor, **filters)
        people += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return people


async def names_of(caller: Caller, cohort_id: str) -> dict[str, dict[str, Any]]:
    """Participant id → record, to show names where the matching service shows ids."""
    return {p["participant_id"]: p for p in await people_of(caller, cohort_id)
            if p.get("participant_id")}


def matches(person: dict[str, Any], query: str) -> bool:
    q = query.casefold()
    return any(q in str(person.get(k) or "").casefold()
               for k in ("name", "email", "participant_id", "department"))


def routes() -> APIRouter:
    router = APIRouter()

    @router.get("/cohorts/{cohort_id}/participants", response_class=HTMLResponse)
    async def participant_list(request: Request, cohort_id: str, viewer: Admin, q: str = "",
                               role: str = "", department: str = "", status: str = "enrolled",
                               cursor: str = "") -> Response:
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        filters = {"role": role, "department": department, "status": status}
        if q.strip():
            people = [p for p in await people_of(viewer.platform, cohort_id, **filters)
                      if matches(p, q.strip())]
            next_cursor = None
        else:
            page = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}/participants",
                                             limit=100, cursor=cursor, **filters)
            people, next_cursor = page["items"], page.get("next_cursor")
        context = {"cohort": cohort, "people": people, "next_cursor": next_cursor, "q": q,
                   "role": role, "department": department, "status": status,
                   "departments": [d["department"] for d in cohort["counts"]["by_department"]],
                   "reasons": WITHDRAWAL_REASONS}
        template = "_people.html" if is_htmx(request) else "participants.html"
        return render(request, template, context)

    @router.get("/cohorts/{cohort_id}/participants/new", response_class=HTMLResponse)
    async def enrol_form(request: Request, cohort_id: str, viewer: Admin) -> Response:
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        return render(request, "enrol_admin.html", {"cohort": cohort})

    @router.post("/cohorts/{cohort_id}/participants")
    async def enrol_one(request: Request, cohort_id: str, viewer: Admin) -> Response:
        body = application_of(await request.form(), on_behalf=True)
        enrolled = await viewer.platform.post(
            "enrolment", f"/cohorts/{cohort_id}/participants", body)
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("Enrolled %(id)s.") % {"id": enrolled["participant_id"]})
        return RedirectResponse(f"/cohorts/{cohort_id}/participants", status_code=303)

    @router.post("/cohorts/{cohort_id}/imports", response_class=HTMLResponse)
    async def import_file(request: Request, cohort_id: str, viewer: Admin,
                          upload: Annotated[UploadFile, File()]) -> Response:
        content = await upload.read()
        kind = import_format(upload.filename or "", upload.content_type or "")
        report = await viewer.platform.post(
            "enrolment", f"/cohorts/{cohort_id}/imports", content=content,
            content_type="text/csv" if kind == "csv" else "application/x-ndjson")
        context = {"report": report, "cohort_id": cohort_id}
        if is_htmx(request):
            return render(request, "_import_report.html", context)
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        return render(request, "import.html", {**context, "cohort": cohort})

    @router.get("/cohorts/{cohort_id}/import", response_class=HTMLResponse)
    async def import_page(request: Request, cohort_id: str, viewer: Admin) -> Response:
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        return render(request, "import.html", {"cohort": cohort, "report": None})

    @router.post("/cohorts/{cohort_id}/participants/{participant_id}/withdraw")
    async def withdraw(request: Request, cohort_id: str, participant_id: str, viewer: Admin,
                       reason: Annotated[str, Form()] = "other") -> Response:
        done = await viewer.platform.post(
            "enrolment", f"/cohorts/{cohort_id}/participants/{participant_id}/withdraw",
            {"reason": reason if reason in WITHDRAWAL_REASONS else "other"})
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("Withdrawn. Erased: %(fields)s.") % {
            "fields": ", ".join(done["erased"])})
        return RedirectResponse(f"/cohorts/{cohort_id}/participants", status_code=303)

    return router
