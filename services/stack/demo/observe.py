"""What the platform says once the programme has been played: read back through the same APIs.

:func:`settle` waits until nothing is in flight any more (every outbox published, every consumer
caught up, the mail sink quiet); :func:`observe` then reads each service's view of each cohort,
its metrics, and the mail the sink kept. The invariants are judged on this, not on what the
demo believes it did.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from services.stack.demo.client import Platform
from services.stack.demo.programme import CohortPlay
from services.stack.mail_sink import Mailbox, StoredMail

QUIET_S = 1.5
"""How long backlogs, lags and the mail count must stay unchanged to count as settled."""
SETTLE_WITHIN_S = 60.0
"""How long the platform may take to work off what the programme left in flight."""


@dataclass(frozen=True)
class Read:
    """One answer of the platform and who asked: ``admin`` or a participant id."""

    where: str
    reader: str
    text: str


@dataclass
class CohortView:
    cohort: dict[str, Any]
    participants: list[dict[str, Any]]
    withdrawn: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    rounds: list[dict[str, Any]]
    mentorships: list[dict[str, Any]] = field(default_factory=list)
    kpis: dict[str, Any] | None = None
    withdrawn_lookup: int | None = None
    """The status the enrolment API answers for the withdrawn person's record (404 expected)."""
    reads: list[Read] = field(default_factory=list)
    """Raw answers of admin and member reads, to search for what must not be there."""


@dataclass
class Observed:
    cohorts: dict[str, CohortView]
    metrics: dict[str, dict[str, float]]
    mail: list[StoredMail]
    settled: bool
    settle_seconds: float


async def settle(platform: Platform, mailbox: Mailbox | None, within: float = SETTLE_WITHIN_S
                 ) -> tuple[bool, dict[str, dict[str, float]]]:
    """Until every outbox is empty, every consumer has applied everything, no delivery is due
    and the mail sink has stopped receiving, for :data:`QUIET_S`; False if that does not
    happen ``within``."""
    deadline = time.monotonic() + within
    last: tuple[float, ...] | None = None
    quiet_since = time.monotonic()
    while True:
        metrics = {name: await platform.metrics(name) for name in platform.urls}
        state = (
            sum(m.get("revmentor_outbox_backlog", 0.0) for m in metrics.values()),
            sum(m.get("revmentor_consumer_lag", 0.0) for m in metrics.values()),
            max((m.get("revmentor_notifications_due", 0.0) for m in metrics.values()),
                default=0.0),
            float(mailbox.count() if mailbox else 0),
        )
        now = time.monotonic()
        if state != last:
            last, quiet_since = state, now
        elif state[:3] == (0, 0, 0) and now - quiet_since >= QUIET_S:
            return True, metrics
        if now > deadline:
            return False, metrics
        await asyncio.sleep(0.2)


async def observe(platform: Platform, plays: list[CohortPlay], mailbox: Mailbox | None
                  ) -> Observed:
    started = time.monotonic()
    settled, metrics = await settle(platform, mailbox)
    cohorts = {p.cohort_id: await _cohort(platform, p) for p in plays}
    return Observed(cohorts, metrics, list(mailbox) if mailbox else [], settled,
                    time.monotonic() - started)


async def _cohort(platform: Platform, play_: CohortPlay) -> CohortView:
    unit, cid = play_.unit.business_unit, play_.cohort_id

    async def get(service: str, path: str, **params: Any) -> Any:
        return await platform.call(service, "GET", path, unit=unit, params=params or None)

    async def pages(path: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await get("enrolment", path, limit=500, **params,
                             **({"cursor": cursor} if cursor else {}))
            items.extend(page["items"])
            if not (cursor := page.get("next_cursor")):
                return items

    view = CohortView(
        cohort=await get("enrolment", f"/cohorts/{cid}"),
        participants=await pages(f"/cohorts/{cid}/participants"),
        withdrawn=await pages(f"/cohorts/{cid}/participants", status="withdrawn"),
        pairs=await get("matching", f"/cohorts/{cid}/pairs"),
        rounds=await get("matching", f"/cohorts/{cid}/rounds"),
    )
    reads = view.reads
    if platform.has("sessions"):
        view.mentorships = await platform.mentorships(unit, cid)
        view.kpis = await get("sessions", f"/cohorts/{cid}/kpis")
        for key in sorted(play_.notes):
            sid, author = key.split("/")
            pair = next(p for p, s in play_.sessions.items() if sid in s)
            partner = next(m for m in (play_.answers[pair].pair["mentor_id"],
                                       play_.answers[pair].pair["mentee_id"]) if m != author)
            admin = await platform.request("sessions", "GET", f"/sessions/{sid}", unit=unit)
            member = await platform.request("sessions", "GET", f"/sessions/{sid}/feedback",
                                            unit=unit, participant=partner)
            reads.append(Read(f"sessions /sessions/{sid}", "admin", admin.text))
            reads.append(Read(f"sessions /sessions/{sid}/feedback", partner, member.text))
    if play_.withdrawn is not None:
        person = play_.withdrawn
        lookup = await platform.request(
            "enrolment", "GET", f"/cohorts/{cid}/participants/{person.employee_id}", unit=unit)
        view.withdrawn_lookup = lookup.status_code
        reads.append(Read("enrolment participants", "admin",
                          str(view.participants) + str(view.withdrawn)))
        reads.append(Read("matching pairs", "admin", str(view.pairs)))
        if platform.has("sessions"):
            reads.append(Read("sessions mentorships", "admin", str(view.mentorships)))
        if platform.has("notifications"):
            deliveries = await platform.request("notifications", "GET", "/deliveries",
                                                unit=unit, params={"limit": 500})
            reads.append(Read("notifications deliveries", "admin", deliveries.text))
    return view
