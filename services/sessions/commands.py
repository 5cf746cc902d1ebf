"""The sessions service's use cases: members' sessions and feedback, admins' reads and ends,
the platform's feedback deadline, and the enrolment and matching facts.

Each method is one use case. Those called from HTTP own their unit of work: one outbox
transaction, run again from the start on a write conflict, so state and the events it causes
commit together. Those called by the consumers take the consumer's transaction for the whole
batch as ``uow``. Time comes from the injected clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from contracts import Event
from contracts.enrolment import ParticipantEnrolled
from contracts.matching import PairConfirmed
from contracts.sessions import CancellationReason, CancelledBy
from services.runtime.clock import Clock, to_millis, utc_now
from services.runtime.errors import Conflict, NotFound
from services.runtime.outbox import Outbox, UnitOfWork
from services.sessions.domain import (
    WITHDRAWN,
    Cohort,
    Feedback,
    Mentorship,
    MentorshipStatus,
    Plan,
    Session,
    SessionStatus,
)
from services.sessions.kpis import Kpis
from services.sessions.store import SessionsStore

T = TypeVar("T")
SWEEP_BATCH = 200


class SessionsCommands:
    def __init__(self, outbox: Outbox, store: SessionsStore, *, clock: Clock = utc_now,
                 attempts: int = 4, feedback_window: timedelta = timedelta(days=7),
                 cadence: timedelta = timedelta(days=30)) -> None:
        self.outbox = outbox
        self.store = store
        self.clock = clock
        self.attempts = attempts
        self.feedback_window = feedback_window
        self.cadence = cadence

    async def _run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        return await self.outbox.retrying(work, attempts=self.attempts)

    # reads that apply a rule ---------------------------------------------------------------

    async def cohort(self, tenant_id: str, cohort_id: str) -> Cohort:
        cohort = await self.store.cohort(tenant_id, cohort_id)
        if cohort is None:
            raise NotFound("cohort-not-found", f"no cohort {cohort_id} in your business unit")
        return cohort

    async def mentorship(self, tenant_id: str, pair_id: str, *, reader: str | None,
                         admin: bool, uow: UnitOfWork | None = None) -> Mentorship:
        """The mentorship if the reader may see it, else its 404 (existence never leaks)."""
        m = await self.store.mentorship(tenant_id, pair_id, uow.session if uow else None)
        if m is None or not m.visible_to(tenant_id, reader, admin=admin):
            raise NotFound("mentorship-not-found", f"no mentorship {pair_id} for you")
        return m

    async def mentorships(self, tenant_id: str, cohort_id: str,
                          status: MentorshipStatus | None, *, after: str | None = None,
                          limit: int = 100) -> list[Mentorship]:
        await self.cohort(tenant_id, cohort_id)
        return await self.store.mentorships_of(tenant_id, cohort_id=cohort_id,
                                               statuses=(status,) if status else (),
                                               after=after, limit=limit)

    async def own_mentorships(self, tenant_id: str, participant_id: str) -> list[Mentorship]:
        return await self.store.mentorships_of(tenant_id, participant_id=participant_id)

    async def sessions(self, tenant_id: str, pair_id: str, *, reader: str | None, admin: bool
                       ) -> list[Session]:
        m = await self.mentorship(tenant_id, pair_id, reader=reader, admin=admin)
        return await self.store.sessions_of(m)

    async def session(self, tenant_id: str, session_id: str, *, reader: str | None,
                      admin: bool, uow: UnitOfWork | None = None) -> Session:
        s = await self.store.session(tenant_id, session_id, uow.session if uow else None)
        if s is None or not (admin or s.role_of(reader) is not None):
            raise NotFound("session-not-found", f"no session {session_id} for you")
        return s

    async def own_feedback(self, tenant_id: str, session_id: str, participant_id: str
                           ) -> tuple[Feedback, str | None]:
        """The caller's own feedback and private note; the other side's is never shown."""
        s = await self.session(tenant_id, session_id, reader=participant_id, admin=False)
        role = s.role_of(participant_id)
        feedback = s.feedback_of(role) if role else None
        if feedback is None:
            raise NotFound("feedback-not-found", "you have given no feedback on this session")
        return feedback, await self.store.note(s, participant_id)

    async def cohort_kpis(self, tenant_id: str, cohort_id: str) -> Kpis:
        await self.cohort(tenant_id, cohort_id)
        return await self.store.kpis(tenant_id, cohort_id, self.clock(), self.cadence)

    async def unit_kpis(self, tenant_id: str) -> Kpis:
        return await self.store.kpis(tenant_id, None, self.clock(), self.cadence)

    # members -------------------------------------------------------------------------------

    async def schedule(self, tenant_id: str, pair_id: str, participant_id: str, plan: Plan
                       ) -> Session:
        """A member puts a new session in both calendars: SessionScheduled."""

        async def work(uow: UnitOfWork) -> Session:
            m = await self.mentorship(tenant_id, pair_id, reader=participant_id, admin=False,
                                      uow=uow)
            others = await self.store.sessions_of(m, uow.session)
            session, event = m.schedule(participant_id, plan, others, self.clock(),
                                        f"sess-{uuid.uuid4().hex[:12]}")
            uow.publish(event)
            await self.store.save_sessions([session], uow.session)
            await self.store.save_mentorship(m, uow.session)
            return session

        return await self._run(work)

    async def reschedule(self, tenant_id: str, session_id: str, participant_id: str,
                         plan: Plan) -> Session:
        """Move a scheduled session: SessionScheduled again, with the next revision."""

        async def work(uow: UnitOfWork) -> Session:
            s, m = await self._own_session(uow, tenant_id, session_id, participant_id)
            others = await self.store.sessions_of(m, uow.session)
            uow.publish(s.reschedule(plan, others, self.clock()))
            await self._save(uow, m, [s])
            return s

        return await self._run(work)

    async def cancel(self, tenant_id: str, session_id: str, participant_id: str,
                     reason: CancellationReason) -> Session:
        async def work(uow: UnitOfWork) -> Session:
            s, m = await self._own_session(uow, tenant_id, session_id, participant_id)
            role = m.member_role(participant_id)
            uow.publish(s.cancel(self.clock(), reason, CancelledBy(role.value), participant_id))
            await self._save(uow, m, [s])
            return s

        return await self._run(work)

    async def hold(self, tenant_id: str, session_id: str, participant_id: str) -> Session:
        """Mark a session as held; the target's one completes the mentorship.

        SessionCompleted follows once both sides gave feedback or the feedback window closed.
        """

        async def work(uow: UnitOfWork) -> Session:
            now = self.clock()
            s, m = await self._own_session(uow, tenant_id, session_id, participant_id)
            s.hold(now)
            others = [o for o in await self.store.sessions_of(m, uow.session,
                                                              (SessionStatus.SCHEDULED,))
                      if o.session_id != s.session_id]
            self._publish(uow, m.count_held(others, now))
            await self._save(uow, m, [s, *others])
            return s

        return await self._run(work)

    async def give_feedback(self, tenant_id: str, session_id: str, participant_id: str, *,
                            rating: int, learned_something: bool, topics: Iterable[str],
                            note: str | None) -> tuple[Feedback, str | None]:
        """One side's feedback on a held session, once; the private note is kept apart."""
        covered = tuple(dict.fromkeys(topics))

        async def work(uow: UnitOfWork) -> tuple[Feedback, str | None]:
            feedback = Feedback(rating, learned_something, covered, self.clock())
            s, m = await self._own_session(uow, tenant_id, session_id, participant_id)
            await self._check_still_enrolled(uow, m, participant_id)
            role = m.member_role(participant_id)
            completed = s.give_feedback(role, feedback, self.feedback_window)
            if completed:
                uow.publish(completed)
            if note:
                await self.store.save_note(s, role, participant_id, note, feedback.given_at,
                                           uow.session)
            await self._save(uow, m, [s])
            return feedback, note or None

        return await self._run(work)

    # admins --------------------------------------------------------------------------------

    async def end_mentorship(self, tenant_id: str, pair_id: str, admin_id: str,
                             reason: str) -> Mentorship:
        """An admin ends a mentorship early; its open sessions are cancelled."""

        async def work(uow: UnitOfWork) -> Mentorship:
            m = await self.mentorship(tenant_id, pair_id, reader=None, admin=True, uow=uow)
            open_sessions = await self.store.sessions_of(m, uow.session,
                                                         (SessionStatus.SCHEDULED,))
            self._publish(uow, m.end(open_sessions, self.clock(), reason=reason,
                                     by=CancelledBy.ADMIN, ended_by=admin_id))
            await self._save(uow, m, open_sessions)
            return m

        return await self._run(work)

    # the platform --------------------------------------------------------------------------

    async def close_lapsed_feedback(self) -> int:
        """Announce held sessions whose feedback window closed; the number announced."""

        async def work(uow: UnitOfWork) -> int:
            lapsed = await self.store.lapsed_feedback(self.clock() - self.feedback_window,
                                                      SWEEP_BATCH, uow.session)
            self._publish(uow, [s.close_feedback() for s in lapsed])
            await self.store.save_sessions(lapsed, uow.session)
            return len(lapsed)

        total = 0
        while closed := await self._run(work):
            total += closed
            if closed < SWEEP_BATCH:
                break
        return total

    # enrolment and matching facts (inside the consumer's unit of work) ---------------------

    async def open_cohort(self, uow: UnitOfWork, cohort: Cohort) -> None:
        await self.store.save_cohort(cohort, uow.session)

    async def add_people(self, uow: UnitOfWork, enrolled: list[ParticipantEnrolled]) -> None:
        """Departments, for the cross-department share; a mentorship confirmed before its
        members' enrolments arrived learns them now."""
        await self.store.save_people(
            [(e.tenant_id, e.cohort_id, e.participant_id, e.department) for e in enrolled],
            uow.session)
        departments = {(e.tenant_id, e.cohort_id, e.participant_id): e.department
                       for e in enrolled}
        found = await self.store.mentorships_with(list(departments), uow.session)
        for m in found:
            for side, person in (("mentor", m.mentor_id), ("mentee", m.mentee_id)):
                known = departments.get((m.tenant_id, m.cohort_id, person))
                if known is not None:
                    m.departments[side] = known
            await self.store.save_mentorship(m, uow.session)

    async def start_mentorship(self, uow: UnitOfWork, confirmed: PairConfirmed) -> None:
        """A confirmed pair becomes a mentorship, once; a member who withdrew before the
        confirmation reached us ends it at once."""
        cohort = await self.store.know_cohort(confirmed.tenant_id, confirmed.cohort_id,
                                              uow.session)
        people = await self.store.people_of(
            confirmed.tenant_id, confirmed.cohort_id,
            [confirmed.mentor_id, confirmed.mentee_id], uow.session)
        m = Mentorship(
            pair_id=confirmed.pair_id, tenant_id=confirmed.tenant_id,
            cohort_id=confirmed.cohort_id, mentor_id=confirmed.mentor_id,
            mentee_id=confirmed.mentee_id, confirmed_at=to_millis(confirmed.confirmed_at),
            session_target=cohort.session_target,
            departments={"mentor": people.get(confirmed.mentor_id, {}).get("department"),
                         "mentee": people.get(confirmed.mentee_id, {}).get("department")},
        )
        if not await self.store.add_mentorship(m, uow.session):
            return
        for person in (m.mentor_id, m.mentee_id):
            withdrawn_at = people.get(person, {}).get("withdrawn_at")
            if withdrawn_at is not None and withdrawn_at >= m.confirmed_at:
                self._publish(uow, m.end([], self.clock(), reason=WITHDRAWN, ended_by=person))
                await self.store.save_mentorship(m, uow.session)
                return

    async def withdraw(self, uow: UnitOfWork, tenant_id: str, cohort_id: str,
                       participant_id: str, withdrawn_at: datetime) -> None:
        """End the person's mentorships in this cohort of this business unit, cancel what is
        open, and erase their notes and the sessions' free text; the numbers stay.

        The same directory id in another cohort, or another unit, is not touched.
        """
        now = self.clock()
        await self.store.withdraw_person(tenant_id, cohort_id, participant_id, withdrawn_at,
                                         uow.session)
        theirs = await self.store.mentorships_of(tenant_id, cohort_id=cohort_id,
                                                 participant_id=participant_id,
                                                 session=uow.session)
        for m in theirs:
            if m.status is not MentorshipStatus.ACTIVE:
                continue
            open_sessions = await self.store.sessions_of(m, uow.session,
                                                         (SessionStatus.SCHEDULED,))
            self._publish(uow, m.end(open_sessions, now, reason=WITHDRAWN,
                                     ended_by=participant_id))
            await self._save(uow, m, open_sessions)
        await self.store.erase_notes(tenant_id, cohort_id, participant_id, uow.session)
        await self.store.erase_details(theirs, uow.session)

    # helpers of the unit of work -----------------------------------------------------------

    async def _own_session(self, uow: UnitOfWork, tenant_id: str, session_id: str,
                           participant_id: str) -> tuple[Session, Mentorship]:
        """The session and its mentorship, if the caller is one of its two members."""
        s = await self.session(tenant_id, session_id, reader=participant_id, admin=False,
                               uow=uow)
        m = await self.mentorship(tenant_id, s.pair_id, reader=participant_id, admin=False,
                                  uow=uow)
        return s, m

    async def _check_still_enrolled(self, uow: UnitOfWork, m: Mentorship,
                                    participant_id: str) -> None:
        """Someone who left the cohort after this mentorship began gives no more feedback:
        their words were erased and must not come back."""
        person = (await self.store.people_of(m.tenant_id, m.cohort_id, [participant_id],
                                             uow.session)).get(participant_id, {})
        withdrawn_at = person.get("withdrawn_at")
        if withdrawn_at is not None and withdrawn_at >= m.confirmed_at:
            raise Conflict("participant-withdrawn", "you have left this cohort")

    async def _save(self, uow: UnitOfWork, m: Mentorship, sessions: list[Session]) -> None:
        await self.store.save_sessions(sessions, uow.session)
        await self.store.save_mentorship(m, uow.session)

    @staticmethod
    def _publish(uow: UnitOfWork, events: Iterable[Event | None]) -> None:
        for event in events:
            if event is not None:
                uow.publish(event)
