"""What the HTTP API returns: cohort, participant, withdrawal and import views.

Request bodies are what people state (:class:`~services.enrolment.applications.CohortSpec`,
:class:`~services.enrolment.applications.Application`).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, Field

from contracts.base import ReasonCode
from contracts.enrolment import Actor, MatchingPolicy, PreferredFormat, Role
from services.enrolment.counts import CohortCounts, Tally
from services.enrolment.domain import (
    ERASED_ON_WITHDRAWAL,
    Cohort,
    CohortStatus,
    Participant,
    ParticipantStatus,
    Window,
    Withdrawal,
)


class TallyView(BaseModel):
    mentor: int
    mentee: int
    total: int

    @classmethod
    def of(cls, tally: Tally) -> TallyView:
        return cls(mentor=tally.mentor, mentee=tally.mentee, total=tally.total)


class DepartmentCount(TallyView):
    department: str


class CountsView(BaseModel):
    enrolled: TallyView
    withdrawn: TallyView
    by_department: list[DepartmentCount] = Field(description="Enrolled people per department.")

    @classmethod
    def of(cls, counts: CohortCounts) -> CountsView:
        return cls(
            enrolled=TallyView.of(counts.enrolled), withdrawn=TallyView.of(counts.withdrawn),
            by_department=[
                DepartmentCount(department=d, mentor=t.mentor, mentee=t.mentee, total=t.total)
                for d, t in sorted(counts.by_department.items())
            ],
        )


class CohortView(BaseModel):
    cohort_id: str
    name: str
    languages: list[str]
    opens_at: datetime
    closes_at: datetime
    session_target: int
    matching_policy: MatchingPolicy
    status: CohortStatus
    enrolment: Window = Field(description="Whether the cohort accepts enrolments right now.")
    created_at: datetime
    closed_at: datetime | None = None
    close_reason: str | None = None
    counts: CountsView

    @classmethod
    def of(cls, cohort: Cohort, now: datetime) -> CohortView:
        return cls(
            cohort_id=cohort.cohort_id, name=cohort.name, languages=list(cohort.languages),
            opens_at=cohort.opens_at, closes_at=cohort.closes_at,
            session_target=cohort.session_target, matching_policy=cohort.policy,
            status=cohort.status, enrolment=cohort.window(now), created_at=cohort.created_at,
            closed_at=cohort.closed_at, close_reason=cohort.close_reason,
            counts=CountsView.of(cohort.counts),
        )


class CohortPage(BaseModel):
    items: list[CohortView]
    next_cursor: str | None = Field(None, description="Pass as cursor for the next page.")


class ParticipantView(BaseModel):
    """An enrolment record; a withdrawn one holds only what statistics need (no identity)."""

    participant_id: str | None = None
    cohort_id: str
    status: ParticipantStatus
    role: Role
    department: str
    career_level: int
    preferred_format: PreferredFormat | None = None
    name: str | None = None
    email: str | None = None
    manager_id: str | None = None
    manager_chain: list[str] | None = None
    topics_offered: list[str] | None = None
    topics_wanted: list[str] | None = None
    languages: list[str] | None = None
    time_zone: str | None = None
    utc_offset_hours: float | None = None
    goals: str | None = None
    locale: str | None = Field(None, description="Language of notifications (BCP 47).")
    consent_given_at: datetime | None = None
    enrolled_at: datetime
    enrolled_by: Actor
    withdrawn_at: datetime | None = None
    withdrawn_by: Actor | None = None

    @classmethod
    def of(cls, participant: Participant) -> ParticipantView:
        return cls.model_validate(asdict(participant))


class ParticipantPage(BaseModel):
    items: list[ParticipantView]
    next_cursor: str | None = Field(None, description="Pass as cursor for the next page.")


class WithdrawalRequest(BaseModel):
    reason: ReasonCode | None = Field(
        None, description="Optional short code such as moved_role; free text is refused because "
        "it could hold personal data.",
    )


class WithdrawalView(BaseModel):
    participant_id: str
    cohort_id: str
    role: Role
    status: ParticipantStatus = ParticipantStatus.WITHDRAWN
    withdrawn_at: datetime
    withdrawn_by: Actor
    reason: str | None = None
    erased: list[str] = Field(description="Fields erased from this service's database.")

    @classmethod
    def of(cls, withdrawal: Withdrawal) -> WithdrawalView:
        return cls(participant_id=withdrawal.participant_id, cohort_id=withdrawal.cohort_id,
                   role=withdrawal.role, withdrawn_at=withdrawal.withdrawn_at,
                   withdrawn_by=withdrawal.withdrawn_by, reason=withdrawal.reason,
                   erased=list(ERASED_ON_WITHDRAWAL))


class ImportRow(BaseModel):
    row: int = Field(description="1-based data record number (header and blank lines skipped).")
    line: int = Field(description="File line the record starts on.")
    status: str = Field(description="accepted | rejected | already_enrolled")
    participant_id: str | None = None
    reason: str | None = None


class ImportSummary(BaseModel):
    rows: int
    accepted: int
    rejected: int
    already_enrolled: int


class ImportReportView(BaseModel):
    import_id: str
    cohort_id: str
    format: str
    summary: ImportSummary
    rows: list[ImportRow]
