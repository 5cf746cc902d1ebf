"""The demo's results: KPIs per cohort as a table, or one JSON summary object."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table

from services.stack.demo.invariants import duplicate_deliveries
from services.stack.demo.observe import Observed
from services.stack.demo.people import MAIL_DOMAIN
from services.stack.demo.programme import CohortPlay


def cohort_figures(play_: CohortPlay, seen: Observed) -> dict[str, Any]:
    view = seen.cohorts[play_.cohort_id]
    proposed = [p for rnd in play_.rounds for p in rnd["pairs"]]
    domain = MAIL_DOMAIN[play_.unit.locale]
    kpis = view.kpis or {}
    ratings = kpis.get("average_rating", {})
    mentorships = Counter(m["status"] for m in view.mentorships)
    return {
        "business_unit": play_.unit.business_unit,
        "cohort_id": play_.cohort_id,
        "enrolled_mentors": view.cohort["counts"]["enrolled"]["mentor"],
        "enrolled_mentees": view.cohort["counts"]["enrolled"]["mentee"],
        "withdrawn": view.cohort["counts"]["withdrawn"]["total"],
        "pairs_proposed": len(proposed),
        "pairs_declined": sum(a.decision != "accept" for a in play_.answers.values()),
        "pairs_confirmed": len(play_.confirmed),
        "rematched": len(play_.rounds[-1]["pairs"]) if len(play_.rounds) > 1 else 0,
        "mean_score": round(sum(p["score"] for p in proposed) / len(proposed), 3)
        if proposed else None,
        "mentorships": dict(mentorships),
        "sessions_completed": len(play_.held),
        "mean_rating_by_mentors": ratings.get("mentor"),
        "mean_rating_by_mentees": ratings.get("mentee"),
        "completion_rate": kpis.get("mentorships", {}).get("completion_rate"),
        "cross_department_share": kpis.get("mentorships", {}).get("cross_department_share"),
        "top_topics_learned_by_mentees": [
            t["topic"] for t in kpis.get("learned_topics", {}).get("by_mentees", [])[:3]]
        if kpis else [],
        "emails_sent": sum(any(a.endswith(f"@{domain}") for a in m.envelope_to)
                           for m in seen.mail),
    }


def summary(plays: list[CohortPlay], seen: Observed, problems: list[str], seconds: float,
            mail_dir: str | None, services: list[str]) -> dict[str, Any]:
    cohorts = [cohort_figures(p, seen) for p in plays]

    def total(key: str) -> int:
        return sum(int(c[key]) for c in cohorts)

    return {
        "participants": sum(len(p.people) for p in plays),
        "pairs_proposed": total("pairs_proposed"),
        "pairs_declined": total("pairs_declined"),
        "pairs_confirmed": total("pairs_confirmed"),
        "rematched": total("rematched"),
        "sessions_completed": total("sessions_completed"),
        "mentorships_completed": sum(c["mentorships"].get("completed", 0) for c in cohorts),
        "emails_sent": len(seen.mail),
        "duplicate_deliveries": duplicate_deliveries(seen),
        "events_dead_lettered": int(sum(m.get("revmentor_dead_letters_total", 0.0)
                                        for m in seen.metrics.values())),
        "seconds": round(seconds, 1),
        "invariants_ok": not problems,
        "violations": problems,
        "services": services,
        "mail_dir": mail_dir,
        "cohorts": cohorts,
    }


def render(out: Console, result: dict[str, Any]) -> None:
    table = Table(title=f"revmentor demo: {result['participants']} participants in "
                  f"{result['seconds']} s")
    table.add_column("")
    for c in result["cohorts"]:
        table.add_column(f"{c['business_unit']}\n{c['cohort_id']}", justify="right")
    rows = (
        ("mentors / mentees enrolled", lambda c: f"{c['enrolled_mentors']} / "
                                                 f"{c['enrolled_mentees']}"),
        ("withdrawn", lambda c: c["withdrawn"]),
        ("pairs proposed (mean score)", lambda c: f"{c['pairs_proposed']} ({c['mean_score']})"),
        ("declined / rematched", lambda c: f"{c['pairs_declined']} / {c['rematched']}"),
        ("mentorships confirmed", lambda c: c["pairs_confirmed"]),
        ("mentorships by status", lambda c: ", ".join(f"{k} {v}" for k, v in
                                                      sorted(c["mentorships"].items())) or "-"),
        ("sessions held and rated", lambda c: c["sessions_completed"]),
        ("mean rating by mentors / mentees",
         lambda c: f"{_num(c['mean_rating_by_mentors'])} / {_num(c['mean_rating_by_mentees'])}"),
        ("completion rate", lambda c: _share(c["completion_rate"])),
        ("cross-department mentorships", lambda c: _share(c["cross_department_share"])),
        ("seniors learned most", lambda c: ", ".join(c["top_topics_learned_by_mentees"]) or "-"),
        ("e-mails", lambda c: c["emails_sent"]),
    )
    for label, value in rows:
        table.add_row(label, *(str(value(c)) for c in result["cohorts"]))
    out.print(table)
    where = (f"{result['emails_sent']} e-mails went to the mail sink: {result['mail_dir']} "
             f"(list them: revmentor mail {result['mail_dir']})" if result["mail_dir"]
             else f"{result['emails_sent']} e-mails (no mail sink given)")
    out.print(where, soft_wrap=True)
    out.print(f"duplicate deliveries {result['duplicate_deliveries']}, events dead-lettered "
              f"{result['events_dead_lettered']}; services: {', '.join(result['services'])}")
    if result["violations"]:
        out.print(f"[red]{len(result['violations'])} invariant violations:[/]")
        for problem in result["violations"]:
            out.print(f"  [red]✗[/] {problem}", soft_wrap=True)
    else:
        out.print("[green]every invariant holds[/]: nothing lost, nothing twice, no rule broken, "
                  "nothing served that should be gone")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
