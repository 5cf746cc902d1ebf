"""Pure rules of enrolment: cohorts and their window, whether an application is complete, whether a
career level fits the cohort's policy, duplicate keys, enrolment counts and erasure on withdrawal.

No I/O and no framework: functions take the current time as an argument and return values or
raise a :class:`~services.runtime.errors.Violation` (``Invalid`` → 422, ``Conflict`` → 409,
``NotFound`` → 404), which the HTTP layer renders as problem+json.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from contracts.enrolment import (
    Actor,
    MatchingPolicy,
    ParticipantEnrolled,
    PreferredFormat,
    Role,
)
from contracts.profiles import ParticipantProfile
from services.enrolment.applications import (
    MAX_LEVEL,
    MIN_LEVEL,
    Application,
    CohortSpec,
    is_participant_id,
)
from services.enrolment.counts import CohortCounts
from services.runtime.clock import to_millis
from services.runtime.errors import Conflict, Forbidden, Invalid, NotFound

CLOCK_SKEW = timedelta(minutes=5)


class CohortStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ParticipantStatus(StrEnum):
    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"


class Outcome(StrEnum):
    """What became of one application (an import reports one per row)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ALREADY_ENROLLED = "already_enrolled"


class Window(StrEnum):
    """Whether a cohort accepts enrolments right now."""

    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class CohortTerms:
    """What enrolment rules need to know about a cohort."""

    tenant_id: str
    cohort_id: str
    status: CohortStatus
    opens_at: datetime
    closes_at: datetime
    languages: tuple[str, ...]
    policy: MatchingPolicy


@dataclass(frozen=True)
class Cohort:
    """A cohort as enrolment keeps it: what the programme team stated, its state, its counts."""

    tenant_id: str
    cohort_id: str
    name: str
    languages: tuple[str, ...]
    opens_at: datetime
    closes_at: datetime
    session_target: int
    policy: MatchingPolicy
    status: CohortStatus
    created_at: datetime
    counts: CohortCounts
    closed_at: datetime | None = None
    close_reason: str | None = None

    @property
    def terms(self) -> CohortTerms:
        return CohortTerms(tenant_id=self.tenant_id, cohort_id=self.cohort_id,
                           status=self.status, opens_at=self.opens_at,
                           closes_at=self.closes_at, languages=self.languages,
                           policy=self.policy)

    def window(self, now: datetime) -> Window:
        return window(self.status, self.opens_at, self.closes_at, now)


@dataclass(frozen=True)
class Participant:
    """One enrolment record. Once withdrawn it holds only what statistics need: every field
    that identifies or describes the person is ``None`` (see :data:`ERASED_ON_WITHDRAWAL`)."""

    cohort_id: str
    status: ParticipantStatus
    role: Role
    department: str
    career_level: int
    enrolled_at: datetime
    enrolled_by: Actor
    participant_id: str | None = None
    preferred_format: PreferredFormat | None = None
    name: str | None = None
    email: str | None = None
    manager_id: str | None = None
    manager_chain: tuple[str, ...] | None = None
    topics_offered: tuple[str, ...] | None = None
    topics_wanted: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    time_zone: str | None = None
    utc_offset_hours: float | None = None
    goals: str | None = None
    locale: str | None = None
    consent_given_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: Actor | None = None


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal did: the record's role and department stay for the counts."""

    participant_id: str
    cohort_id: str
    role: Role
    department: str
    withdrawn_at: datetime
    withdrawn_by: Actor
    reason: str | None


