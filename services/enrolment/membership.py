"""How people enter a cohort: in batches, whether they come one by one or from an import.

:meth:`EnrolmentWriter.write` enrols a batch of assessed applications of one cohort in ONE
transaction of a handful of round trips, whatever the batch size: one query for who of them is
enrolled already (by participant id or e-mail hash), one fence update of the cohort (window
check and counters), one ``insert_many`` of the new participants and one outbox ``insert_many``
of their records: per enrolment its ``ParticipantProfile`` (contact details, goals) for the
compacted profile topic, then its pseudonymous ``ParticipantEnrolled``, which names the
enrolment's erasure key so a withdrawal can delete its outbox copy. Someone already enrolled is
reported with their participant id and never changed, so writing the same batch twice changes
nothing the second time. An import chunk is one batch; single enrolments arriving together for
one cohort are grouped into one batch (:class:`~services.enrolment.batching.GroupCommit`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from pymongo.errors import DuplicateKeyError

from contracts.enrolment import ParticipantEnrolled
from services.enrolment.batching import GroupCommit
from services.enrolment.counts import enrolment_increments
from services.enrolment.domain import Assessed, Outcome
from services.enrolment.store import EnrolmentStore, email_key, person_key
from services.enrolment.transactions import Transactions
from services.runtime.clock import Clock
from services.runtime.errors import Conflict
from services.runtime.outbox import UnitOfWork

Result = tuple[Outcome, str]
"""``(accepted, participant id)`` or ``(already_enrolled, the existing participant id)``."""


@dataclass(frozen=True)
class Candidate:
    """An assessed application, ready to store: its event, its profile and its participant
    document."""

    assessed: Assessed
    email_hash: str
    document: dict[str, Any]
    correlation_id: str | None = None

    @property
    def event(self) -> ParticipantEnrolled:
        return self.assessed.event


class EnrolmentWriter:
    def __init__(self, transactions: Transactions, store: EnrolmentStore, *,
                 clock: Clock, max_batch: int) -> None:
        self.transactions = transactions
        self.store = store
        self.clock = clock
        self.max_batch = max_batch
        self._groups: weakref.WeakValueDictionary[str, GroupCommit[Candidate, Result]] = (
            weakref.WeakValueDictionary())

    async def enrol_one(self, candidate: Candidate) -> Result:
        """Enrol one person, in a batch with whoever else is enrolling in the cohort now."""
        cohort_id = candidate.event.cohort_id
        group = self._groups.get(cohort_id)
        if group is None:
            group = self._groups[cohort_id] = GroupCommit(
                lambda batch: self.write(cohort_id, batch), self.max_batch)
        return await group.submit(candidate)

    async def write(self, cohort_id: str, candidates: list[Candidate]) -> list[Result]:
        """Enrol a batch of one cohort; ``Conflict`` if the cohort no longer accepts any."""
        async with self.transactions.cohort_turn(cohort_id):
            try:
                return await self.transactions.run(
                    lambda uow: self._write(cohort_id, candidates, uow))
            except DuplicateKeyError:  # another replica enrolled one of them: classify again
                return await self.transactions.run(
                    lambda uow: self._write(cohort_id, candidates, uow))

    async def _write(self, cohort_id: str, candidates: list[Candidate], uow: UnitOfWork
                     ) -> list[Result]:
        found = await self.store.enrolled_under(
            cohort_id, [c.event.participant_id for c in candidates],
            [c.email_hash for c in candidates], uow.session)
        results: list[Result] = []
        fresh: list[Candidate] = []
        for c in candidates:
            pid = c.event.participant_id
            keys = (person_key(cohort_id, pid), email_key(cohort_id, c.email_hash))
            existing = found.get(keys[0]) or found.get(keys[1])
            if existing:
                results.append((Outcome.ALREADY_ENROLLED, existing))
                continue
            found.update(dict.fromkeys(keys, pid))  # a later candidate of the same person
            results.append((Outcome.ACCEPTED, pid))
            fresh.append(c)
        if fresh:
            counters = enrolment_increments((c.event.role.value, c.event.department)
                                            for c in fresh)
            if not await self.store.fence_open_cohort(cohort_id, self.clock(), counters,
                                                      uow.session):
                raise Conflict("cohort-closed", f"enrolment for cohort {cohort_id} has closed")
            await self.store.insert_participants([c.document for c in fresh], uow.session)
            for c in fresh:
                profile = c.assessed.profile
                uow.publish_profile(profile, correlation_id=c.correlation_id)
                uow.publish(c.event, correlation_id=c.correlation_id, erasure_key=profile.key)
        return results
