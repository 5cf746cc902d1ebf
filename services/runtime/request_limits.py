"""A bound on every request body, streamed uploads included, answered 413 problem+json.

Field bounds alone do not bound a request: a JSON body is read whole before it is validated, and
an upload route reads its stream for as long as the client sends. The limit is the route's own
(``route_limits``, by path template, e.g. a bulk import) or the service's default. A declared
``Content-Length`` above it is refused before a byte is read; a body without one (chunked) is
counted as it arrives and refused when it crosses the limit, which for a streaming route can be
after part of it was processed (the enrolment import is idempotent: re-import the rest).

The refusal is raised from ``receive`` as an ``HTTPException``, so the app's problem+json
handler renders it and the request metrics count it. The middleware must sit inside
Starlette's ``BaseHTTPMiddleware`` (the request metrics): that one calls ``receive`` in a task
group, which would wrap the exception so that FastAPI answers 400 instead. FastAPI's own
``max_body_size`` is not used: Starlette answers a declared oversized body in plain text, and a
per-route limit needs the route's decorator.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TOO_LARGE = 413


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(CONTENT_TOO_LARGE, f"the request body exceeds {limit} bytes")


class RequestBodyLimit:
    """ASGI middleware enforcing the body limit of the route a request was routed to."""

    def __init__(self, app: ASGIApp, *, limit: int,
                 route_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.route_limits = dict(route_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int | None = None
        received = 0

        async def counting_receive() -> Message:
            nonlocal limit, received
            if limit is None:  # the first read comes after routing: the route is known now
                limit = self.limit_for(scope)
                declared = _declared_length(scope)
                if declared is not None and declared > limit:
                    raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)

    def limit_for(self, scope: Scope) -> int:
        path = getattr(scope.get("route"), "path", None)
        return self.route_limits.get(path, self.limit) if path else self.limit


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