def enrolling(employee_id: str | None, own: str | None, *, admin: bool) -> tuple[str, Actor]:
    """Who an enrolment is for, and who submits it.

    A participant enrols themself (``own``: the participant their token acts for); an admin
    enrols anyone of their business unit by ``employee_id``. Volunteering is personal: a
    participant may not sign a colleague up.
    """
    participant_id = employee_id or own
    if participant_id is None:
        raise Invalid("employee-id-required",
                      "an admin enrolling someone must give their employee_id")
    if participant_id != own and not admin:
        raise Forbidden("enrol-self-only", "participants can enrol only themselves")
    if not is_participant_id(participant_id):
        raise Invalid("invalid-participant-id",
                      "the token's participant id is not a valid directory id")
    return participant_id, Actor.SELF if participant_id == own else Actor.ADMIN


def acting_on(participant_id: str, own: str | None, *, admin: bool) -> Actor:
    """Admins act on anyone of their unit; a participant only on themself (404 otherwise)."""
    if own == participant_id:
        return Actor.SELF
    if admin:
        return Actor.ADMIN
    raise NotFound("participant-not-found", "no such participant in this cohort")


def check_new_cohort(spec: CohortSpec, now: datetime) -> tuple[datetime, datetime]:
    """The cohort's window ``(opens_at, closes_at)``, or ``Invalid`` if it cannot work."""
    opens_at = to_millis(spec.opens_at or now)
    closes_at = to_millis(spec.closes_at)
    if closes_at <= opens_at:
        raise Invalid("invalid-window", "closes_at must be after opens_at")
    if closes_at <= now:
        raise Invalid("invalid-window", "the enrolment window would already have ended")
    gap = spec.matching_policy.min_level_gap
    if gap > MAX_LEVEL - MIN_LEVEL:
        raise Invalid(
            "infeasible-policy",
            f"min_level_gap {gap} exceeds the career-level scale {MIN_LEVEL}..{MAX_LEVEL}: "
            "no mentor could ever be paired",
        )
    return opens_at, closes_at


def window(status: CohortStatus, opens_at: datetime, closes_at: datetime, now: datetime) -> Window:
    if status is CohortStatus.CLOSED or now >= closes_at:
        return Window.CLOSED
    return Window.NOT_YET_OPEN if now < opens_at else Window.OPEN


def check_accepts_enrolment(cohort: CohortTerms, now: datetime) -> None:
    """Enrolment and imports need an open cohort inside its window (409 otherwise)."""
    state = window(cohort.status, cohort.opens_at, cohort.closes_at, now)
    if state is Window.CLOSED:
        raise Conflict("cohort-closed", f"enrolment for cohort {cohort.cohort_id} has closed")
    if state is Window.NOT_YET_OPEN:
        raise Conflict("enrolment-not-open", "enrolment has not opened yet",
                       opens_at=cohort.opens_at.isoformat())


def level_range(role: Role, policy: MatchingPolicy) -> tuple[int, int]:
    """Career levels at which someone of ``role`` can meet a partner ``min_level_gap`` apart.

    The mentor must be at least ``min_level_gap`` below the mentee on a 1..10 scale, so a mentor
    above ``10 - gap`` could never be junior enough to any mentee, and a mentee below ``1 + gap``
    never senior enough to any mentor.
    """
    gap = policy.min_level_gap
    if role is Role.MENTOR:
        return MIN_LEVEL, MAX_LEVEL - gap
    return MIN_LEVEL + gap, MAX_LEVEL


def check_level_fits(role: Role, level: int, policy: MatchingPolicy) -> None:
    low, high = level_range(role, policy)
    if not low <= level <= high:
        raise Invalid(
            "level-does-not-fit-policy",
            f"a {role.value} at career level {level} can never be paired under this cohort's "
            f"minimum level gap of {policy.min_level_gap}; {role.value}s need level {low}..{high}",
            allowed_levels={"min": low, "max": high},
        )


