"""Programme admins' matching: rounds, each pair's reasons factor by factor, who stayed unmatched
and why, locking and fixing pairs, re-solving, publishing, and the pairs' status board."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from console import charts
from console.access import Admin
from console.pages import FACTOR_LABELS, gettext_for, is_htmx, language_of, render
from console.participants import names_of
from console.platform import ServiceProblem
from console.visits import visit_of

BOARD = ("proposed", "accepted_by_one", "confirmed", "declined")


def column_of(pair: dict[str, Any]) -> str:
    """Where a published pair stands on the status board."""
    if pair["status"] == "proposed":
        return "accepted_by_one" if pair["mentor_accepted"] or pair["mentee_accepted"] \
            else "proposed"
    return pair["status"]


def explanation_bar(pair: dict[str, Any], policy: dict[str, Any], gettext: Any) -> Markup:
    """The pair's score, factor by factor, against the best score the policy allows."""
    weights: dict[str, float] = policy.get("weights", {})
    maximum = sum(weights.values()) or 1.0
    parts = [(gettext(FACTOR_LABELS.get(f, f)), float(v))
             for f, v in pair["explanation"].items()]
    return charts.factor_bar(parts, maximum)


def routes() -> APIRouter:
    router = APIRouter()

    async def pair_context(viewer: Admin, cohort_id: str, request: Request) -> dict[str, Any]:
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        names = await names_of(viewer.platform, cohort_id)
        gettext = gettext_for(language_of(request))
        return {"cohort": cohort, "names": names,
                "bar": lambda pair: explanation_bar(pair, cohort["matching_policy"], gettext)}

    @router.get("/cohorts/{cohort_id}/rounds", response_class=HTMLResponse)
    async def round_list(request: Request, cohort_id: str, viewer: Admin) -> Response:
        cohort = await viewer.platform.get("enrolment", f"/cohorts/{cohort_id}")
        try:
            rounds = await viewer.platform.get("matching", f"/cohorts/{cohort_id}/rounds")
        except ServiceProblem as exc:
            if exc.status != 404:
                raise
            rounds = None  # the matching service has not seen the cohort open yet
        return render(request, "rounds.html", {"cohort": cohort, "rounds": rounds})

    @router.post("/cohorts/{cohort_id}/rounds")
    async def run_round(request: Request, cohort_id: str, viewer: Admin,
                        draft: Annotated[str, Form()] = "on",
                        objective: Annotated[str, Form()] = "") -> Response:
        body = {"draft": draft == "on",
                "objective": objective if objective in ("max_score", "max_matched") else None}
        rnd = await viewer.platform.post("matching", f"/cohorts/{cohort_id}/rounds", body)
        return RedirectResponse(f"/cohorts/{cohort_id}/rounds/{rnd['round_id']}", 303)

    @router.get("/cohorts/{cohort_id}/rounds/{round_id}", response_class=HTMLResponse)
    async def round_page(request: Request, cohort_id: str, round_id: str,
                         viewer: Admin) -> Response:
        rnd = await viewer.platform.get("matching", f"/cohorts/{cohort_id}/rounds/{round_id}")
        context = await pair_context(viewer, cohort_id, request)
        return render(request, "round.html", {**context, "round": rnd})

    @router.post("/cohorts/{cohort_id}/rounds/{round_id}/pairs/{pair_id}/lock")
    async def lock(request: Request, cohort_id: str, round_id: str, pair_id: str,
                   viewer: Admin) -> Response:
        pair = await viewer.platform.post(
            "matching", f"/cohorts/{cohort_id}/rounds/{round_id}/pairs/{pair_id}/lock")
        if is_htmx(request):
            context = await pair_context(viewer, cohort_id, request)
            rnd = {"round_id": round_id, "published": False}
            return render(request, "_pair_row.html", {**context, "pair": pair, "round": rnd})
        return RedirectResponse(f"/cohorts/{cohort_id}/rounds/{round_id}", 303)

    @router.post("/cohorts/{cohort_id}/rounds/{round_id}/fixed-pairs")
    async def fix(request: Request, cohort_id: str, round_id: str, viewer: Admin,
                  mentor_id: Annotated[str, Form(max_length=100)],
                  mentee_id: Annotated[str, Form(max_length=100)]) -> Response:
        rnd = await viewer.platform.post(
            "matching", f"/cohorts/{cohort_id}/rounds/{round_id}/fixed-pairs",
            {"mentor_id": mentor_id.strip(), "mentee_id": mentee_id.strip()})
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("Re-solved with the fixed and locked pairs kept."))
        return RedirectResponse(f"/cohorts/{cohort_id}/rounds/{rnd['round_id']}", 303)

    @router.post("/cohorts/{cohort_id}/rounds/{round_id}/publish")
    async def publish(request: Request, cohort_id: str, round_id: str,
                      viewer: Admin) -> Response:
        rnd = await viewer.platform.post(
            "matching", f"/cohorts/{cohort_id}/rounds/{round_id}/publish")
        _ = gettext_for(language_of(request))
        visit_of(request).flash("ok", _("Published: %(n)d pairs proposed.") % {
            "n": len(rnd["pairs"])})
        return RedirectResponse(f"/cohorts/{cohort_id}/pairs", 303)

    @router.get("/cohorts/{cohort_id}/pairs", response_class=HTMLResponse)
    async def pair_board(request: Request, cohort_id: str, viewer: Admin) -> Response:
        pairs = await viewer.platform.get("matching", f"/cohorts/{cohort_id}/pairs")
        context = await pair_context(viewer, cohort_id, request)
        board: dict[str, list[dict[str, Any]]] = {column: [] for column in BOARD}
        for pair in pairs:
            if (column := column_of(pair)) in board:
                board[column].append(pair)
        return render(request, "pairs.html", {**context, "board": board})

    return router
