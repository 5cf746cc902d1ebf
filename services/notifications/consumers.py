"""Event handlers: every other service's facts become deliveries and projections.

Each handler maps a run of events of one type to one command, inside the consumer's transaction
for the batch, and offers the same events to the business units' webhook subscriptions.
Idempotence comes twice: the runtime's inbox drops a redelivered event, and the deliveries'
unique key would make its claim a no-op anyway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from contracts import Envelope
from contracts.base import Event
from contracts.enrolment import (
    CohortClosed,
    CohortOpened,
    ParticipantEnrolled,
    ParticipantWithdrawn,
)
from contracts.matching import (
    MatchingRoundCompleted,
    PairAccepted,
    PairConfirmed,
    PairDeclined,
    PairProposed,
)
from contracts.profiles import ParticipantProfile
from contracts.sessions import (
    MentorshipCompleted,
    SessionCancelled,
    SessionCompleted,
    SessionScheduled,
)
from contracts.topics import ENROLMENT, MATCHING, SESSIONS
from services.notifications.commands import NotificationsCommands
from services.notifications.directory import Contact
from services.runtime.consumer import Bulk
from services.runtime.outbox import UnitOfWork
from services.runtime.service import Service

Each = Callable[[UnitOfWork, Envelope], Awaitable[None]]
Many = Callable[[UnitOfWork, list[Envelope]], Awaitable[None]]


def register(service: Service, commands: NotificationsCommands) -> None:
    """Subscribe to the enrolment, matching and sessions topics as one consumer group."""

    def each(command: Each | None) -> Bulk:
        async def apply(envs: list[Envelope], uow: UnitOfWork) -> None:
            if command is not None:
                for env in envs:
                    uow.cause = env
                    await command(uow, env)
            await commands.fan_out(uow, envs)

        return Bulk(apply)

    def many(command: Many) -> Bulk:
        async def apply(envs: list[Envelope], uow: UnitOfWork) -> None:
            await command(uow, envs)
            await commands.fan_out(uow, envs)

        return Bulk(apply)

    async def cohorts_opened(uow: UnitOfWork, envs: list[Envelope]) -> None:
        await commands.cohorts_opened(
            uow, [e.event for e in envs if isinstance(e.event, CohortOpened)])

    handlers: dict[type[Event], Bulk] = {
        CohortOpened: many(cohorts_opened),
        CohortClosed: each(None),
        ParticipantEnrolled: many(commands.enrolled),
        ParticipantWithdrawn: each(commands.withdrawn),
        PairProposed: many(commands.pairs_proposed),
        PairAccepted: each(commands.pair_answered),
        PairDeclined: each(commands.pair_answered),
        PairConfirmed: each(commands.pair_confirmed),
        MatchingRoundCompleted: each(None),
        SessionScheduled: each(commands.session_scheduled),
        SessionCancelled: each(commands.session_cancelled),
        SessionCompleted: each(commands.session_completed),
        MentorshipCompleted: each(commands.mentorship_completed),
    }
    service.consume("facts", [ENROLMENT, MATCHING, SESSIONS], handlers)

    async def profiles(found: list[ParticipantProfile], uow: UnitOfWork) -> None:
        await commands.contacts(uow, [
            Contact(p.tenant_id, p.cohort_id, p.participant_id, p.name, p.email, p.locale)
            for p in found])

    service.consume_profiles("profiles", profiles, commands.profiles_erased_by_key)
