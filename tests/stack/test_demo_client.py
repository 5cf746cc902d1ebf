"""The demo's HTTP client reads lists the services page: every mentorship of a large cohort,
not the first page (a 500-person demo has more mentorships per cohort than one page holds).

The sessions service is stood in for by its documented page contract (pair id order, ``limit``
up to 500, ``after`` = the last pair id of the previous page); pure, no service runs."""

from __future__ import annotations

import httpx

from services.stack.demo.client import Platform

PAIRS = [f"pair-{i:05d}" for i in range(1234)]


def sessions_pages(request: httpx.Request) -> httpx.Response:
    limit = int(request.url.params["limit"])
    after = request.url.params.get("after")
    assert 1 <= limit <= 500
    rest = [p for p in PAIRS if after is None or p > after]
    return httpx.Response(200, json=[{"pair_id": p} for p in rest[:limit]])


async def test_every_mentorship_of_a_cohort_is_read_across_pages() -> None:
    async with Platform({"sessions": "http://sessions"}, "s" * 32) as platform:
        platform._http["sessions"] = httpx.AsyncClient(
            base_url="http://sessions", transport=httpx.MockTransport(sessions_pages))
        found = await platform.mentorships("bu-a", "cohort-1")
    assert [m["pair_id"] for m in found] == PAIRS
