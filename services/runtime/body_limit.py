"""A ceiling on request bodies: a client cannot make a service buffer more than it will parse.

FastAPI reads a JSON body whole before validating it, so a bounded field does not bound the
bytes received. :class:`BodyLimit` answers 413 problem+json when ``Content-Length`` says too
much, and stops reading a body sent without one (chunked) once it passes the limit.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM = "application/problem+json"


class BodyTooLarge(HTTPException):
    """Raised while the body is read, so the app's problem+json handler answers the 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"a request body may hold at most {limit} bytes")


class BodyLimit:
    """ASGI middleware: ``app.add_middleware(BodyLimit, max_bytes=65536)``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body: dict[str, Any] = {
            "type": "about:blank", "title": "Content Too Large", "status": 413,
            "detail": f"a request body may hold at most {self.max_bytes} bytes",
        }
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM.encode()),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
