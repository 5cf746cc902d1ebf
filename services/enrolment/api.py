"""HTTP routes of the enrolment service.

Every route acts inside the caller's business unit (the token's ``business_unit``): a cohort or
participant of another unit is a 404, never a 403. Programme and platform admins manage cohorts
and anyone's enrolment; a participant enrols themself and reads or withdraws only their own
record (someone else's is a 404 too). Rule violations are problem+json with a ``type`` of
``urn:revmentor:problem:<code>``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from bson import ObjectId
from bson.errors import InvalidId
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from contracts.enrolment import Actor, CloseReason, Role
from services.enrolment.bulk_import import BulkImporter, ImportTooLarge
from services.enrolment.commands import EnrolmentCommands
from services.enrolment.counts import CohortCounts
from services.enrolment.domain import (
    ERASED_ON_WITHDRAWAL,
    Application,
    CohortSpec,
    ParticipantStatus,
    is_participant_id,
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
from services.runtime.auth import Admin, Member, ParticipantOnly, Principal
from services.runtime.errors import Conflict, Forbidden, Invalid, NotFound
from services.runtime.http import Problem
from services.runtime.openapi import problems

Correlation = Annotated[str | None, Header(alias="X-Correlation-ID", max_length=200)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]


def check_may_act_on(who: Principal, participant_id: str) -> Actor:
    """Admins act on anyone of their unit; a participant only on themself (404 otherwise)."""
    if who.acting_participant == participant_id:
        return Actor.SELF
    if who.is_admin:
        return Actor.ADMIN
    raise NotFound("participant-not-found", "no such participant in this cohort")


def parse_cursor(cursor: str | None) -> ObjectId | None:
    try:
        return ObjectId(cursor) if cursor else None
    except (InvalidId, TypeError):
        raise Invalid("invalid-cursor", "cursor is not one this API returned") from None


def routes(commands: EnrolmentCommands, importer: BulkImporter) -> APIRouter:
    router = APIRouter(tags=["enrolment"])
    store = commands.store

    def cohort_views(docs: list[dict[str, Any]]) -> list[CohortView]:
        now = commands.clock()
        return [CohortView.of(d, CohortCounts.of(d.get("counts")), now) for d in docs]

    async def cohort_view(tenant_id: str, cohort_id: str) -> CohortView:
        doc = await store.cohort(tenant_id, cohort_id)
        if doc is None:
            raise NotFound("cohort-not-found", f"no cohort {cohort_id}")
        return cohort_views([doc])[0]

    @router.post("/cohorts", status_code=201, response_model=CohortView)
    async def open_cohort(spec: CohortSpec, who: Admin, response: Response,
                          correlation: Correlation = None) -> CohortView:
        doc = await commands.open_cohort(who.business_unit, spec, created_by=who.subject,
                                         correlation_id=correlation)
        response.headers["Location"] = f"/cohorts/{doc['_id']}"
        return await cohort_view(who.business_unit, doc["_id"])

    @router.get("/cohorts", response_model=CohortPage)
    async def list_cohorts(who: Member, limit: Limit = 50, cursor: str | None = None,
                           status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
                           ) -> CohortPage:
        docs = await store.list_cohorts(who.business_unit, status=status, limit=limit + 1,
                                        before=cursor)
        more = len(docs) > limit
        docs = docs[:limit]
        return CohortPage(items=cohort_views(docs),
                          next_cursor=docs[-1]["_id"] if more else None)

    @router.get("/cohorts/{cohort_id}", response_model=CohortView)
    async def read_cohort(cohort_id: str, who: Member) -> CohortView:
        return await cohort_view(who.business_unit, cohort_id)

    @router.post("/cohorts/{cohort_id}/close", response_model=CohortView,
                 responses=problems(409))
    async def close_cohort(cohort_id: str, who: Admin, correlation: Correlation = None
                           ) -> CohortView:
        await commands.close_cohort(who.business_unit, cohort_id, reason=CloseReason.ADMIN,
                                    correlation_id=correlation)
        return await cohort_view(who.business_unit, cohort_id)

    @router.post("/cohorts/{cohort_id}/participants", status_code=201,
                 response_model=ParticipantView, responses=problems(409))
    async def enrol(cohort_id: str, application: Application, who: Member, response: Response,
                    correlation: Correlation = None) -> ParticipantView:
        own = who.acting_participant
        participant_id = application.employee_id or own
        if participant_id is None:
            raise Invalid("employee-id-required",
                          "an admin enrolling someone must give their employee_id")
        if participant_id != own and not who.is_admin:
            raise Forbidden("enrol-self-only", "participants can enrol only themselves")
        if not is_participant_id(participant_id):
            raise Invalid("invalid-participant-id",
                          "the token's participant id is not a valid directory id")
        actor = Actor.SELF if participant_id == own else Actor.ADMIN
        try:
            doc = await commands.enrol(who.business_unit, cohort_id, application,
                                       participant_id=participant_id, actor=actor,
                                       correlation_id=correlation)
        except Conflict as exc:
            if exc.extra.get("participant_id") not in (None, own) and not who.is_admin:
                exc.extra["participant_id"] = None  # never reveal someone else's id
            raise
        response.headers["Location"] = f"/cohorts/{cohort_id}/participants/{participant_id}"
        return ParticipantView.of(doc)

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
        after = parse_cursor(cursor)
        if await store.cohort(who.business_unit, cohort_id) is None:
            raise NotFound("cohort-not-found", f"no cohort {cohort_id}")
        docs = await store.list_participants(
            who.business_unit, cohort_id, status=status.value,
            role=role.value if role else None, department=department, limit=limit + 1,
            after=after)
        more = len(docs) > limit
        docs = docs[:limit]
        return ParticipantPage(items=[ParticipantView.of(d) for d in docs],
                               next_cursor=str(docs[-1]["_id"]) if more else None)

    @router.get("/cohorts/{cohort_id}/participants/{participant_id}",
                response_model=ParticipantView)
    async def read_participant(cohort_id: str, participant_id: str, who: Member
                               ) -> ParticipantView:
        check_may_act_on(who, participant_id)
        doc = await store.participant(who.business_unit, cohort_id, participant_id)
        if doc is None:
            raise NotFound("participant-not-found", "no such participant in this cohort")
        return ParticipantView.of(doc)

    @router.post("/cohorts/{cohort_id}/participants/{participant_id}/withdraw",
                 response_model=WithdrawalView)
    async def withdraw(cohort_id: str, participant_id: str, who: Member,
                       body: WithdrawalRequest | None = None,
                       correlation: Correlation = None) -> WithdrawalView:
        actor = check_may_act_on(who, participant_id)
        result = await commands.withdraw(
            who.business_unit, cohort_id, participant_id, actor=actor,
            reason=body.reason if body else None, correlation_id=correlation)
        return WithdrawalView(**result, erased=list(ERASED_ON_WITHDRAWAL))

    @router.get("/me/enrolments", response_model=list[ParticipantView])
    async def my_enrolments(who: ParticipantOnly
                            ) -> list[ParticipantView]:
        own = who.acting_participant
        docs = await store.own_enrolments(who.business_unit, own) if own else []
        return [ParticipantView.of(d) for d in docs]

    return router
