"""What changes enrolment state: each command is one outbox transaction with its event.

Open a cohort → ``CohortOpened``; close it → ``CohortClosed``; enrol → ``ParticipantEnrolled``
and the enrolment's profile; withdraw → ``ParticipantWithdrawn`` and the profile's tombstone.
Rules come from :mod:`domain`, records from :mod:`store`, retries and turns from
:mod:`transactions`; enrolments are written by :mod:`membership`. The
reads that apply a rule (another business unit's cohort is a 404) live here too, so routes call
one method and stay free of rules.
"""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId
from bson.errors import InvalidId

from contracts.enrolment import (
    Actor,
    CloseReason,
    CohortClosed,
    CohortOpened,
    ParticipantWithdrawn,
    Role,
)
from contracts.profiles import profile_key
from services.enrolment.applications import (
    Application,
    CohortSpec,
)
from services.enrolment.counts import withdrawal_increments
from services.enrolment.domain import (
    Cohort,
    CohortTerms,
    Outcome,
    Participant,
    ParticipantStatus,
    Withdrawal,
    assess,
    check_accepts_enrolment,
    check_new_cohort,
    email_hash,
)
from services.enrolment.membership import Candidate, EnrolmentWriter
from services.enrolment.store import (
    EnrolmentStore,
    Page,
    as_cohort,
    as_participant,
    cohort_document,
    participant_document,
)
from services.enrolment.transactions import Transactions
from services.runtime.clock import Clock, utc_now
from services.runtime.errors import Conflict, Invalid, NotFound
from services.runtime.log import bound, get_logger
from services.runtime.outbox import UnitOfWork

log = get_logger(__name__)


