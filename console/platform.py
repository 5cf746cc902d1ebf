"""The platform as the console sees it: the four services' public HTTP APIs, one typed client.

Every call carries the signed-in person's bearer token. An answer of problem+json becomes a
:class:`ServiceProblem` (status, code, title, detail) the pages render in the user's language;
a service that does not answer (refused connection, timeout, 502-504) becomes
:class:`ServiceDown`, which the pages render as a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

SERVICES = ("enrolment", "matching", "sessions", "notifications")
PROBLEM_PREFIX = "urn:revmentor:problem:"


class ServiceProblem(Exception):
    """A service refused the request; ``code`` is the problem type's last part, if any."""

    def __init__(self, service: str, status: int, title: str, detail: str = "",
                 code: str | None = None, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{service} answered {status}: {title}")
        self.service, self.status, self.title, self.detail = service, status, title, detail
        self.code = code
        self.extra = dict(extra or {})

    @classmethod
    def of(cls, service: str, response: httpx.Response) -> ServiceProblem:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(service, response.status_code, response.reason_phrase or "error")
        kind = str(body.get("type") or "")
        code = kind.removeprefix(PROBLEM_PREFIX) if kind.startswith(PROBLEM_PREFIX) else None
        detail = body.get("detail")
        if not isinstance(detail, str):  # FastAPI's own errors: a string or a list of errors
            detail = _validation_detail(body.get("errors") or detail)
        title = str(body.get("title") or response.reason_phrase or "error")
        known = {"type", "title", "detail", "status", "instance"}
        extra = {k: v for k, v in body.items() if k not in known}
        return cls(service, response.status_code, title, detail, code, extra)


def _validation_detail(errors: Any) -> str:
    """The fields a 422 names (never their values)."""
    if not isinstance(errors, list):
        return ""
    parts = []
    for error in errors[:5]:
        if isinstance(error, dict):
            where = ".".join(str(x) for x in error.get("loc", []) if x != "body")
            parts.append(f"{where}: {error.get('msg', '')}".strip(": "))
    return "; ".join(parts)


class ServiceDown(Exception):
    """The service did not answer."""

    def __init__(self, service: str) -> None:
        super().__init__(f"the {service} service does not answer")
        self.service = service


class Platform:
    """One pooled HTTP client per service, shared by every visitor (tokens travel per call)."""

    def __init__(self, urls: Mapping[str, str], *, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._clients = {name: httpx.AsyncClient(base_url=url.rstrip("/"), timeout=timeout,
                                                 transport=transport)
                         for name, url in urls.items()}

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    def acting_as(self, token: str) -> Caller:
        return Caller(self, token)

    async def send(self, service: str, method: str, path: str, token: str, *,
                   params: Mapping[str, Any] | None = None, json: Any = None,
                   content: bytes | None = None, content_type: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self._clients[service].request(
                method, path, params=clean, json=json, content=content, headers=headers)
        except httpx.TransportError:
            raise ServiceDown(service) from None
        if response.status_code in (502, 503, 504) and not _is_problem(response):
            raise ServiceDown(service)
        if response.status_code >= 400:
            raise ServiceProblem.of(service, response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


def _is_problem(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/problem+json")


class Caller:
    """The platform, acting with one person's token."""

    def __init__(self, platform: Platform, token: str) -> None:
        self._platform, self._token = platform, token

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self._platform.send(service, "GET", path, self._token, params=params)

    async def post(self, service: str, path: str, json: Any = None, *,
                   content: bytes | None = None, content_type: str | None = None,
                   params: Mapping[str, Any] | None = None) -> Any:
        return await self._platform.send(service, "POST", path, self._token, json=json,
                                         content=content, content_type=content_type,
                                         params=params)

    async def delete(self, service: str, path: str) -> Any:
        return await self._platform.send(service, "DELETE", path, self._token)
