"""The platform as its clients see it: each service's public HTTP API, with dev tokens.

The demo acts only through these calls, as a portal and an HR integration would: admins with
their unit's admin token, employees with a token that speaks for them. A 503 (the database is
busy, a write conflict) is retried as a well-behaved client does; any other unexpected status is
a :class:`PlatformError` naming the call. Only a call that was never sent (no connection) is
sent again after a transport error: a POST that may have arrived is not repeated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from services.stack.demo.units import admin_token, participant_token

RETRIES = 8
MENTORSHIP_PAGE = 500


class PlatformError(RuntimeError):
    """A call answered what the demo did not expect; the message names call and answer."""


class Platform:
    """One HTTP client per service; at most ``concurrency`` calls in flight."""

    def __init__(self, urls: Mapping[str, str], secret: str, *, concurrency: int = 16) -> None:
        self.urls, self.secret, self.concurrency = dict(urls), secret, concurrency
        self._gate = asyncio.Semaphore(concurrency)
        self._http: dict[str, httpx.AsyncClient] = {}
        self._tokens: dict[tuple[str, str | None], str] = {}

    def has(self, service: str) -> bool:
        return service in self.urls

    async def __aenter__(self) -> Platform:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        for name, url in self.urls.items():
            self._http[name] = httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits)
        return self

    async def __aexit__(self, *_: object) -> None:
        for client in self._http.values():
            await client.aclose()

    def _authorization(self, unit: str, participant: str | None) -> dict[str, str]:
        key = (unit, participant)
        if key not in self._tokens:
            self._tokens[key] = (participant_token(self.secret, unit, participant) if participant
                                 else admin_token(self.secret, unit))
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    async def call(self, service: str, method: str, path: str, *, unit: str,
                   participant: str | None = None, json: Any = None,
                   content: bytes | None = None, headers: Mapping[str, str] | None = None,
                   params: Mapping[str, Any] | None = None,
                   expect: tuple[int, ...] = (200, 201)) -> Any:
        """One call as the unit's admin, or as ``participant``; the decoded JSON answer."""
        response = await self.request(service, method, path, unit=unit, participant=participant,
                                      json=json, content=content, headers=headers, params=params)
        if response.status_code not in expect:
            raise PlatformError(f"{method} {service}{path} answered {response.status_code}: "
                                f"{response.text[:500]}")
        return response.json() if response.content else None

    async def request(self, service: str, method: str, path: str, *, unit: str,
                      participant: str | None = None, json: Any = None,
                      content: bytes | None = None, headers: Mapping[str, str] | None = None,
                      params: Mapping[str, Any] | None = None) -> httpx.Response:
        """The raw answer (after retrying 503s and refused connections)."""
        sent = {**self._authorization(unit, participant), **(headers or {})}
        for attempt in range(RETRIES):
            async with self._gate:
                try:
                    response = await self._http[service].request(
                        method, path, json=json, content=content, headers=sent, params=params)
                except httpx.ConnectError:  # nothing was sent: safe to send again
                    if attempt == RETRIES - 1:
                        raise
                    response = None
            if response is not None and response.status_code != 503:
                return response
            await asyncio.sleep(min(2.0, 0.05 * 2**attempt))
        assert response is not None
        return response

    async def mentorships(self, unit: str, cohort_id: str) -> list[dict[str, Any]]:
        """Every mentorship of the cohort, page by page (the sessions service pages by pair id)."""
        found: list[dict[str, Any]] = []
        while True:
            page = await self.call("sessions", "GET", f"/cohorts/{cohort_id}/mentorships",
                                   unit=unit, params={"limit": MENTORSHIP_PAGE, **(
                                       {"after": found[-1]["pair_id"]} if found else {})})
            found.extend(page)
            if len(page) < MENTORSHIP_PAGE:
                return found

    async def metrics(self, service: str) -> dict[str, float]:
        """The service's Prometheus samples, summed over their labels, by sample name."""
        response = await self._http[service].get("/metrics")
        response.raise_for_status()
        totals: dict[str, float] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                totals[sample.name] = totals.get(sample.name, 0.0) + float(sample.value)
        return totals