class EnrolmentCommands:
    def __init__(self, transactions: Transactions, store: EnrolmentStore, *,
                 email_hash_key: bytes, max_batch: int = 500, clock: Clock = utc_now) -> None:
        self.transactions = transactions
        self.store = store
        self.email_hash_key = email_hash_key
        self.clock = clock
        self.writer = EnrolmentWriter(transactions, store, clock=lambda: self.clock(),
                                      max_batch=max_batch)

    def hash_email(self, email: str) -> str:
        return email_hash(email, self.email_hash_key)

    # reads that apply a rule ---------------------------------------------------------------

    async def cohort(self, tenant_id: str, cohort_id: str) -> Cohort:
        """The business unit's cohort, or the 404 that hides another unit's."""
        cohort = await self.store.cohort(tenant_id, cohort_id)
        if cohort is None:
            raise NotFound("cohort-not-found", f"no cohort {cohort_id}")
        return cohort

    async def cohort_terms(self, tenant_id: str, cohort_id: str) -> CohortTerms:
        return (await self.cohort(tenant_id, cohort_id)).terms

    async def participants(
        self, tenant_id: str, cohort_id: str, *, status: ParticipantStatus, role: Role | None,
        department: str | None, limit: int, cursor: str | None,
    ) -> Page[Participant]:
        """A page of the cohort's participants (withdrawn ones are anonymous rows)."""
        after = _page_after(cursor)
        await self.cohort(tenant_id, cohort_id)
        return await self.store.list_participants(tenant_id, cohort_id, status=status,
                                                  role=role, department=department,
                                                  limit=limit, after=after)

    async def participant(self, tenant_id: str, cohort_id: str, participant_id: str
                          ) -> Participant:
        found = await self.store.participant(tenant_id, cohort_id, participant_id)
        if found is None:
            raise NotFound("participant-not-found", "no such participant in this cohort")
        return found

    # changes -------------------------------------------------------------------------------

    async def open_cohort(self, tenant_id: str, spec: CohortSpec, *, created_by: str,
                          correlation_id: str | None = None) -> Cohort:
        now = self.clock()
        opens_at, closes_at = check_new_cohort(spec, now)
        cohort_id = f"coh-{ObjectId()}"
        event = CohortOpened(
            tenant_id=tenant_id, cohort_id=cohort_id, name=spec.name, languages=spec.languages,
            opens_at=opens_at, closes_at=closes_at, session_target=spec.session_target,
            matching_policy=spec.matching_policy,
        )
        doc = cohort_document(event, now=now, created_by=created_by)

        async def work(uow: UnitOfWork) -> None:
            await self.store.insert_cohort(doc, uow.session)
            uow.publish(event, correlation_id=correlation_id)

        await self.transactions.run(work)
        with bound(tenant=tenant_id, cohort=cohort_id):
            log.info("cohort_opened", closes_at=closes_at.isoformat())
        return as_cohort(doc)

    async def close_cohort(self, tenant_id: str, cohort_id: str, *, reason: CloseReason,
                           closed_at: datetime | None = None,
                           correlation_id: str | None = None) -> Cohort:
        """Close an open cohort with the counts of who is enrolled at that moment."""
        when = closed_at or self.clock()

        async def work(uow: UnitOfWork) -> Cohort:
            closed = await self.store.close_cohort(tenant_id, cohort_id, when, reason,
                                                   uow.session)
            if closed is None:
                if await self.store.cohort(tenant_id, cohort_id, uow.session) is None:
                    raise NotFound("cohort-not-found", f"no cohort {cohort_id}")
                raise Conflict("cohort-closed", f"cohort {cohort_id} is already closed")
            tally = closed.counts.enrolled
            uow.publish(CohortClosed(
                tenant_id=tenant_id, cohort_id=cohort_id, closed_at=when, reason=reason,
                enrolled_mentors=tally.mentor, enrolled_mentees=tally.mentee,
            ), correlation_id=correlation_id)
            return closed

        async with self.transactions.cohort_turn(cohort_id):
            closed = await self.transactions.run(work)
        with bound(tenant=tenant_id, cohort=cohort_id):
            log.info("cohort_closed", reason=reason.value)
        return closed

    async def enrol(self, tenant_id: str, cohort_id: str, app: Application, *,
                    participant_id: str, actor: Actor, correlation_id: str | None = None,
                    reveal_existing: bool = True) -> Participant:
        """Enrol one person; 404 unknown cohort, 409 closed or duplicate, 422 rule broken.

        A duplicate's 409 names the participant already enrolled under the id or e-mail
        address only when ``reveal_existing`` (an admin) or when it is the caller themself.
        """
        now = self.clock()
        cohort = await self.cohort_terms(tenant_id, cohort_id)
        check_accepts_enrolment(cohort, now)
        assessed = assess(app, cohort, participant_id=participant_id, actor=actor, now=now)
        hashed = self.hash_email(assessed.profile.email)
        doc = participant_document(assessed, hashed, now)
        outcome, existing = await self.writer.enrol_one(
            Candidate(assessed, hashed, doc, correlation_id))
        if outcome is Outcome.ALREADY_ENROLLED:
            shown = existing if reveal_existing or existing == participant_id else None
            raise Conflict("already-enrolled", "this person or e-mail address is already "
                           "enrolled in the cohort", participant_id=shown)
        with bound(tenant=tenant_id, cohort=cohort_id):
            log.info("participant_enrolled", participant_id=participant_id, role=app.role.value,
                     enrolled_by=actor.value)
        return as_participant(doc)

    async def withdraw(self, tenant_id: str, cohort_id: str, participant_id: str, *,
                       actor: Actor, reason: str | None = None,
                       correlation_id: str | None = None) -> Withdrawal:
        """Withdraw and erase the person's data here; allowed at any time, also after close.

        In the same transaction: ``ParticipantWithdrawn``, the tombstone of the enrolment's
        profile (every consumer erases its copy), and the enrolment's outbox records deleted
        (those not yet sent go the moment the broker acknowledged them).
        """
        now = self.clock()

        async def work(uow: UnitOfWork) -> Withdrawal:
            before = await self.store.withdraw(tenant_id, cohort_id, participant_id, now=now,
                                               actor=actor, reason=reason, session=uow.session)
            if before is None:
                raise NotFound("participant-not-found", "no such participant in this cohort")
            role, department = before
            counters = withdrawal_increments(role.value, department)
            await self.store.fence_cohort(tenant_id, cohort_id, counters, uow.session)
            uow.publish(ParticipantWithdrawn(
                tenant_id=tenant_id, cohort_id=cohort_id, participant_id=participant_id,
                role=role, withdrawn_at=now, withdrawn_by=actor, reason=reason,
            ), correlation_id=correlation_id)
            uow.erase_profile(cohort_id, participant_id)
            await uow.erase_records_of(profile_key(cohort_id, participant_id))
            return Withdrawal(participant_id=participant_id, cohort_id=cohort_id, role=role,
                              department=department, withdrawn_at=now, withdrawn_by=actor,
                              reason=reason)

        async with self.transactions.cohort_turn(cohort_id):
            withdrawal = await self.transactions.run(work)
        with bound(tenant=tenant_id, cohort=cohort_id):
            log.info("participant_withdrawn", participant_id=participant_id,
                     withdrawn_by=actor.value)
        return withdrawal


def _page_after(cursor: str | None) -> ObjectId | None:
    """The position a page cursor this API handed out stands for."""
    try:
        return ObjectId(cursor) if cursor else None
    except (InvalidId, TypeError):
        raise Invalid("invalid-cursor", "cursor is not one this API returned") from None
