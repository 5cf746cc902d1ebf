"""What every service's HTTP surface shares: problem+json errors, probes and metrics.

Clients get RFC 9457 problem details for every error; anything a client sent yields a 4xx, a
database outage a 503 (retryable), never a bare 500 page. A broken rule (a
:class:`~services.runtime.errors.Violation` raised anywhere below a route) becomes a problem of
type ``urn:revmentor:problem:<code>`` with the status of its class.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.runtime.errors import Violation
from services.runtime.log import get_logger
from services.runtime.metrics import ServiceMetrics
from services.runtime.mongo import is_transient

PROBLEM = "application/problem+json"
log = get_logger(__name__)


class Problem(Exception):
    """A domain error with its HTTP status; raised by routes, rendered as problem+json."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem(status: int, title: str, detail: str = "", **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    async def on_violation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Violation)
        return problem(exc.status, exc.title, exc.detail, type=exc.problem_type, **exc.extra)

    async def on_http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        resp = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
        resp.headers.update(exc.headers or {})
        return resp

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem(422, "Unprocessable Content", "the request does not validate",
                       errors=errors)

    async def on_database(_: Request, exc: Exception) -> Response:
        if isinstance(exc, PyMongoError) and is_transient(exc):
            return problem(503, "Service Unavailable", "the database is unavailable; retry",
                           retry_after=1)
        log.exception("database_error")
        return problem(500, "Internal Server Error", "unexpected database error")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(Violation, on_violation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(PyMongoError, on_database)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool] = Field(description="Each dependency: reachable or not.")


def operations_router(
    metrics: ServiceMetrics, ready: Callable[[], Awaitable[dict[str, bool]]]
) -> APIRouter:
    """``/healthz`` (process alive), ``/readyz`` (dependencies reachable), ``/metrics``."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", response_model=Readiness,
                responses={503: {"model": Readiness, "description": "A dependency is down"}})
    async def readyz() -> Response:
        checks = await ready()
        for dependency, answered in checks.items():
            metrics.dependency_ready.labels(dependency).set(1 if answered else 0)
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"ready": status == 200, "checks": checks}, status_code=status)

    @router.get("/metrics", response_class=Response,
                responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                                 "description": "Prometheus text exposition"}})
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router


def install_request_metrics(app: FastAPI, metrics: ServiceMetrics) -> None:
    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        seconds = time.perf_counter() - started
        metrics.http_requests.labels(request.method, path, str(response.status_code)).inc()
        metrics.http_request_seconds.labels(request.method, path).observe(seconds)
        if seconds > 1.0:
            log.info("slow_request", route=path, seconds=round(seconds, 3))
        return response
