"""Event handlers: the enrolment and matching services' facts become cohorts and mentorships.

Each handler maps one event to one command, inside the consumer's transaction for the batch.
Idempotence comes from the runtime's inbox; the commands are also written so that a replay
changes nothing (a mentorship is inserted only if absent, an ended one is not ended again).
One consumer reads both topics: they carry no order between each other, so the commands cope
with a PairConfirmed that arrives before its CohortOpened, or after a member's withdrawal.
"""

from __future__ import annotations

from contracts import Envelope
from contracts.enrolment import CohortOpened, ParticipantEnrolled, ParticipantWithdrawn
from contracts.matching import PairConfirmed
from contracts.topics import ENROLMENT, MATCHING
from services.runtime.consumer import Bulk
from services.runtime.outbox import UnitOfWork
from services.runtime.service import Service
from services.sessions.commands import SessionsCommands
from services.sessions.domain import Cohort


class ProgrammeFacts:
    """Consumes ``revmentor.enrolment.v1`` and ``revmentor.matching.v1``."""

    def __init__(self, commands: SessionsCommands) -> None:
        self.commands = commands

    async def cohort_opened(self, env: Envelope, uow: UnitOfWork) -> None:
        event = env.event
        assert isinstance(event, CohortOpened)
        await self.commands.open_cohort(
            uow, Cohort(event.tenant_id, event.cohort_id, event.session_target))

    async def participants_enrolled(self, envs: list[Envelope], uow: UnitOfWork) -> None:
        enrolled = []
        for env in envs:
            assert isinstance(env.event, ParticipantEnrolled)
            enrolled.append(env.event)
        await self.commands.add_people(uow, enrolled)

    async def participant_withdrawn(self, env: Envelope, uow: UnitOfWork) -> None:
        event = env.event
        assert isinstance(event, ParticipantWithdrawn)
        await self.commands.withdraw(uow, event.tenant_id, event.cohort_id,
                                     event.participant_id, event.withdrawn_at)

    async def pair_confirmed(self, env: Envelope, uow: UnitOfWork) -> None:
        event = env.event
        assert isinstance(event, PairConfirmed)
        await self.commands.start_mentorship(uow, event)


def register(service: Service, commands: SessionsCommands) -> None:
    """Subscribe the service's consumer."""
    facts = ProgrammeFacts(commands)
    service.consume(
        "programme-facts",
        [ENROLMENT, MATCHING],
        {
            CohortOpened: facts.cohort_opened,
            ParticipantEnrolled: Bulk(facts.participants_enrolled),
            ParticipantWithdrawn: facts.participant_withdrawn,
            PairConfirmed: facts.pair_confirmed,
        },
    )
