"""Request bodies beyond a limit are refused with a 413 problem, however they are sent.

A bounded field does not bound the bytes a server reads: FastAPI reads a JSON body whole before
validating it. :func:`limit_request_bodies` refuses a body whose ``Content-Length`` declares too
much before the app runs, and stops reading one sent without it (chunked) once it passes the
limit. (FastAPI's own ``max_body_size`` answers the first case in plain text, not problem+json.)
"""

from __future__ import annotations

import json
from http import HTTPStatus

from fastapi import FastAPI, HTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM = b"application/problem+json"


class BodyTooLarge(HTTPException):
    """Raised while the body is read; the app's problem+json handler answers it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"a request body may hold at most {limit} bytes")


def limit_request_bodies(app: FastAPI, max_bytes: int) -> None:
    """Install :class:`BodyLimit` as the innermost middleware, next to the routes.

    Innermost, because a middleware built on ``BaseHTTPMiddleware`` (the request metrics)
    wraps errors raised while the body is read in an exception group, which FastAPI turns
    into a 400; right above the routes the 413 reaches the problem handler as it is.
    """
    app.user_middleware.append(Middleware(BodyLimit, max_bytes=max_bytes))


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({
            "type": "about:blank", "title": HTTPStatus(413).phrase, "status": 413,
            "detail": f"a request body may hold at most {self.max_bytes} bytes",
        }).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
