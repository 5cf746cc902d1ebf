"""Which deliveries a fact causes, and when each is due: pure rules, no I/O.

Immediate messages are due now; a reminder is due a configurable number of hours before its
session, a feedback request after the session's planned end, a nudge when a proposal has waited
unanswered for a number of days. Due times are stored with the delivery, so scheduled messages
survive restarts and are claimed by whichever dispatcher finds them due first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from contracts import Envelope
from contracts.enrolment import ParticipantEnrolled, ParticipantWithdrawn
from contracts.matching import PairConfirmed, PairProposed
from contracts.notifications import Channel
from contracts.sessions import MentorshipCompleted, SessionCancelled, SessionScheduled
from services.notifications.domain import Delivery, SessionSlot, Template

TOP_FACTORS = 3


@dataclass(frozen=True)
class Timing:
    reminder_hours_before: int = 24
    nudge_after_days: int = 3
    feedback_delay_minutes: int = 30
    max_fact_age: timedelta = timedelta(days=7)
    """Older facts update projections but e-mail nobody: a replayed history stays quiet."""


class Planner:
    def __init__(self, timing: Timing) -> None:
        self.timing = timing

    def is_news(self, env: Envelope, now: datetime) -> bool:
        return env.time >= now - self.timing.max_fact_age

    def _email(self, env: Envelope, recipient: str, template: Template, due_at: datetime,
               subject_id: str = "", **context: Any) -> Delivery:
        return Delivery(env.tenant_id, env.cohort_id, Channel.EMAIL, recipient, template.value,
                        env.id, due_at, subject_id=subject_id, context=context)

    def welcome(self, env: Envelope, event: ParticipantEnrolled, now: datetime) -> list[Delivery]:
        return [self._email(env, event.participant_id, Template.WELCOME, now,
                            role=event.role.value, consent_given_at=event.consent_given_at)]

    def withdrawal(self, env: Envelope, event: ParticipantWithdrawn, now: datetime
                   ) -> list[Delivery]:
        return [self._email(env, event.participant_id, Template.WITHDRAWAL_CONFIRMED, now,
                            withdrawn_at=event.withdrawn_at)]

    def pair_proposed(self, env: Envelope, event: PairProposed, now: datetime) -> list[Delivery]:
        """Both sides learn why they were proposed; each is nudged if they do not answer."""
        factors = sorted(event.explanation, key=lambda f: f.contribution, reverse=True)
        top = [{"factor": f.factor.value, "contribution": round(f.contribution, 3)}
               for f in factors[:TOP_FACTORS] if f.contribution > 0]
        nudge_at = event.proposed_at + timedelta(days=self.timing.nudge_after_days)
        deliveries = []
        for me, partner, role, teaches, learns in (
            (event.mentor_id, event.mentee_id, "mentor", event.shared_topics,
             event.reverse_shared_topics),
            (event.mentee_id, event.mentor_id, "mentee", event.reverse_shared_topics,
             event.shared_topics),
        ):
            context = {"pair_id": event.pair_id, "role": role, "partner_id": partner,
                       "top_factors": top, "teaches": list(teaches), "learns": list(learns)}
            deliveries.append(self._email(env, me, Template.PAIR_PROPOSED, now, event.pair_id,
                                          **context))
            deliveries.append(self._email(env, me, Template.PAIR_NUDGE, max(now, nudge_at),
                                          event.pair_id, proposed_at=event.proposed_at,
                                          **context))
        return deliveries

    def pair_confirmed(self, env: Envelope, event: PairConfirmed, now: datetime
                       ) -> list[Delivery]:
        return [
            self._email(env, me, Template.PAIR_CONFIRMED, now, event.pair_id,
                        pair_id=event.pair_id, role=role, partner_id=partner)
            for me, partner, role in ((event.mentor_id, event.mentee_id, "mentor"),
                                      (event.mentee_id, event.mentor_id, "mentee"))
        ]

    def session_scheduled(self, env: Envelope, event: SessionScheduled,
                          previous: SessionSlot | None, now: datetime
                          ) -> tuple[SessionSlot, list[Delivery]]:
        """The new slot, the invitation (or its update) and the reminder and feedback request.

        The iCalendar SEQUENCE is the event's ``revision`` when the contract carries one, else
        one more than the last schedule this service saw of the session.
        """
        known = previous is not None and not previous.cancelled
        counted = previous.revision + 1 if previous is not None else 0
        revision = max(int(getattr(event, "revision", 0) or 0), counted)
        slot = SessionSlot(event.tenant_id, event.cohort_id, event.session_id, event.pair_id,
                           event.mentor_id, event.mentee_id, event.starts_at,
                           event.duration_minutes, event.format, revision)
        template = Template.SESSION_RESCHEDULED if known else Template.SESSION_SCHEDULED
        deliveries = []
        for me in slot.people:
            context = _slot_context(slot, me)
            if previous is not None and known:
                context["previous_starts_at"] = previous.starts_at
            deliveries.append(self._email(env, me, template, now, slot.session_id, **context))
            reminder_at = slot.starts_at - timedelta(hours=self.timing.reminder_hours_before)
            if slot.starts_at > now:
                deliveries.append(self._email(env, me, Template.SESSION_REMINDER,
                                              max(now, reminder_at), slot.session_id,
                                              **_slot_context(slot, me)))
            feedback_at = slot.ends_at + timedelta(minutes=self.timing.feedback_delay_minutes)
            deliveries.append(self._email(env, me, Template.FEEDBACK_REQUEST,
                                          max(now, feedback_at), slot.session_id,
                                          **_slot_context(slot, me)))
        return slot, deliveries

    def session_cancelled(self, env: Envelope, event: SessionCancelled, slot: SessionSlot,
                          now: datetime) -> tuple[SessionSlot, list[Delivery]]:
        """The calendar CANCEL carries a SEQUENCE above the last invitation's."""
        cancelled = replace(slot, revision=slot.revision + 1, cancelled=True)
        return cancelled, [
            self._email(env, me, Template.SESSION_CANCELLED, now, slot.session_id,
                        reason=event.reason.value, cancelled_by=event.cancelled_by.value,
                        **_slot_context(cancelled, me))
            for me in slot.people
        ]

    def mentorship_completed(self, env: Envelope, event: MentorshipCompleted, now: datetime
                             ) -> list[Delivery]:
        return [
            self._email(env, me, Template.MENTORSHIP_COMPLETED, now, event.pair_id,
                        pair_id=event.pair_id, role=role, partner_id=partner,
                        sessions_held=event.sessions_held, outcome=event.outcome.value)
            for me, partner, role in ((event.mentor_id, event.mentee_id, "mentor"),
                                      (event.mentee_id, event.mentor_id, "mentee"))
        ]


def _slot_context(slot: SessionSlot, me: str) -> dict[str, Any]:
    role = "mentor" if me == slot.mentor_id else "mentee"
    return {"session_id": slot.session_id, "pair_id": slot.pair_id, "role": role,
            "partner_id": slot.mentee_id if role == "mentor" else slot.mentor_id,
            "starts_at": slot.starts_at, "duration_minutes": slot.duration_minutes,
            "format": slot.format.value, "revision": slot.revision,
            "mentor_id": slot.mentor_id, "mentee_id": slot.mentee_id}
