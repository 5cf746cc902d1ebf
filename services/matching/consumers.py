"""Event handlers: the enrolment service's facts become the pool, policies and rounds; the
profile topic gives the pool its goals and takes them back on a tombstone.

Each handler maps one event to one command, inside the consumer's transaction for the batch.
Idempotence comes from the runtime's inbox; the commands are also written so that a replay
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
from contracts.profiles import ParticipantProfile
from contracts.topics import ENROLMENT
from services.matching.commands import MatchingCommands
from services.runtime.consumer import Bulk
from services.runtime.outbox import UnitOfWork
from services.runtime.service import Service


class EnrolmentFacts:
    """Consumes ``revmentor.enrolment.v1`` into the pool; triggers batch and rolling rounds."""

    def __init__(self, commands: MatchingCommands) -> None:
        self.commands = commands

    async def cohort_opened(self, env: Envelope, uow: UnitOfWork) -> None:
        event = env.event
        assert isinstance(event, CohortOpened)
        await self.commands.open_cohort(uow, event.tenant_id, event.cohort_id,
                                        event.matching_policy)

    async def cohort_closed(self, env: Envelope, uow: UnitOfWork) -> None:
        await self.commands.close_cohort(uow, env.tenant_id, env.cohort_id)

    async def participants_enrolled(self, envs: list[Envelope], uow: UnitOfWork) -> None:
        enrolled = []
        for env in envs:
            assert isinstance(env.event, ParticipantEnrolled)
            enrolled.append(env.event)
        await self.commands.add_to_pool(uow, enrolled)

    async def participant_withdrawn(self, env: Envelope, uow: UnitOfWork) -> None:
        event = env.event
        assert isinstance(event, ParticipantWithdrawn)
        await self.commands.withdraw(uow, event.tenant_id, event.cohort_id, event.participant_id,
                                     withdrawn_at=event.withdrawn_at)


class Profiles:
    """Consumes the compacted ``revmentor.enrolment.profiles.v1``: goals kept, tombstones
    obeyed."""

    def __init__(self, commands: MatchingCommands) -> None:
        self.commands = commands

    async def arrived(self, profiles: list[ParticipantProfile], uow: UnitOfWork) -> None:
        await self.commands.remember_goals(uow, profiles)

    async def erased(self, enrolments: list[tuple[str, str]], uow: UnitOfWork) -> None:
        await self.commands.forget_goals(uow, enrolments)


def register(service: Service, commands: MatchingCommands) -> None:
    """Subscribe the service's consumers."""
    facts = EnrolmentFacts(commands)
    service.consume(
        "enrolment-facts",
        [ENROLMENT],
        {
            CohortOpened: facts.cohort_opened,
            CohortClosed: facts.cohort_closed,
            ParticipantEnrolled: Bulk(facts.participants_enrolled),
            ParticipantWithdrawn: facts.participant_withdrawn,
        },
    )
    profiles = Profiles(commands)
    service.consume_profiles("profiles", profiles.arrived, profiles.erased)
