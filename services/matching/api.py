"""HTTP routes of the matching service: rounds for programme admins, answers for participants.

Tenant isolation: a cohort or pair of another business unit is a 404, as is a pair the calling
participant is not part of, so existence never leaks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from contracts.matching import RoundTrigger
from contracts.policy import Objective
from services.matching.domain import AnswerRefused, Pair, PairStatus, Round
from services.matching.engine import FixedPairError
from services.matching.matchmaking import Matchmaker
from services.matching.store import CohortView, MatchingStore
from services.runtime.auth import Admin, Member, ParticipantOnly, Principal
from services.runtime.http import Problem
from services.runtime.outbox import Outbox, UnitOfWork


class RoundRequest(BaseModel):
    draft: bool = Field(False, description="Keep the round unannounced until it is published.")
    objective: Objective | None = Field(None, description="Override the cohort's objective.")


class FixedPairRequest(BaseModel):
    mentor_id: str = Field(min_length=1)
    mentee_id: str = Field(min_length=1)


class DeclineRequest(BaseModel):
    reason: str | None = Field(None, max_length=500)


def _parts(request: Request) -> tuple[MatchingStore, Matchmaker, Outbox]:
    state = request.app.state
    return state.store, state.matchmaker, state.service.outbox


Parts = Annotated[tuple[MatchingStore, Matchmaker, Outbox], Depends(_parts)]


async def _cohort(store: MatchingStore, cohort_id: str, who: Principal) -> CohortView:
    cohort = await store.cohort(cohort_id)
    if cohort is None or cohort.tenant_id != who.business_unit:
        raise Problem(404, "Cohort not found", f"no cohort {cohort_id} in your business unit")
    return cohort


async def _round(store: MatchingStore, cohort: CohortView, round_id: str) -> Round:
    rnd = await store.round(round_id)
    if rnd is None or rnd.cohort_id != cohort.cohort_id:
        raise Problem(404, "Round not found", f"no round {round_id} in cohort {cohort.cohort_id}")
    return rnd


def pair_view(pair: Pair) -> dict[str, Any]:
    return {
        "pair_id": pair.pair_id,
        "cohort_id": pair.cohort_id,
        "round_id": pair.round_id,
        "mentor_id": pair.mentor_id,
        "mentee_id": pair.mentee_id,
        "score": pair.score,
        "explanation": pair.explanation,
        "shared_topics": pair.shared_topics,
        "reverse_shared_topics": pair.reverse_shared_topics,
        "status": pair.status.value,
        "mentor_accepted": pair.mentor_accepted,
        "mentee_accepted": pair.mentee_accepted,
        "locked": pair.locked,
    }


def round_view(rnd: Round) -> dict[str, Any]:
    return {
        "round_id": rnd.round_id,
        "cohort_id": rnd.cohort_id,
        "trigger": rnd.trigger.value,
        "objective": rnd.objective,
        "published": rnd.published,
        "pairs": [pair_view(p) for p in rnd.pairs],
        "unmatched": [
            {"participant_id": pid, "role": why.split(":")[0], "reason": why.split(":", 1)[1]}
            for pid, why in rnd.unmatched.items()
        ],
        "statistics": rnd.statistics,
    }


router = APIRouter(tags=["matching"])


@router.post("/cohorts/{cohort_id}/rounds", status_code=201)
async def run_round(cohort_id: str, body: RoundRequest, who: Admin, parts: Parts) -> dict[str, Any]:
    """Run a matching round now: published at once, or as a draft to inspect first."""
    store, matchmaker, outbox = parts
    cohort = await _cohort(store, cohort_id, who)

    async def work(uow: UnitOfWork) -> Round:
        return await matchmaker.run_round(
            uow,
            cohort,
            RoundTrigger.ADMIN,
            draft=body.draft,
            objective=body.objective.value if body.objective else None,
        )

    return round_view(await outbox.retrying(work))


@router.get("/cohorts/{cohort_id}/rounds")
async def list_rounds(cohort_id: str, who: Admin, parts: Parts) -> list[dict[str, Any]]:
    store = parts[0]
    await _cohort(store, cohort_id, who)
    return [
        {
            "round_id": d["_id"],
            "trigger": d["trigger"],
            "published": d["published"],
            "statistics": d["statistics"],
        }
        for d in await store.rounds_of(cohort_id)
    ]


@router.get("/cohorts/{cohort_id}/rounds/{round_id}")
async def read_round(cohort_id: str, round_id: str, who: Admin, parts: Parts) -> dict[str, Any]:
    store = parts[0]
    return round_view(await _round(store, await _cohort(store, cohort_id, who), round_id))


def _editable(rnd: Round) -> None:
    if rnd.published:
        raise Problem(409, "Round already published", "only a draft round can be changed")


@router.post("/cohorts/{cohort_id}/rounds/{round_id}/pairs/{pair_id}/lock")
async def lock_pair(
    cohort_id: str, round_id: str, pair_id: str, who: Admin, parts: Parts
) -> dict[str, Any]:
    """Keep this draft pair whatever later re-solving of the draft does."""
    store = parts[0]
    rnd = await _round(store, await _cohort(store, cohort_id, who), round_id)
    _editable(rnd)
    pair = next((p for p in rnd.pairs if p.pair_id == pair_id), None)
    if pair is None or pair.status is not PairStatus.DRAFT:
        raise Problem(404, "Pair not found", f"no draft pair {pair_id} in round {round_id}")
    pair.locked = True
    await store.save_pairs([pair], None)
    return pair_view(pair)


@router.post("/cohorts/{cohort_id}/rounds/{round_id}/fixed-pairs")
async def add_fixed_pair(
    cohort_id: str, round_id: str, body: FixedPairRequest, who: Admin, parts: Parts
) -> dict[str, Any]:
    """Re-solve the draft with this pair (and every locked one) fixed."""
    store, matchmaker, outbox = parts
    cohort = await _cohort(store, cohort_id, who)
    rnd = await _round(store, cohort, round_id)
    _editable(rnd)
    fixed = {(p.mentor_id, p.mentee_id) for p in rnd.pairs if p.locked}
    fixed.add((body.mentor_id, body.mentee_id))

    async def work(uow: UnitOfWork) -> Round:
        return await matchmaker.run_round(
            uow,
            cohort,
            rnd.trigger,
            draft=True,
            objective=rnd.objective,
            fixed=fixed,
            round_id=rnd.round_id,
        )

    try:
        return round_view(await outbox.retrying(work))
    except FixedPairError as exc:
        raise Problem(422, "Pair breaks the cohort's rules", str(exc)) from None


@router.post("/cohorts/{cohort_id}/rounds/{round_id}/publish")
async def publish_round(cohort_id: str, round_id: str, who: Admin, parts: Parts) -> dict[str, Any]:
    """Announce a draft: PairProposed for each pair and MatchingRoundCompleted."""
    store, matchmaker, outbox = parts
    cohort = await _cohort(store, cohort_id, who)

    async def work(uow: UnitOfWork) -> Round:
        rnd = await store.round(round_id, uow.session)
        if rnd is None or rnd.cohort_id != cohort_id:
            raise Problem(404, "Round not found", f"no round {round_id}")
        _editable(rnd)
        if any(p.status is not PairStatus.DRAFT for p in rnd.pairs):
            raise Problem(409, "Draft superseded", "a newer round or a withdrawal changed it")
        await matchmaker.publish(uow, rnd, cohort)
        return rnd

    return round_view(await outbox.retrying(work))


@router.get("/cohorts/{cohort_id}/pairs")
async def list_pairs(
    cohort_id: str, who: Admin, parts: Parts, status: PairStatus | None = None
) -> list[dict[str, Any]]:
    store = parts[0]
    await _cohort(store, cohort_id, who)
    pairs = await store.pairs_of(cohort_id, (status,) if status else None)
    return [pair_view(p) for p in pairs]


def _visible(pair: Pair | None, pair_id: str, who: Principal) -> Pair:
    """The pair if ``who`` may see it: same business unit, announced, admin or a member."""
    own = pair is not None and pair.role_of(who.participant_id or who.subject) is not None
    if (
        pair is None
        or pair.tenant_id != who.business_unit
        or pair.status is PairStatus.DRAFT
        or not (who.is_admin or own)
    ):
        raise Problem(404, "Pair not found", f"no pair {pair_id} for you")
    return pair


@router.get("/pairs/{pair_id}")
async def read_pair(pair_id: str, who: Member, parts: Parts) -> dict[str, Any]:
    return pair_view(_visible(await parts[0].pair(pair_id), pair_id, who))


@router.get("/me/pairs")
async def my_pairs(who: ParticipantOnly, parts: Parts) -> list[dict[str, Any]]:
    pairs = await parts[0].pairs_of_participant(
        who.business_unit, who.participant_id or who.subject
    )
    return [pair_view(p) for p in pairs if p.status is not PairStatus.DRAFT]


async def _answer(
    pair_id: str, who: Principal, parts: Any, accept: bool, reason: str | None = None
) -> dict[str, Any]:
    store, matchmaker, outbox = parts
    me = who.participant_id or who.subject

    async def work(uow: UnitOfWork) -> Pair:
        pair = _visible(await store.pair(pair_id, uow.session), pair_id, who)
        return await matchmaker.answer(uow, pair, me, accept=accept, reason=reason)

    try:
        return pair_view(await outbox.retrying(work))
    except AnswerRefused as exc:
        raise Problem(409, "Pair cannot be answered", str(exc)) from None


@router.post("/pairs/{pair_id}/accept")
async def accept_pair(pair_id: str, who: ParticipantOnly, parts: Parts) -> dict[str, Any]:
    """Say yes to your own proposal; the second yes confirms the mentorship."""
    return await _answer(pair_id, who, parts, accept=True)


@router.post("/pairs/{pair_id}/decline")
async def decline_pair(
    pair_id: str, who: ParticipantOnly, parts: Parts, body: DeclineRequest | None = None
) -> dict[str, Any]:
    """Say no: both return to the pool and this pair is never proposed again."""
    return await _answer(pair_id, who, parts, accept=False, reason=body.reason if body else None)
