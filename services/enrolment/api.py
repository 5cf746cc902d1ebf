"""HTTP routes of the enrolment service.

Every route acts inside the caller's business unit (the token's ``business_unit``): a cohort or
participant of another unit is a 404, never a 403. Programme and platform admins manage cohorts
and anyone's enrolment; a participant enrols themself and reads or withdraws only their own
record (someone else's is a 404 too). Rule violations are problem+json with a ``type`` of
``urn:revmentor:problem:<code>``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from contracts.enrolment import CloseReason, Role
from services.enrolment.applications import (
    Application,
    CohortSpec,
)
from services.enrolment.bulk_import import BulkImporter, ImportTooLarge
from services.enrolment.commands import EnrolmentCommands
from services.enrolment.domain import (
    CohortStatus,
    ParticipantStatus,
    acting_on,
    enrolling,
)
from services.enrolment.import_formats import Format, UploadError, format_of
from services.enrolment.schemas import (
    CohortPage,
    CohortView,
    ImportReportView,
    ParticipantPage,
    ParticipantView,
    WithdrawalRequest,
    WithdrawalView,
)
from services.runtime.auth import Admin, Member, ParticipantOnly
from services.runtime.errors import Invalid
from services.runtime.http import Problem
from services.runtime.openapi import problems

Correlation = Annotated[str | None, Header(alias="X-Correlation-ID", max_length=200)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]


def routes(commands: EnrolmentCommands, importer: BulkImporter) -> APIRouter:
    router = APIRouter(tags=["enrolment"])

    @router.post("/cohorts", status_code=201, response_model=CohortView)
    async def open_cohort(spec: CohortSpec, who: Admin, response: Response,
                          correlation: Correlation = None) -> CohortView:
        cohort = await commands.open_cohort(who.business_unit, spec, created_by=who.subject,
                                            correlation_id=correlation)
        response.headers["Location"] = f"/cohorts/{cohort.cohort_id}"
        return CohortView.of(cohort, commands.clock())

    @router.get("/cohorts", response_model=CohortPage)
    async def list_cohorts(who: Member, limit: Limit = 50,
                           cursor: Annotated[str | None, Query(max_length=64)] = None,
                           status: CohortStatus | None = None) -> CohortPage:
        page = await commands.store.list_cohorts(who.business_unit, status=status, limit=limit,
                                                 before=cursor)
        now = commands.clock()
        return CohortPage(items=[CohortView.of(c, now) for c in page.items],
                          next_cursor=page.next_cursor)

    @router.get("/cohorts/{cohort_id}", response_model=CohortView)
    async def read_cohort(cohort_id: str, who: Member) -> CohortView:
        return CohortView.of(await commands.cohort(who.business_unit, cohort_id),
                             commands.clock())

    @router.post("/cohorts/{cohort_id}/close", response_model=CohortView,
                 responses=problems(409))
    async def close_cohort(cohort_id: str, who: Admin, correlation: Correlation = None
                           ) -> CohortView:
        cohort = await commands.close_cohort(who.business_unit, cohort_id,
                                             reason=CloseReason.ADMIN,
                                             correlation_id=correlation)
        return CohortView.of(cohort, commands.clock())

    @router.post("/cohorts/{cohort_id}/participants", status_code=201,
                 response_model=ParticipantView, responses=problems(409))
    async def enrol(cohort_id: str, application: Application, who: Member, response: Response,
                    correlation: Correlation = None) -> ParticipantView:
        participant_id, actor = enrolling(application.employee_id, who.acting_participant,
                                          admin=who.is_admin)
        participant = await commands.enrol(who.business_unit, cohort_id, application,
                                           participant_id=participant_id, actor=actor,
                                           correlation_id=correlation,
                                           reveal_existing=who.is_admin)
        response.headers["Location"] = f"/cohorts/{cohort_id}/participants/{participant_id}"
        return ParticipantView.of(participant)

    @router.post("/cohorts/{cohort_id}/imports", response_model=ImportReportView,
                 responses=problems(409, 413, 415),
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "text/csv": {"schema": {"type": "string"}},
                     "application/x-ndjson": {"schema": {"type": "string"}}}}})
    async def import_participants(
        cohort_id: str, request: Request, who: Admin,
        format: Annotated[Format | None, Query(description="Overrides Content-Type")] = None,
        correlation: Correlation = None,
    ) -> Response:
        fmt = format_of(request.headers.get("content-type"), format)
        if fmt is None:
            raise Problem(415, "Unsupported Media Type",
                          "upload text/csv or application/x-ndjson (JSON Lines)")
        import_id = correlation or f"imp-{uuid.uuid4().hex[:16]}"
        try:
            report = await importer.run(who.business_unit, cohort_id, fmt, request.stream(),
                                        import_id=import_id)
        except UploadError as exc:
            raise Invalid("invalid-upload", str(exc)) from None
        except ImportTooLarge as exc:
            raise Problem(413, "Content Too Large",
                          f"an import may hold at most {exc.limit} rows; the rows before the "
                          "limit were processed, import the rest separately",
                          type="urn:revmentor:problem:import-too-large",
                          summary=exc.report.summary) from None
        return JSONResponse(report.as_json())

    @router.get("/cohorts/{cohort_id}/participants", response_model=ParticipantPage)
    async def list_participants(
        cohort_id: str, who: Admin, limit: Limit = 100, cursor: str | None = None,
        role: Role | None = None, department: str | None = None,
        status: ParticipantStatus = ParticipantStatus.ENROLLED,
    ) -> ParticipantPage:
        page = await commands.participants(who.business_unit, cohort_id, status=status,
                                           role=role, department=department, limit=limit,
                                           cursor=cursor)
        return ParticipantPage(items=[ParticipantView.of(p) for p in page.items],
                               next_cursor=page.next_cursor)

    @router.get("/cohorts/{cohort_id}/participants/{participant_id}",
                response_model=ParticipantView)
    async def read_participant(cohort_id: str, participant_id: str, who: Member
                               ) -> ParticipantView:
        acting_on(participant_id, who.acting_participant, admin=who.is_admin)
        return ParticipantView.of(
            await commands.participant(who.business_unit, cohort_id, participant_id))

    @router.post("/cohorts/{cohort_id}/participants/{participant_id}/withdraw",
                 response_model=WithdrawalView)
    async def withdraw(cohort_id: str, participant_id: str, who: Member,
                       body: WithdrawalRequest | None = None,
                       correlation: Correlation = None) -> WithdrawalView:
        actor = acting_on(participant_id, who.acting_participant, admin=who.is_admin)
        withdrawal = await commands.withdraw(
            who.business_unit, cohort_id, participant_id, actor=actor,
            reason=body.reason if body else None, correlation_id=correlation)
        return WithdrawalView.of(withdrawal)

    @router.get("/me/enrolments", response_model=list[ParticipantView])
    async def my_enrolments(who: ParticipantOnly
                            ) -> list[ParticipantView]:
        own = who.acting_participant
        records = await commands.store.own_enrolments(who.business_unit, own) if own else []
        return [ParticipantView.of(p) for p in records]

    return router
