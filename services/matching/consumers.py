"""Event handlers: the pool and policies are built from the enrolment service's facts.

Idempotence comes from the runtime's inbox; the handlers are also written so that a replay
rewrites the same rows (upserts keyed by cohort and participant).
"""

from __future__ import annotations

from contracts import Envelope
from contracts.enrolment import (
    CohortClosed,
    CohortOpened,
    ParticipantEnrolled,
    ParticipantWithdrawn,
)
from contracts.matching import RoundTrigger
from contracts.topics import ENROLMENT
from services.matching.domain import candidate_from
from services.matching.matchmaking import Matchmaker
from services.matching.store import MatchingStore
from services.runtime.consumer import Bulk
from services.runtime.outbox import UnitOfWork
from services.runtime.service import Service


class EnrolmentFacts:
    """Consumes ``revmentor.enrolment.v1`` into the pool; triggers batch and rolling rounds."""

    def __init__(self, store: MatchingStore, matchmaker: Matchmaker) -> None:
        self.store = store
        self.matchmaker = matchmaker

    def subscribe(self, service: Service) -> None:
        service.consume(
            "enrolment-facts",
            [ENROLMENT],
            {
                CohortOpened: self.cohort_opened,
                CohortClosed: self.cohort_closed,
                ParticipantEnrolled: Bulk(self.participants_enrolled),
                ParticipantWithdrawn: self.participant_withdrawn,
            },
        )

    async def cohort_opened(self, env: Envelope, uow: UnitOfWork) -> None:
        event = env.event
        assert isinstance(event, CohortOpened)
        await self.store.save_cohort(
            event.tenant_id, event.cohort_id, event.matching_policy, uow.session
        )

    async def cohort_closed(self, env: Envelope, uow: UnitOfWork) -> None:
        """Batch cohorts are matched once enrolment closes."""
        await self.store.close_cohort(env.cohort_id, uow.session)
        cohort = await self.store.cohort(env.cohort_id, uow.session)
        if cohort is not None and not cohort.rolling:
            await self.matchmaker.run_round(uow, cohort, RoundTrigger.COHORT_CLOSED, draft=False)

    async def participants_enrolled(self, envs: list[Envelope], uow: UnitOfWork) -> None:
        """Add a run of enrolments in one write; rolling cohorts match the newcomers at once."""
        entries = []
        for env in envs:
            event = env.event
            assert isinstance(event, ParticipantEnrolled)
            entries.append((event.cohort_id, event.role, candidate_from(event)))
        await self.store.add_to_pool(entries, uow.session)
        for cohort_id in dict.fromkeys(env.cohort_id for env in envs):
            cohort = await self.store.cohort(cohort_id, uow.session)
            if cohort is not None and cohort.rolling:
                await self.matchmaker.run_round(uow, cohort, RoundTrigger.ROLLING, draft=False)

    async def participant_withdrawn(self, env: Envelope, uow: UnitOfWork) -> None:
        event = env.event
        assert isinstance(event, ParticipantWithdrawn)
        await self.matchmaker.withdraw(uow, event.cohort_id, event.participant_id, event.role)