def utc_offset_hours(time_zone: str, now: datetime) -> float:
    """The zone's current UTC offset; ``Invalid`` for a name that is not an IANA zone."""
    try:
        offset = now.astimezone(ZoneInfo(time_zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid("unknown-time-zone", f"{time_zone!r} is not an IANA time zone") from None
    return (offset or timedelta()).total_seconds() / 3600


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_hash(email: str, key: bytes) -> str:
    """Keyed hash of the normalised address: duplicate detection without the address in indexes.

    Keyed (HMAC) because a plain hash of an e-mail address is reversed by hashing a directory.
    """
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def _unique(values: Iterable[str]) -> list[str]:
    """``values`` in order without repeats; the request model has already normalised each."""
    return list(dict.fromkeys(values))


def reporting_line(participant_id: str, app: Application) -> tuple[str | None, list[str]]:
    """``(manager_id, manager_chain)``: the chain starts with the direct manager."""
    chain = _unique(app.manager_chain)
    manager = app.manager_id or (chain[0] if chain else None)
    if manager and not chain:
        chain = [manager]
    if manager and chain[0] != manager:
        raise Invalid("invalid-manager-chain", "manager_chain must start with manager_id")
    if participant_id in chain:
        raise Invalid("invalid-manager-chain", "a person cannot be in their own reporting line")
    return manager, chain


@dataclass(frozen=True)
class Assessed:
    """An acceptable application as the two records it becomes: the pseudonymous fact for the
    append-only stream, and the profile (contact details, goals) for the compacted topic."""

    event: ParticipantEnrolled
    profile: ParticipantProfile


def assess(
    app: Application, cohort: CohortTerms, *, participant_id: str, actor: Actor, now: datetime
) -> Assessed:
    """The ``ParticipantEnrolled`` fact and the profile an acceptable application leads to, or
    a violation.

    The cohort's window is checked separately (:func:`check_accepts_enrolment`): an import
    checks it once per chunk, not per row.
    """
    if not app.consent:
        raise Invalid("consent-required",
                      "participation is voluntary: enrolment needs explicit consent (consent=true)")
    consent_at = to_millis(app.consent_given_at or now)
    if consent_at > now + CLOCK_SKEW:
        raise Invalid("invalid-consent-time", "consent_given_at lies in the future")
    check_level_fits(app.role, app.career_level, cohort.policy)
    languages = _unique(app.languages)
    if not set(languages) & set(cohort.languages):
        raise Invalid("no-common-language",
                      f"speaks none of the cohort's languages ({', '.join(cohort.languages)})")
    offset = utc_offset_hours(app.time_zone, now)
    manager, chain = reporting_line(participant_id, app)
    try:
        return Assessed(ParticipantEnrolled(
            tenant_id=cohort.tenant_id, cohort_id=cohort.cohort_id,
            participant_id=participant_id, role=app.role,
            department=app.department, manager_id=manager, manager_chain=chain,
            career_level=app.career_level, topics_offered=_unique(app.topics_offered),
            topics_wanted=_unique(app.topics_wanted), languages=languages,
            time_zone=app.time_zone, utc_offset_hours=offset,
            preferred_format=app.preferred_format,
            consent_given_at=consent_at, enrolled_by=actor,
        ), ParticipantProfile(
            tenant_id=cohort.tenant_id, cohort_id=cohort.cohort_id,
            participant_id=participant_id, name=app.name, email=app.email,
            locale=app.locale or cohort.languages[0], goals=app.goals, enrolled_at=now,
        ))
    except ValidationError as exc:  # the records ask more than the request model checked
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise Invalid("invalid-application",
                      f"not a valid enrolment: {', '.join(fields)}") from None


ERASED_ON_WITHDRAWAL = (
    "participant_id", "name", "email", "duplicate_keys", "goals", "locale", "manager_id",
    "manager_chain", "topics_offered", "topics_wanted", "languages", "time_zone",
    "utc_offset_hours",
)
"""Everything that identifies or describes the person, including the keys duplicate detection
uses (participant id and e-mail hash). What remains of a withdrawn record is an anonymous
statistics row: tenant, cohort, role, department, career level, preferred format, status, who
enrolled and withdrew, and when (consent time included, as evidence of consent)."""
