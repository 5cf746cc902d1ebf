"""Programme admins' sessions and KPIs: confirmed mentorships, sessions over time, ratings per
side, completion against the target, and what each side learned most."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from console import charts
from console.access import Admin
from console.pages import gettext_for, language_of, render
from console.platform import Caller

SESSION_SAMPLE = 300
"""Mentorships whose sessions are read for the sessions-over-time chart."""


def weekly(starts: list[datetime], weeks: int = 8, today: date | None = None
           ) -> list[tuple[str, float]]:
    """Sessions per ISO week over the ``weeks`` around today (pure: unit-tested)."""
    today = today or date.today()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks // 2)
    counts: Counter[date] = Counter()
    for moment in starts:
        day = moment.date()
        counts[day - timedelta(days=day.weekday())] += 1
    return [(f"{(first + timedelta(weeks=i)).isocalendar().week:02d}",
             float(counts[first + timedelta(weeks=i)])) for i in range(weeks)]


async def session_starts(caller: Caller, cohort_id: str) -> tuple[list[datetime], int, int]:
    """Start times of the sessions not cancelled, from up to SESSION_SAMPLE mentorships."""
    mentorships = await caller.get("sessions", f"/cohorts/{cohort_id}/mentorships", limit=500)
    sample = mentorships[:SESSION_SAMPLE]
    gate = asyncio.Semaphore(8)

    async def sessions_of(pair_id: str) -> list[dict[str, Any]]:
        async with gate:
            found: list[dict[str, Any]] = await caller.get(
                "sessions", f"/mentorships/{pair_id}/sessions")
            return found

    lists = await asyncio.gather(*(sessions_of(m["pair_id"]) for m in sample))
    starts = [datetime.fromisoformat(s["starts_at"]) for found in lists for s in found
              if s["status"] != "cancelled"]
    return starts, len(sample), len(mentorships)


def kpi_charts(kpis: dict[str, Any], target: int | None, gettext: Any) -> dict[str, Markup]:
    _ = gettext
    m, s, r, topics = (kpis["mentorships"], kpis["sessions"], kpis["average_rating"],
                       kpis["learned_topics"])
    out = {
        "mentorships": charts.bars(
            [(_("confirmed"), m["confirmed"]), (_("active"), m["active"]),
             (_("completed"), m["completed"]), (_("ended_early"), m["ended_early"])],
            title=_("Mentorships")),
        "sessions": charts.bars(
            [(_("scheduled"), s["scheduled"]), (_("Upcoming"), s["upcoming"]),
             (_("held"), s["held"]), (_("cancelled"), s["cancelled"])], title=_("Sessions")),
        "ratings": charts.bars(
            [(_("by mentors"), r["mentor"] or 0.0), (_("by mentees"), r["mentee"] or 0.0)],
            title=_("Average rating (1–5)"), maximum=5.0),
        "completion": charts.progress(
            m["completed"], m["confirmed"], title=_("Completed against confirmed")),
        "by_mentees": charts.bars(
            [(t["topic"], t["sessions"]) for t in topics["by_mentees"]],
            title=_("What the seniors learned")),
        "by_mentors": charts.bars(
            [(t["topic"], t["sessions"]) for t in topics["by_mentors"]],
            title=_("What the juniors learned back")),
    }
    return out


def routes() -> APIRouter:
    router = APIRouter()

    @router.get("/kpis", response_class=HTMLResponse)
    async def unit_kpis(request: Request, viewer: Admin) -> Response:
        kpis = await viewer.platform.get("sessions", "/kpis")
        gettext = gettext_for(language_of(request))
        return render(request, "kpis.html", {"kpis": kpis, "cohort": None,
                                             "charts": kpi_charts(kpis, None, gettext)})

    @router.get("/cohorts/{cohort_id}/kpis", response_class=HTMLResponse)
    async def cohort_kpis(request: Request, cohort_id: str, viewer: Admin) -> Response:
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        kpis = await viewer.platform.get("sessions", f"/cohorts/{cohort_id}/kpis")
        starts, sampled, total = await session_starts(viewer.platform, cohort_id)
        gettext = gettext_for(language_of(request))
        drawn = kpi_charts(kpis, cohort["session_target"], gettext)
        drawn["over_time"] = charts.columns(weekly(starts), title=gettext(
            "Sessions per calendar week"))
        return render(request, "kpis.html", {"kpis": kpis, "cohort": cohort, "charts": drawn,
                                             "sampled": sampled, "mentorship_count": total})

    return router
