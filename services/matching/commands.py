"""The matching service's use cases: rounds, the programme team's edits, people's answers.

Each method is one use case. Those called from HTTP own their unit of work: one outbox
transaction, run again from the start on a write conflict (both sides of a pair answering at the
same moment), so state and the events it causes commit together. Those called by the consumers
(``open_cohort``, ``close_cohort``, ``add_to_pool``, ``withdraw``, ``remember_goals``,
``forget_goals``) run inside the consumer's
transaction for the whole batch, passed in as ``uow``. Time comes from the injected clock.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TypeVar

from contracts.enrolment import ParticipantEnrolled
from contracts.matching import RoundTrigger
from contracts.policy import MatchingPolicy as CohortPolicy
from contracts.policy import Objective
from contracts.profiles import ParticipantProfile
from services.matching.domain import (
    ACTIVE,
    WITHDRAWN,
    Cohort,
    Pair,
    PairStatus,
    Round,
    RoundSummary,
    candidate_from,
    new_round_id,
    pair_from,
    pair_keys,
    round_statistics,
)
from services.matching.engine import FixedPairError, match
from services.matching.store import MatchingStore
from services.runtime.clock import Clock, utc_now
from services.runtime.errors import Invalid, NotFound
from services.runtime.outbox import Outbox, UnitOfWork

T = TypeVar("T")


class MatchingCommands:
    def __init__(
        self, outbox: Outbox, store: MatchingStore, *, clock: Clock = utc_now, attempts: int = 4
    ) -> None:
        self.outbox = outbox
        self.store = store
        self.clock = clock
        self.attempts = attempts

    async def _run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        return await self.outbox.retrying(work, attempts=self.attempts)

    # reads that apply a rule ---------------------------------------------------------------

    async def cohort(self, tenant_id: str, cohort_id: str, uow: UnitOfWork | None = None
                     ) -> Cohort:
        """The business unit's cohort, or the 404 that hides another unit's."""
        cohort = await self.store.cohort(tenant_id, cohort_id, uow.session if uow else None)
        if cohort is None:
            raise NotFound("cohort-not-found", f"no cohort {cohort_id} in your business unit")
        return cohort

    async def round(self, tenant_id: str, cohort_id: str, round_id: str,
                    uow: UnitOfWork | None = None) -> Round:
        cohort = await self.cohort(tenant_id, cohort_id, uow)
        rnd = await self.store.round(cohort, round_id, uow.session if uow else None)
        if rnd is None:
            raise NotFound("round-not-found", f"no round {round_id} in cohort {cohort_id}")
        return rnd

    async def rounds(self, tenant_id: str, cohort_id: str) -> list[RoundSummary]:
        return await self.store.rounds_of(await self.cohort(tenant_id, cohort_id))

    async def pairs(self, tenant_id: str, cohort_id: str, status: PairStatus | None
                    ) -> list[Pair]:
        await self.cohort(tenant_id, cohort_id)
        return await self.store.pairs_of(cohort_id, (status,) if status else None)

    async def pair(self, tenant_id: str, pair_id: str, *, reader: str | None, admin: bool,
                   uow: UnitOfWork | None = None) -> Pair:
        """The pair if the reader may see it (:meth:`Pair.visible_to`), else its 404."""
        pair = await self.store.pair(tenant_id, pair_id, uow.session if uow else None)
        if pair is None or not pair.visible_to(tenant_id, reader, admin=admin):
            raise NotFound("pair-not-found", f"no pair {pair_id} for you")
        return pair

    async def own_pairs(self, tenant_id: str, participant_id: str) -> list[Pair]:
        """The participant's announced pairs in every cohort of their business unit."""
        pairs = await self.store.pairs_of_participant(tenant_id, participant_id)
        return [p for p in pairs if p.visible_to(tenant_id, participant_id, admin=False)]

    # the programme team --------------------------------------------------------------------

    async def run_round(self, tenant_id: str, cohort_id: str, *, draft: bool,
                        objective: Objective | None) -> Round:
        """Run a round now: published at once, or kept as a draft to inspect and edit first."""

        async def work(uow: UnitOfWork) -> Round:
            cohort = await self.cohort(tenant_id, cohort_id, uow)
            return await self._match(uow, cohort, RoundTrigger.ADMIN, draft=draft,
                                     objective=objective)

        return await self._run(work)

    async def lock_pair(self, tenant_id: str, cohort_id: str, round_id: str, pair_id: str
                        ) -> Pair:
        """Keep one draft pair whatever later re-solving of the draft does."""

        async def work(uow: UnitOfWork) -> Pair:
            rnd = await self.round(tenant_id, cohort_id, round_id, uow)
            rnd.check_editable()
            pair = rnd.pair(pair_id)
            pair.lock()
            await self.store.save_pairs([pair], uow.session)
            return pair

        return await self._run(work)

    async def fix_pair(self, tenant_id: str, cohort_id: str, round_id: str, *, mentor_id: str,
                       mentee_id: str) -> Round:
        """Re-solve the draft with this pair (and every locked one) fixed."""

        async def work(uow: UnitOfWork) -> Round:
            cohort = await self.cohort(tenant_id, cohort_id, uow)
            rnd = await self.round(tenant_id, cohort_id, round_id, uow)
            rnd.check_editable()
            fixed = {(p.mentor_id, p.mentee_id) for p in rnd.pairs if p.locked}
            fixed.add((mentor_id, mentee_id))
            try:
                return await self._match(uow, cohort, rnd.trigger, draft=True,
                                         objective=rnd.objective, fixed=fixed,
                                         round_id=rnd.round_id)
            except FixedPairError as exc:
                raise Invalid("pair-breaks-rules", str(exc)) from None

        return await self._run(work)

    async def publish_round(self, tenant_id: str, cohort_id: str, round_id: str) -> Round:
        """Announce a draft: PairProposed for each pair, then MatchingRoundCompleted."""

        async def work(uow: UnitOfWork) -> Round:
            cohort = await self.cohort(tenant_id, cohort_id, uow)
            rnd = await self.round(tenant_id, cohort_id, round_id, uow)
            await self._publish(uow, rnd, cohort.policy)
            return rnd

        return await self._run(work)

    # participants --------------------------------------------------------------------------

    async def answer(self, tenant_id: str, pair_id: str, participant_id: str, *, accept: bool,
                     reason: str | None = None) -> Pair:
        """One side's yes or no; a no in a rolling cohort rematches both at once.

        Only a member of the pair answers; anyone else, admins included, gets the pair's 404.
        """

        async def work(uow: UnitOfWork) -> Pair:
            now = self.clock()
            pair = await self.pair(tenant_id, pair_id, reader=participant_id, admin=False,
                                   uow=uow)
            if accept:
                for event in pair.accept(participant_id, now):
                    uow.publish(event)
            else:
                uow.publish(pair.decline(participant_id, now, reason))
            await self.store.save_pairs([pair], uow.session)
            if not accept:
                await self._rematch_if_rolling(uow, tenant_id, pair.cohort_id)
            return pair

        return await self._run(work)

    # enrolment facts (inside the consumer's unit of work) ---------------------------------

    async def open_cohort(self, uow: UnitOfWork, tenant_id: str, cohort_id: str,
                          policy: CohortPolicy) -> None:
        await self.store.save_cohort(tenant_id, cohort_id, policy, uow.session)

    async def close_cohort(self, uow: UnitOfWork, tenant_id: str, cohort_id: str) -> None:
        """Batch cohorts are matched once enrolment closes."""
        await self.store.close_cohort(cohort_id, uow.session)
        cohort = await self.store.cohort(tenant_id, cohort_id, uow.session)
        if cohort is not None and not cohort.rolling:
            await self._match(uow, cohort, RoundTrigger.COHORT_CLOSED, draft=False)

    async def add_to_pool(self, uow: UnitOfWork, enrolled: list[ParticipantEnrolled]) -> None:
        """Add a run of enrolments in one write; rolling cohorts match the newcomers at once."""
        entries = [(e.cohort_id, e.role, candidate_from(e)) for e in enrolled]
        await self.store.add_to_pool(entries, uow.session)
        cohorts = dict.fromkeys((e.tenant_id, e.cohort_id) for e in enrolled)
        for tenant_id, cohort_id in cohorts:
            await self._rematch_if_rolling(uow, tenant_id, cohort_id)

    async def remember_goals(self, uow: UnitOfWork, profiles: list[ParticipantProfile]
                             ) -> None:
        """Keep each enrolment's goals (from the profile topic) for the similarity factor.

        A rolling cohort matches a newcomer when ``ParticipantEnrolled`` arrives; goals that
        arrive later count from the next round on.
        """
        await self.store.save_goals(
            [(p.cohort_id, p.participant_id, p.goals, p.enrolled_at) for p in profiles],
            uow.session)

    async def forget_goals(self, uow: UnitOfWork, enrolments: list[tuple[str, str]]) -> None:
        """A profile's tombstone: erase the goals kept of each ``(cohort, participant)``."""
        await self.store.erase_goals(enrolments, uow.session)

    async def withdraw(self, uow: UnitOfWork, tenant_id: str, cohort_id: str,
                       participant_id: str, withdrawn_at: datetime | None = None) -> None:
        """Leave this cohort's pool, erasing what the pool kept of the person; their open
        proposals are declined on their behalf.

        Only this cohort of this business unit: the same directory id enrolled elsewhere keeps
        every proposal there.
        """
        now = self.clock()
        await self.store.withdraw(cohort_id, participant_id, withdrawn_at, uow.session)
        declined = await self.store.open_pairs_of(tenant_id, cohort_id, participant_id,
                                                  uow.session)
        for pair in declined:
            uow.publish(pair.decline(participant_id, now, WITHDRAWN))
        await self.store.save_pairs(declined, uow.session)
        await self.store.discard_drafts(cohort_id, uow.session, participant_id=participant_id)
        if declined:
            await self._rematch_if_rolling(uow, tenant_id, cohort_id)

    # the round itself ----------------------------------------------------------------------

    async def _match(
        self,
        uow: UnitOfWork,
        cohort: Cohort,
        trigger: RoundTrigger,
        *,
        draft: bool,
        objective: Objective | None = None,
        fixed: Iterable[tuple[str, str]] = (),
        round_id: str | None = None,
    ) -> Round:
        """Match the cohort's free people; keep active pairs; never repeat a declined pair.

        Raises the engine's ``FixedPairError`` when a fixed pair breaks a hard rule.
        """
        now = self.clock()
        session = uow.session
        mentors, mentees = await self.store.pool_of(cohort.cohort_id, session)
        active = await self.store.pairs_of(cohort.cohort_id, ACTIVE, session)
        declined = pair_keys(
            await self.store.pairs_of(cohort.cohort_id, (PairStatus.DECLINED,), session)
        )
        kept = pair_keys(active)
        wanted = set(fixed)
        chosen_objective = objective or cohort.policy.objective
        started = time.perf_counter()
        result = match(mentors, mentees, cohort.policy, declined, [*kept, *wanted],
                       objective=chosen_objective)
        seconds = time.perf_counter() - started
        rnd = Round(round_id or new_round_id(now), cohort.tenant_id, cohort.cohort_id, trigger,
                    chosen_objective)
        for chosen in result.pairs:
            if (chosen.mentor_id, chosen.mentee_id) in kept:
                continue
            pair = pair_from(chosen, tenant_id=cohort.tenant_id, cohort_id=cohort.cohort_id,
                             round_id=rnd.round_id)
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
            await self._publish(uow, rnd, cohort.policy)
        return rnd

    async def _publish(self, uow: UnitOfWork, rnd: Round, policy: CohortPolicy) -> None:
        now = self.clock()
        for event in rnd.publish(policy, now):
            uow.publish(event)
        await self.store.save_pairs(rnd.pairs, uow.session)
        await self.store.save_round(rnd, now, uow.session)

    async def _rematch_if_rolling(self, uow: UnitOfWork, tenant_id: str, cohort_id: str
                                  ) -> None:
        cohort = await self.store.cohort(tenant_id, cohort_id, uow.session)
        if cohort is not None and cohort.rolling:
            await self._match(uow, cohort, RoundTrigger.ROLLING, draft=False)
