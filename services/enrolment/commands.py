"""What changes enrolment state: each command is one outbox transaction with its event.

Open a cohort → ``CohortOpened``; close it → ``CohortClosed``; enrol → ``ParticipantEnrolled``;
withdraw → ``ParticipantWithdrawn``. Rules come from :mod:`domain`, documents from :mod:`store`,
retries and turns from :mod:`transactions`; enrolments are written by :mod:`membership`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from contracts.enrolment import (
    Actor,
    CloseReason,
    CohortClosed,
    CohortOpened,
    ParticipantWithdrawn,
    Role,
)
from services.enrolment.counts import CohortCounts, withdrawal_increments
from services.enrolment.domain import (
    Application,
    CohortSpec,
    CohortStatus,
    CohortTerms,
    Outcome,
    assess,
    check_accepts_enrolment,
    check_new_cohort,
    email_hash,
)
from services.enrolment.membership import Candidate, EnrolmentWriter
from services.enrolment.store import Document, EnrolmentStore, participant_document, terms
from services.enrolment.transactions import Transactions
from services.runtime.clock import Clock, utc_now
from services.runtime.errors import Conflict, NotFound
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

    async def cohort_terms(self, tenant_id: str, cohort_id: str) -> CohortTerms:
        doc = await self.store.cohort(tenant_id, cohort_id)
        if doc is None:
            raise NotFound("cohort-not-found", f"no cohort {cohort_id}")
        return terms(doc)

    async def open_cohort(self, tenant_id: str, spec: CohortSpec, *, created_by: str,
                          correlation_id: str | None = None) -> Document:
        now = self.clock()
        opens_at, closes_at = check_new_cohort(spec, now)
        cohort_id = f"coh-{ObjectId()}"
        event = CohortOpened(
            tenant_id=tenant_id, cohort_id=cohort_id, name=spec.name, languages=spec.languages,
            opens_at=opens_at, closes_at=closes_at, session_target=spec.session_target,
            matching_policy=spec.matching_policy,
        )
        doc: Document = {
            "_id": cohort_id, "tenant_id": tenant_id, "name": spec.name,
            "languages": spec.languages, "opens_at": opens_at, "closes_at": closes_at,
            "session_target": spec.session_target,
            "matching_policy": spec.matching_policy.model_dump(mode="json"),
            "status": CohortStatus.OPEN.value, "revision": 0, "created_at": now,
            "created_by": created_by, "closed_at": None, "close_reason": None,
        }

        async def work(uow: UnitOfWork) -> None:
            await self.store.insert_cohort(doc, uow.session)
            uow.publish(event, correlation_id=correlation_id)

        await self.transactions.run(work)
        with bound(tenant=tenant_id, cohort=cohort_id):
            log.info("cohort_opened", closes_at=closes_at.isoformat())
        return doc

    async def close_cohort(self, tenant_id: str, cohort_id: str, *, reason: CloseReason,
                           closed_at: datetime | None = None,
                           correlation_id: str | None = None) -> Document:
        """Close an open cohort with the counts of who is enrolled at that moment."""
        when = closed_at or self.clock()

        async def work(uow: UnitOfWork) -> Document:
            doc = await self.store.close_cohort(tenant_id, cohort_id, when, reason, uow.session)
            if doc is None:
                if await self.store.cohort(tenant_id, cohort_id, uow.session) is None:
                    raise NotFound("cohort-not-found", f"no cohort {cohort_id}")
                raise Conflict("cohort-closed", f"cohort {cohort_id} is already closed")
            tally = CohortCounts.of(doc.get("counts")).enrolled
            uow.publish(CohortClosed(
                tenant_id=tenant_id, cohort_id=cohort_id, closed_at=when, reason=reason,
                enrolled_mentors=tally.mentor, enrolled_mentees=tally.mentee,
            ), correlation_id=correlation_id)
            return doc

        async with self.transactions.cohort_turn(cohort_id):
            doc = await self.transactions.run(work)
        with bound(tenant=tenant_id, cohort=cohort_id):
            log.info("cohort_closed", reason=reason.value)
        return doc

    async def enrol(self, tenant_id: str, cohort_id: str, app: Application, *,
                    participant_id: str, actor: Actor,
                    correlation_id: str | None = None) -> Document:
        """Enrol one person; 404 unknown cohort, 409 closed or duplicate, 422 rule broken."""
        now = self.clock()
        cohort = await self.cohort_terms(tenant_id, cohort_id)
        check_accepts_enrolment(cohort, now)
        event = assess(app, cohort, participant_id=participant_id, actor=actor, now=now)
        hashed = self.hash_email(event.email)
        doc = participant_document(event, hashed, now)
        outcome, existing = await self.writer.enrol_one(
            Candidate(event, hashed, doc, correlation_id))
        if outcome is Outcome.ALREADY_ENROLLED:
            raise Conflict("already-enrolled", "this person or e-mail address is already "
                           "enrolled in the cohort", participant_id=existing)
        with bound(tenant=tenant_id, cohort=cohort_id):
            log.info("participant_enrolled", participant_id=participant_id, role=app.role.value,
                     enrolled_by=actor.value)
        return doc

    async def withdraw(self, tenant_id: str, cohort_id: str, participant_id: str, *,
                       actor: Actor, reason: str | None = None,
                       correlation_id: str | None = None) -> dict[str, Any]:
        """Withdraw and erase the person's data here; allowed at any time, also after close."""
        now = self.clock()

        async def work(uow: UnitOfWork) -> Role:
            before = await self.store.withdraw(tenant_id, cohort_id, participant_id, now=now,
                                               actor=actor, reason=reason, session=uow.session)
            if before is None:
                raise NotFound("participant-not-found", "no such participant in this cohort")
            counters = withdrawal_increments(before["role"], before["department"])
            await self.store.fence_cohort(tenant_id, cohort_id, counters, uow.session)
            role = Role(before["role"])
            uow.publish(ParticipantWithdrawn(
                tenant_id=tenant_id, cohort_id=cohort_id, participant_id=participant_id,
                role=role, withdrawn_at=now, withdrawn_by=actor, reason=reason,
            ), correlation_id=correlation_id)
            return role

        async with self.transactions.cohort_turn(cohort_id):
            role = await self.transactions.run(work)
        with bound(tenant=tenant_id, cohort=cohort_id):
            log.info("participant_withdrawn", participant_id=participant_id,
                     withdrawn_by=actor.value)
        return {"participant_id": participant_id, "cohort_id": cohort_id, "role": role.value,
                "withdrawn_at": now, "withdrawn_by": actor.value, "reason": reason}
