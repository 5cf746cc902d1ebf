"""The matching service's business rules: the pool, proposed pairs and both sides' answers.

Pure: no I/O. A proposal becomes a mentorship only when both people say yes; a decline returns
both to the pool and excludes the pair for good. The engine (``engine/``) chooses pairs; this
module turns its choices and people's answers into facts (events), and raises a
:class:`~services.runtime.errors.Violation` when a request breaks a rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from contracts import Event
from contracts.enrolment import ParticipantEnrolled, Role
from contracts.matching import (
    MatchingRoundCompleted,
    PairAccepted,
    PairConfirmed,
    PairDeclined,
    PairProposed,
    RoundStatistics,
    RoundTrigger,
    ScoreFactor,
)
from contracts.policy import MatchingMode, Objective
from contracts.policy import MatchingPolicy as CohortPolicy
from services.matching.engine import FACTORS, Candidate, MatchResult, ProposedPair, factor_weight
from services.runtime.errors import Conflict, NotFound

WITHDRAWN = "participant_withdrew"
"""The reason code of a decline made on a withdrawing participant's behalf."""


class PairStatus(StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    DISCARDED = "discarded"


OPEN = (PairStatus.PROPOSED,)
ACTIVE = (PairStatus.PROPOSED, PairStatus.CONFIRMED)


@dataclass(frozen=True)
class Cohort:
    """A cohort as matching knows it from ``CohortOpened``: its business unit and its policy."""

    tenant_id: str
    cohort_id: str
    policy: CohortPolicy

    @property
    def rolling(self) -> bool:
        """Rolling cohorts match people as they arrive; batch cohorts once enrolment closes."""
        return self.policy.mode is MatchingMode.ROLLING


@dataclass
class Pair:
    """A mentor and a mentee the engine put together, and what each of them answered."""

    pair_id: str
    tenant_id: str
    cohort_id: str
    round_id: str
    mentor_id: str
    mentee_id: str
    score: float
    explanation: dict[str, float]
    shared_topics: list[str]
    reverse_shared_topics: list[str]
    status: PairStatus = PairStatus.DRAFT
    mentor_accepted: bool = False
    mentee_accepted: bool = False
    locked: bool = False

    def visible_to(self, tenant_id: str, participant_id: str | None, *, admin: bool) -> bool:
        """Whether a reader may see the pair: announced, same business unit, admin or member.

        Drafts are the programme team's work in progress; nobody outside the pair's business
        unit, and no participant outside the pair, learns that it exists.
        """
        if self.tenant_id != tenant_id or self.status is PairStatus.DRAFT:
            return False
        return admin or self.role_of(participant_id) is not None

    def role_of(self, participant_id: str | None) -> Role | None:
        if participant_id == self.mentor_id:
            return Role.MENTOR
        if participant_id == self.mentee_id:
            return Role.MENTEE
        return None

    def accepted_by(self, role: Role) -> bool:
        return self.mentor_accepted if role is Role.MENTOR else self.mentee_accepted

    def accept(self, participant_id: str, now: datetime) -> list[PairAccepted | PairConfirmed]:
        """Record one side's yes; the second yes confirms the mentorship."""
        role = self._answering(participant_id)
        if self.accepted_by(role):
            return []
        if role is Role.MENTOR:
            self.mentor_accepted = True
        else:
            self.mentee_accepted = True
        events: list[PairAccepted | PairConfirmed] = [
            PairAccepted(
                **self._ids(), by_participant_id=participant_id, by_role=role, accepted_at=now
            )
        ]
        if self.mentor_accepted and self.mentee_accepted:
            self.status = PairStatus.CONFIRMED
            events.append(PairConfirmed(**self._ids(), confirmed_at=now))
        return events

    def lock(self) -> None:
        """Keep this draft pair whatever later re-solving of the draft does."""
        if self.status is not PairStatus.DRAFT:
            raise NotFound("pair-not-found", f"no draft pair {self.pair_id}")
        self.locked = True

    def decline(self, participant_id: str, now: datetime, reason: str | None) -> PairDeclined:
        """One side's no ends the proposal; the pair is never proposed again."""
        role = self._answering(participant_id)
        self.status = PairStatus.DECLINED
        return PairDeclined(
            **self._ids(),
            by_participant_id=participant_id,
            by_role=role,
            declined_at=now,
            reason=reason,
        )

    def _answering(self, participant_id: str) -> Role:
        """Only the two members answer, and only while the proposal is open.

        Anyone else gets the pair's 404, whatever other roles their token holds: an admin may
        read a pair but never answer on someone's behalf.
        """
        role = self.role_of(participant_id)
        if role is None:
            raise NotFound("pair-not-found", f"no pair {self.pair_id} for you")
        if self.status is not PairStatus.PROPOSED:
            raise Conflict("pair-not-open", f"the pair is {self.status.value}",
                           pair_status=self.status.value)
        return role

    def _ids(self) -> dict[str, str]:
        return {
            "tenant_id": self.tenant_id,
            "cohort_id": self.cohort_id,
            "pair_id": self.pair_id,
            "mentor_id": self.mentor_id,
            "mentee_id": self.mentee_id,
        }

    def proposed(self, policy: CohortPolicy, now: datetime) -> PairProposed:
        """The public announcement, with each factor's weight, value and contribution."""
        factors = []
        for name in FACTORS:
            contribution = self.explanation.get(name, 0.0)
            weight = factor_weight(policy, name)
            factors.append(
                ScoreFactor(
                    factor=name,
                    weight=weight,
                    contribution=contribution,
                    value=min(1.0, contribution / weight) if weight else 0.0,
                )
            )
        return PairProposed(
            **self._ids(),
            round_id=self.round_id,
            score=self.score,
            explanation=factors,
            shared_topics=self.shared_topics,
            reverse_shared_topics=self.reverse_shared_topics,
            proposed_at=now,
        )


def pair_from(chosen: ProposedPair, *, tenant_id: str, cohort_id: str, round_id: str) -> Pair:
    return Pair(
        pair_id=f"pair-{uuid.uuid4().hex[:12]}",
        tenant_id=tenant_id,
        cohort_id=cohort_id,
        round_id=round_id,
        mentor_id=chosen.mentor_id,
        mentee_id=chosen.mentee_id,
        score=round(chosen.score, 6),
        explanation={k: round(v, 6) for k, v in chosen.explanation.items()},
        shared_topics=list(chosen.shared_topics),
        reverse_shared_topics=list(chosen.reverse_shared_topics),
        locked=chosen.locked,
    )


@dataclass
class Round:
    """One run of the engine over a cohort's pool; a draft until an admin publishes it."""

    round_id: str
    tenant_id: str
    cohort_id: str
    trigger: RoundTrigger
    objective: Objective
    pairs: list[Pair] = field(default_factory=list)
    unmatched: dict[str, str] = field(default_factory=dict)
    statistics: dict[str, float | int | dict[str, int]] = field(default_factory=dict)
    published: bool = False

    def check_editable(self) -> None:
        """Only a draft may still be changed; a published round is a fact."""
        if self.published:
            raise Conflict("round-published", "only a draft round can be changed")

    def pair(self, pair_id: str) -> Pair:
        found = next((p for p in self.pairs if p.pair_id == pair_id), None)
        if found is None:
            raise NotFound("pair-not-found", f"no draft pair {pair_id} in round {self.round_id}")
        return found

    def publish(self, cohort_policy: CohortPolicy, now: datetime) -> list[Event]:
        """Announce every pair (PairProposed) and then the round (MatchingRoundCompleted).

        A draft whose pairs a newer round or a withdrawal discarded is superseded: publishing
        it would propose people who are no longer free.
        """
        self.check_editable()
        if any(p.status is not PairStatus.DRAFT for p in self.pairs):
            raise Conflict("draft-superseded", "a newer round or a withdrawal changed this draft")
        events: list[Event] = []
        for pair in self.pairs:
            pair.status = PairStatus.PROPOSED
            events.append(pair.proposed(cohort_policy, now))
        self.published = True
        events.append(self.completed(now))
        return events

    def unmatched_people(self) -> list[tuple[str, Role, str]]:
        """``(participant id, role, reason)`` of everyone the round left without a partner."""
        people = []
        for participant_id, why in self.unmatched.items():
            role, reason = why.split(":", 1)
            people.append((participant_id, Role(role), reason))
        return people

    def completed(self, now: datetime) -> MatchingRoundCompleted:
        return MatchingRoundCompleted(
            tenant_id=self.tenant_id,
            cohort_id=self.cohort_id,
            round_id=self.round_id,
            trigger=self.trigger,
            objective=self.objective,
            completed_at=now,
            statistics=RoundStatistics.model_validate(self.statistics),
        )


@dataclass(frozen=True)
class RoundSummary:
    """A round as the list of a cohort's rounds shows it: without its pairs."""

    round_id: str
    trigger: RoundTrigger
    objective: Objective
    published: bool
    statistics: RoundStatistics


def new_round_id(now: datetime) -> str:
    return f"round-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"


def round_statistics(
    result: MatchResult, new_pairs: list[Pair], mentors: int, mentees: int, seconds: float
) -> dict[str, float | int | dict[str, int]]:
    """What the round added: new pairs only (pairs kept from earlier rounds are not counted)."""
    reasons: dict[str, int] = {}
    for person in result.unmatched:
        key = f"{person.role}:{person.reason}"
        reasons[key] = reasons.get(key, 0) + 1
    total = sum(p.score for p in new_pairs)
    cross = result.stats.cross_department_share
    return {
        "pairs_proposed": len(new_pairs),
        "mentors_in_pool": mentors,
        "mentees_in_pool": mentees,
        "mentors_matched": len({p.mentor_id for p in new_pairs}),
        "mentees_matched": len({p.mentee_id for p in new_pairs}),
        "unmatched_by_reason": reasons,
        "total_score": round(total, 6),
        "mean_score": round(total / len(new_pairs), 6) if new_pairs else 0.0,
        "cross_department_share": round(cross, 6),
        "engine_seconds": round(seconds, 6),
    }


def candidate_from(enrolled: ParticipantEnrolled) -> Candidate:
    """The engine's view of a participant: what matching needs, no name, no e-mail. The goals
    come from the enrolment's profile (``MatchingStore.save_goals``), not from the event."""
    chain = tuple(enrolled.manager_chain) or ((enrolled.manager_id,) if enrolled.manager_id else ())
    return Candidate(
        participant_id=enrolled.participant_id,
        department=enrolled.department,
        manager_chain=chain,
        level=enrolled.career_level,
        topics_offered=frozenset(enrolled.topics_offered),
        topics_wanted=frozenset(enrolled.topics_wanted),
        languages=frozenset(enrolled.languages),
        utc_offset_hours=enrolled.utc_offset_hours,
        format=enrolled.preferred_format,
    )


def pair_keys(pairs: Iterable[Pair]) -> set[tuple[str, str]]:
    return {(p.mentor_id, p.mentee_id) for p in pairs}
