"""HTTP routes of the matching service: rounds for programme admins, answers for participants.

Each route parses, authorises (the token's role and business unit), calls one command or one
read of :class:`~services.matching.commands.MatchingCommands`, and renders a view from
:mod:`services.matching.schemas`. A cohort or pair of another business unit is a 404, as is a
pair the calling participant is not part of, so existence never leaks.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.matching.commands import MatchingCommands
from services.matching.domain import PairStatus
from services.matching.schemas import (
    DeclineRequest,
    FixedPairRequest,
    PairView,
    RoundRequest,
    RoundSummaryView,
    RoundView,
)
from services.runtime.auth import Admin, Member, ParticipantOnly
from services.runtime.errors import NotFound
from services.runtime.openapi import problems


def routes(commands: MatchingCommands) -> APIRouter:
    router = APIRouter(tags=["matching"])

    @router.post("/cohorts/{cohort_id}/rounds", status_code=201, response_model=RoundView)
    async def run_round(cohort_id: str, body: RoundRequest, who: Admin) -> RoundView:
        """Run a matching round now: published at once, or as a draft to inspect first."""
        rnd = await commands.run_round(who.business_unit, cohort_id, draft=body.draft,
                                       objective=body.objective)
        return RoundView.of(rnd)

    @router.get("/cohorts/{cohort_id}/rounds", response_model=list[RoundSummaryView])
    async def list_rounds(cohort_id: str, who: Admin) -> list[RoundSummaryView]:
        return [RoundSummaryView.of(r) for r in await commands.rounds(who.business_unit,
                                                                       cohort_id)]

    @router.get("/cohorts/{cohort_id}/rounds/{round_id}", response_model=RoundView)
    async def read_round(cohort_id: str, round_id: str, who: Admin) -> RoundView:
        return RoundView.of(await commands.round(who.business_unit, cohort_id, round_id))

    @router.post("/cohorts/{cohort_id}/rounds/{round_id}/pairs/{pair_id}/lock",
                 response_model=PairView, responses=problems(409))
    async def lock_pair(cohort_id: str, round_id: str, pair_id: str, who: Admin) -> PairView:
        """Keep this draft pair whatever later re-solving of the draft does."""
        pair = await commands.lock_pair(who.business_unit, cohort_id, round_id, pair_id)
        return PairView.of(pair)

    @router.post("/cohorts/{cohort_id}/rounds/{round_id}/fixed-pairs", response_model=RoundView,
                 responses=problems(409))
    async def add_fixed_pair(cohort_id: str, round_id: str, body: FixedPairRequest, who: Admin
                             ) -> RoundView:
        """Re-solve the draft with this pair (and every locked one) fixed."""
        rnd = await commands.fix_pair(who.business_unit, cohort_id, round_id,
                                      mentor_id=body.mentor_id, mentee_id=body.mentee_id)
        return RoundView.of(rnd)

    @router.post("/cohorts/{cohort_id}/rounds/{round_id}/publish", response_model=RoundView,
                 responses=problems(409))
    async def publish_round(cohort_id: str, round_id: str, who: Admin) -> RoundView:
        """Announce a draft: PairProposed for each pair and MatchingRoundCompleted."""
        return RoundView.of(await commands.publish_round(who.business_unit, cohort_id, round_id))

    @router.get("/cohorts/{cohort_id}/pairs", response_model=list[PairView])
    async def list_pairs(cohort_id: str, who: Admin, status: PairStatus | None = None
                         ) -> list[PairView]:
        pairs = await commands.pairs(who.business_unit, cohort_id, status)
        return [PairView.of(p) for p in pairs]

    @router.get("/pairs/{pair_id}", response_model=PairView)
    async def read_pair(pair_id: str, who: Member) -> PairView:
        pair = await commands.pair(who.business_unit, pair_id, reader=who.acting_participant,
                                   admin=who.is_admin)
        return PairView.of(pair)

    @router.get("/me/pairs", response_model=list[PairView])
    async def my_pairs(who: ParticipantOnly) -> list[PairView]:
        pairs = await commands.own_pairs(who.business_unit, _acting(who.acting_participant))
        return [PairView.of(p) for p in pairs]

    @router.post("/pairs/{pair_id}/accept", response_model=PairView, responses=problems(409))
    async def accept_pair(pair_id: str, who: ParticipantOnly) -> PairView:
        """Say yes to your own proposal; the second yes confirms the mentorship."""
        pair = await commands.answer(who.business_unit, pair_id,
                                     _acting(who.acting_participant), accept=True)
        return PairView.of(pair)

    @router.post("/pairs/{pair_id}/decline", response_model=PairView, responses=problems(409))
    async def decline_pair(pair_id: str, who: ParticipantOnly,
                           body: DeclineRequest | None = None) -> PairView:
        """Say no: both return to the pool and this pair is never proposed again."""
        pair = await commands.answer(who.business_unit, pair_id,
                                     _acting(who.acting_participant), accept=False,
                                     reason=body.reason if body else None)
        return PairView.of(pair)

    return router


def _acting(participant_id: str | None) -> str:
    """A participant-only route always has an acting participant; guard the type anyway."""
    if participant_id is None:
        raise NotFound("participant-not-found", "the token speaks for no participant")
    return participant_id
