"""Bulk import: an uploaded HRIS export enrols many people, chunk by chunk, idempotently.

Rows stream in from :mod:`import_formats` while the upload arrives. Every ``import_chunk_size``
rows (500 by default) are validated in memory and the acceptable ones written as ONE batch by
:class:`~services.enrolment.membership.EnrolmentWriter`: one transaction of a handful of round
trips, whatever the number of rows (10,000 rows take 20 of them).

Each row is reported ``accepted``, ``rejected`` (with the reason) or ``already_enrolled`` (with
the existing participant id). A person already enrolled is never changed and causes no event, so
importing the same file again changes nothing and emits nothing. Rows are enrolled on the
admin's behalf (``enrolled_by: admin``), need ``employee_id`` and explicit consent, and share
the import id as the correlation id of their events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from contracts.enrolment import Actor
from services.enrolment.applications import (
    Application,
    is_participant_id,
)
from services.enrolment.commands import EnrolmentCommands
from services.enrolment.domain import (
    CohortTerms,
    Outcome,
    assess,
    check_accepts_enrolment,
)
from services.enrolment.import_formats import Format, ParsedRow, read
from services.enrolment.membership import Candidate
from services.enrolment.store import participant_document
from services.runtime.errors import Conflict, Violation
from services.runtime.log import bound, get_logger

log = get_logger(__name__)


@dataclass
class ImportReport:
    import_id: str
    cohort_id: str
    format: Format
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, int] = field(
        default_factory=lambda: {"rows": 0, **{o.value: 0 for o in Outcome}})

    def add(self, row: ParsedRow, outcome: Outcome, *, participant_id: str | None = None,
            reason: str | None = None) -> None:
        self.rows.append({"row": row.row, "line": row.line, "status": outcome.value,
                          "participant_id": participant_id, "reason": reason})
        self.summary["rows"] += 1
        self.summary[outcome.value] += 1

    def as_json(self) -> dict[str, Any]:
        rows = sorted(self.rows, key=lambda r: r["row"])
        return {"import_id": self.import_id, "cohort_id": self.cohort_id,
                "format": self.format.value, "summary": self.summary, "rows": rows}


class ImportTooLarge(Exception):
    """The upload holds more rows than allowed; the rows before the limit were processed."""

    def __init__(self, limit: int, report: ImportReport) -> None:
        super().__init__(f"more than {limit} rows")
        self.limit, self.report = limit, report


def _reason(exc: ValidationError) -> str:
    """Field and message of each error, never the value (it may be an e-mail address)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}"
                     for e in exc.errors(include_url=False, include_input=False))


def _row_id(row: ParsedRow) -> str | None:
    """The row's employee id if it is one: a report echoes nothing else a client sent."""
    value = (row.data or {}).get("employee_id")
    return value.strip() if isinstance(value, str) and is_participant_id(value.strip()) else None


class _Import:
    """One running import: its cohort, report, and whether the cohort closed meanwhile."""

    def __init__(self, commands: EnrolmentCommands, cohort: CohortTerms, report: ImportReport
                 ) -> None:
        self.commands, self.cohort, self.report = commands, cohort, report
        self.closed: Conflict | None = None

    async def chunk(self, rows: list[ParsedRow]) -> None:
        now = self.commands.clock()
        accepted: list[tuple[ParsedRow, Candidate]] = []
        for row in rows:
            try:
                accepted.append((row, self.candidate(row, now)))
            except ValidationError as exc:
                self.report.add(row, Outcome.REJECTED, participant_id=_row_id(row),
                                reason=_reason(exc))
            except Violation as exc:
                self.report.add(row, Outcome.REJECTED, participant_id=_row_id(row),
                                reason=f"{exc.code}: {exc.detail}")
        if not accepted:
            return
        if self.closed is None:
            try:
                results = await self.commands.writer.write(
                    self.cohort.cohort_id, [candidate for _, candidate in accepted])
            except Conflict as exc:  # the cohort closed during the import
                self.closed = exc
            else:
                for (row, _), (outcome, participant_id) in zip(accepted, results, strict=True):
                    self.report.add(row, outcome, participant_id=participant_id)
                return
        for row, candidate in accepted:
            self.report.add(row, Outcome.REJECTED, participant_id=candidate.event.participant_id,
                            reason=f"{self.closed.code}: {self.closed.detail}")

    def candidate(self, row: ParsedRow, now: datetime) -> Candidate:
        if row.data is None:
            raise Violation("unreadable-row", row.error or "unreadable")
        app = Application.model_validate(row.data)
        if not app.employee_id:
            raise Violation("employee-id-required", "an imported row needs employee_id")
        assessed = assess(app, self.cohort, participant_id=app.employee_id,
                          actor=Actor.ADMIN, now=now)
        hashed = self.commands.hash_email(assessed.profile.email)
        import_id = self.report.import_id
        return Candidate(assessed, hashed,
                         participant_document(assessed, hashed, now, import_id),
                         correlation_id=import_id)


class BulkImporter:
    def __init__(self, commands: EnrolmentCommands, *, chunk_size: int, max_rows: int,
                 max_record_bytes: int) -> None:
        self.commands = commands
        self.chunk_size = chunk_size
        self.max_rows = max_rows
        self.max_record_bytes = max_record_bytes

    async def run(self, tenant_id: str, cohort_id: str, fmt: Format,
                  body: AsyncIterator[bytes], *, import_id: str) -> ImportReport:
        """Import an upload into an open cohort (404/409 before a byte is read)."""
        cohort = await self.commands.cohort_terms(tenant_id, cohort_id)
        check_accepts_enrolment(cohort, self.commands.clock())
        running = _Import(self.commands, cohort, ImportReport(import_id, cohort_id, fmt))
        chunk: list[ParsedRow] = []
        with bound(tenant=tenant_id, cohort=cohort_id, correlation_id=import_id):
            async for row in read(fmt, body, self.max_record_bytes):
                if row.row > self.max_rows:
                    await running.chunk(chunk)
                    raise ImportTooLarge(self.max_rows, running.report)
                chunk.append(row)
                if len(chunk) >= self.chunk_size:
                    await running.chunk(chunk)
                    chunk = []
            await running.chunk(chunk)
            log.info("import_completed", format=fmt.value, **running.report.summary)
        return running.report
