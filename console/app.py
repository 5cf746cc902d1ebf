"""Wiring: settings, the platform client, visits, the pages of each area, and error pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from console import (
    cohorts,
    deliveries,
    kpis,
    matching,
    participants,
    programme,
    signin,
)
from console.access import NotAllowed, NotSignedIn, SignedIn
from console.pages import HERE, gettext_for, is_htmx, language_of, render
from console.platform import Platform, ServiceDown, ServiceProblem
from console.problems import Notice, notice_of
from console.settings import ConsoleSettings
from console.visits import CsrfRefused, Visits, csrf_guard, visit_of

log = logging.getLogger("revmentor.console")
WITHOUT_VISIT = ("/static/", "/healthz", "/readyz")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(settings: ConsoleSettings | None = None, *,
               transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    platform = Platform(settings.service_urls(), timeout=settings.service_timeout_s,
                        transport=transport)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await platform.close()

    app = FastAPI(title="revmentor console", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=[Depends(csrf_guard)])
    app.state.settings, app.state.platform, app.state.log = settings, platform, log
    app.state.visits = visits = Visits(settings.cookie_secret.get_secret_value(),
                                       settings.session_hours * 3600)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def keep_visit(request: Request,
                         call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith(WITHOUT_VISIT):  # probes and assets: no visit, no log
            plain = await call_next(request)
            plain.headers.update(SECURITY_HEADERS)
            return plain
        request.state.visit = visits.of(request)
        response = await call_next(request)
        visit = visit_of(request)
        if visit.fresh:
            visits.set_cookie(response, visit, request)
            visit.fresh = False
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store"
        log.info("%s %s %s", request.method, request.url.path, response.status_code)
        return response

    def notice_response(request: Request, notice: Notice) -> Response:
        if is_htmx(request):
            return render(request, "_notice.html", {"notice": notice},
                          headers={"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"})
        return render(request, "problem.html", {"notice": notice}, status_code=notice.status)

    @app.exception_handler(ServiceProblem)
    async def service_problem(request: Request, exc: ServiceProblem) -> Response:
        return notice_response(request, notice_of(exc, gettext_for(language_of(request))))

    @app.exception_handler(ServiceDown)
    async def service_down(request: Request, exc: ServiceDown) -> Response:
        return notice_response(request, notice_of(exc, gettext_for(language_of(request))))

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": "/signin"})
        return RedirectResponse("/signin", status_code=303)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed) -> Response:
        _ = gettext_for(language_of(request))
        return notice_response(request, Notice(
            _("Not allowed"), _("This page is for another role."), "", 403))

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        _ = gettext_for(language_of(request))
        notice = Notice(_("Form refused"), _(
            "The form was sent without its security token, or it has expired. Reload the page "
            "and try again."), "", 403)
        return render(request, "problem.html", {"notice": notice}, status_code=403)

    @app.exception_handler(RequestValidationError)
    async def invalid_form(request: Request, exc: RequestValidationError) -> Response:
        _ = gettext_for(language_of(request))
        fields = ", ".join(sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")}))
        return notice_response(request, Notice(
            _("That did not work"), _("Some of the values are not valid."), fields, 422))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s", type(exc).__name__, request.url.path)
        _ = gettext_for(language_of(request))
        return render(request, "problem.html", {"notice": Notice(
            _("Something went wrong"), _("The console could not show this page."), "", 500)},
            status_code=500)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/", response_class=HTMLResponse)
    async def home(viewer: SignedIn) -> Response:
        return RedirectResponse("/cohorts" if viewer.person.is_admin else "/me", 303)

    app.include_router(signin.routes(settings, signin.Provider(settings)))
    for area in (cohorts, participants, matching, kpis, deliveries, programme):
        app.include_router(area.routes())
    return app
