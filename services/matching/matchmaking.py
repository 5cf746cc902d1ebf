"""Rounds and answers: where the engine's choices and people's answers meet the database.

Everything here runs inside a unit of work, so a round's pairs, its announcement and the
participants' answers commit together with the events they cause.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from contracts.enrolment import Role
from contracts.matching import PairDeclined, RoundTrigger
from contracts.policy import Objective
from services.matching.domain import (
    ACTIVE,
    OPEN,
    WITHDRAWN,
    PairStatus,
    Round,
    new_round_id,
    pair_from,
    pair_keys,
    round_statistics,
)
from services.matching.domain import (
    Pair as PairModel,
)
from services.matching.engine import match
from services.matching.store import CohortView, MatchingStore
from services.runtime.outbox import UnitOfWork


class Matchmaker:
    def __init__(self, store: MatchingStore) -> None:
        self.store = store

    async def run_round(
        self,
        uow: UnitOfWork,
        cohort: CohortView,
        trigger: RoundTrigger,
        *,
        draft: bool,
        objective: str | None = None,
        fixed: Iterable[tuple[str, str]] = (),
        round_id: str | None = None,
    ) -> Round:
        """Match the cohort's free people; keep active pairs; never repeat a declined pair.

        Raises the engine's ``FixedPairError`` when an admin's fixed pair breaks a hard rule.
        """
        now = datetime.now(UTC)
        session = uow.session
        mentors, mentees = await self.store.pool_of(cohort.cohort_id, session)
        active = await self.store.pairs_of(cohort.cohort_id, ACTIVE, session)
        declined = pair_keys(
            await self.store.pairs_of(cohort.cohort_id, (PairStatus.DECLINED,), session)
        )
        kept = pair_keys(active)
        wanted = set(fixed)
        chosen_objective = Objective(objective) if objective else cohort.policy.objective
        started = time.perf_counter()
        result = match(
            mentors, mentees, cohort.policy, declined, [*kept, *wanted], objective=chosen_objective
        )
        seconds = time.perf_counter() - started
        rnd = Round(
            round_id or new_round_id(now),
            cohort.tenant_id,
            cohort.cohort_id,
            trigger,
            chosen_objective,
        )
        for chosen in result.pairs:
            if (chosen.mentor_id, chosen.mentee_id) in kept:
                continue
            pair = pair_from(
                chosen,
                tenant_id=cohort.tenant_id,
                cohort_id=cohort.cohort_id,
                round_id=rnd.round_id,
            )
            pair.locked = (pair.mentor_id, pair.mentee_id) in wanted
            rnd.pairs.append(pair)
        rnd.unmatched = {u.participant_id: f"{u.role}:{u.reason}" for u in result.unmatched}
        rnd.statistics = round_statistics(result, rnd.pairs, len(mentors), len(mentees), seconds)
        if trigger is RoundTrigger.ROLLING and not rnd.pairs:
            return rnd  # a newcomer nobody fits yet is no news; they wait in the pool
        await self.store.discard_drafts(cohort.cohort_id, session)
        if draft:
            await self.store.save_pairs(rnd.pairs, session)
            await self.store.save_round(rnd, now, session)
        else:
            await self.publish(uow, rnd, cohort)
        return rnd

    async def publish(self, uow: UnitOfWork, rnd: Round, cohort: CohortView) -> None:
        """Announce every pair of the round (PairProposed) and the round's statistics."""
        now = datetime.now(UTC)
        for pair in rnd.pairs:
            pair.status = PairStatus.PROPOSED
            uow.publish(pair.proposed(cohort.policy, now))
        rnd.published = True
        uow.publish(rnd.completed(now))
        await self.store.save_pairs(rnd.pairs, uow.session)
        await self.store.save_round(rnd, now, uow.session)

    async def answer(
        self,
        uow: UnitOfWork,
        pair: PairModel,
        participant_id: str,
        *,
        accept: bool,
        reason: str | None = None,
    ) -> PairModel:
        """Apply one side's answer; a decline in a rolling cohort rematches both at once."""
        now = datetime.now(UTC)
        if accept:
            for event in pair.accept(participant_id, now):
                uow.publish(event)
        else:
            uow.publish(pair.decline(participant_id, now, reason))
        await self.store.save_pairs([pair], uow.session)
        if not accept:
            await self._rematch_if_rolling(uow, pair.cohort_id)
        return pair

    async def withdraw(
        self, uow: UnitOfWork, cohort_id: str, participant_id: str, role: Role
    ) -> None:
        """Leave the pool; open proposals are declined on the person's behalf, drafts dropped."""
        now = datetime.now(UTC)
        await self.store.withdraw(cohort_id, participant_id, uow.session)
        cancelled: list[PairModel] = []
        for pair in await self.store.active_pairs_of(participant_id, uow.session):
            if pair.status in OPEN:
                pair.status = PairStatus.DECLINED
                uow.publish(
                    PairDeclined(
                        tenant_id=pair.tenant_id,
                        cohort_id=pair.cohort_id,
                        pair_id=pair.pair_id,
                        mentor_id=pair.mentor_id,
                        mentee_id=pair.mentee_id,
                        by_participant_id=participant_id,
                        by_role=role,
                        declined_at=now,
                        reason=WITHDRAWN,
                    )
                )
                cancelled.append(pair)
        await self.store.save_pairs(cancelled, uow.session)
        await self.store.discard_drafts(cohort_id, uow.session, participant_id=participant_id)
        if cancelled:
            await self._rematch_if_rolling(uow, cohort_id)

    async def _rematch_if_rolling(self, uow: UnitOfWork, cohort_id: str) -> None:
        cohort = await self.store.cohort(cohort_id, uow.session)
        if cohort is not None and cohort.rolling:
            await self.run_round(uow, cohort, RoundTrigger.ROLLING, draft=False)
