"""Programme admins' delivery log (e-mails and webhook requests) and webhook subscriptions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.access import Admin
from console.pages import gettext_for, language_of, render
from console.visits import visit_of

EVENT_TYPES = (
    "revmentor.enrolment.CohortOpened.v1", "revmentor.enrolment.CohortClosed.v1",
    "revmentor.enrolment.ParticipantWithdrawn.v1", "revmentor.matching.PairProposed.v1",
    "revmentor.matching.PairAccepted.v1", "revmentor.matching.PairDeclined.v1",
    "revmentor.matching.PairConfirmed.v1", "revmentor.matching.MatchingRoundCompleted.v1",
    "revmentor.sessions.SessionScheduled.v1", "revmentor.sessions.SessionCompleted.v1",
    "revmentor.sessions.SessionCancelled.v1", "revmentor.sessions.MentorshipCompleted.v1",
)
FORMATS = ("standard", "slack", "teams")


def routes() -> APIRouter:
    router = APIRouter()

    @router.get("/deliveries", response_class=HTMLResponse)
    async def delivery_log(request: Request, viewer: Admin, status: str = "",
                           channel: str = "", before: str = "") -> Response:
        page = await viewer.platform.get("notifications", "/deliveries", limit=50,
                                         status=status, channel=channel, before=before)
        return render(request, "deliveries.html", {"page": page, "status": status,
                                                   "channel": channel})

    @router.get("/webhooks", response_class=HTMLResponse)
    async def webhooks(request: Request, viewer: Admin) -> Response:
        endpoints = await viewer.platform.get("notifications", "/webhooks")
        return render(request, "webhooks.html", {"endpoints": endpoints,
                                                 "event_types": EVENT_TYPES,
                                                 "formats": FORMATS, "secret": None})

    @router.post("/webhooks", response_class=HTMLResponse)
    async def subscribe(request: Request, viewer: Admin) -> Response:
        form = await request.form()
        body = {"url": str(form.get("url", "")).strip(),
                "event_types": [t for t in form.getlist("event_types") if t in EVENT_TYPES],
                "format": str(form.get("format", "standard")),
                "description": str(form.get("description", "")).strip()[:200]}
        created = await viewer.platform.post("notifications", "/webhooks", body)
        endpoints = await viewer.platform.get("notifications", "/webhooks")
        return render(request, "webhooks.html", {
            "endpoints": endpoints, "event_types": EVENT_TYPES, "formats": FORMATS,
            "secret": created["secret"]}, status_code=201)

    @router.post("/webhooks/{endpoint_id}/{action}")
    async def act(request: Request, endpoint_id: str, action: str, viewer: Admin) -> Response:
        _ = gettext_for(language_of(request))
        if action == "ping":
            answer = await viewer.platform.post("notifications", f"/webhooks/{endpoint_id}/ping")
            visit_of(request).flash("ok" if answer["delivered"] else "error", _(
                "The test event was delivered.") if answer["delivered"] else _(
                "The test event was not delivered: %(error)s") % {"error": answer["error"]})
        elif action == "enable":
            await viewer.platform.post("notifications", f"/webhooks/{endpoint_id}/enable")
            visit_of(request).flash("ok", _("The endpoint is enabled again."))
        elif action == "remove":
            await viewer.platform.delete("notifications", f"/webhooks/{endpoint_id}")
            visit_of(request).flash("ok", _("The endpoint is removed."))
        return RedirectResponse("/webhooks", status_code=303)

    return router
