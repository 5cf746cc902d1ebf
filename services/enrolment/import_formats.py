"""Streaming readers for bulk-import uploads: CSV and JSON Lines, the shapes HRIS exports have.

The upload is read chunk by chunk from the request stream and split into records as bytes
arrive; only the current record is held in memory. Every record becomes a :class:`ParsedRow`
with the fields of an :class:`~services.enrolment.applications.Application`, or the reason it cannot
be read (not UTF-8, not JSON, too long…), so one bad row never stops the import, and every
line of the upload is in exactly one reported row (:mod:`records`), except blank lines (and CSV
lines without any value, as spreadsheets write at the end). A CSV row has as many fields as the
header. An upload without any row is refused as a whole, CSV and JSON Lines alike: an export
that lists nobody is a broken export, not an import of nobody.

Columns (CSV header or JSON keys; case-insensitive, spaces and hyphens read as ``_``; unknown
columns are ignored, so a full HRIS export can be uploaded as it is):
``employee_id`` (required), ``role`` (mentor|mentee), ``name`` or ``first_name`` + ``last_name``,
``email``, ``department``, ``manager_id``, ``manager_chain``, ``career_level`` (1-10),
``topics_offered``, ``topics_wanted``, ``languages``, ``time_zone`` (IANA),
``preferred_format`` (in_person|video|either), ``goals``, ``consent`` (true/yes/1),
``consent_given_at`` (ISO 8601 with offset). List columns are separated by ``;`` or ``|``
(JSON Lines may also use arrays). See :data:`ALIASES` for accepted alternative names.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.enrolment.applications import (
    Application,
)
from services.enrolment.records import CsvRecords, Line, Record, ends_in_quotes, fields, lines


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


MEDIA_TYPES = {
    "text/csv": Format.CSV, "application/csv": Format.CSV,
    "application/x-ndjson": Format.JSONL, "application/jsonl": Format.JSONL,
    "application/x-jsonlines": Format.JSONL, "application/jsonlines": Format.JSONL,
}
ALIASES = {
    "personnel_number": "employee_id", "employee_number": "employee_id", "employee": "employee_id",
    "mail": "email", "e_mail": "email", "work_email": "email", "dept": "department",
    "manager": "manager_id", "level": "career_level", "grade": "career_level",
    "timezone": "time_zone", "tz": "time_zone", "language": "languages",
    "format": "preferred_format", "expectations": "goals", "goals_and_expectations": "goals",
    "display_name": "name", "full_name": "name", "given_name": "first_name",
    "surname": "last_name", "family_name": "last_name", "consent_at": "consent_given_at",
}
LIST_FIELDS = frozenset({"manager_chain", "topics_offered", "topics_wanted", "languages"})
REQUIRED_COLUMNS = ("employee_id", "role", "email", "department", "career_level", "languages",
                    "time_zone", "consent")


NO_ROWS = "the upload is empty: it holds no rows"


class UploadError(ValueError):
    """The upload as a whole cannot be read (e.g. a CSV header lacks required columns)."""


@dataclass(frozen=True)
class ParsedRow:
    row: int
    """1-based number of the data record (blank lines and the CSV header not counted)."""
    line: int
    """Line of the file the record starts on."""
    data: dict[str, Any] | None = None
    error: str | None = None


def format_of(content_type: str | None, requested: str | None = None) -> Format | None:
    if requested:
        return Format(requested)
    media = (content_type or "").split(";")[0].strip().lower()
    return MEDIA_TYPES.get(media)


def column(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def application_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """Raw columns to Application fields: aliases, list splitting, name from its parts."""
    data: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        name = column(str(key))
        if name in LIST_FIELDS and isinstance(value, str):
            value = [v for v in value.replace("|", ";").split(";") if v.strip()]
        data[name] = value
    if "name" not in data and ("first_name" in data or "last_name" in data):
        data["name"] = " ".join(str(data.get(k, "")).strip() for k in ("first_name", "last_name"))
    return data


KNOWN_COLUMNS = frozenset(Application.model_fields) | {"first_name", "last_name"}
"""Columns that become fields; any other column is ignored and may even repeat."""
MULTILINE_COLUMNS = frozenset({"goals"})
"""Known columns whose quoted values may span lines (free text); ignored columns may too."""


async def read_csv(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[ParsedRow]:
    """One row per CSV record after the header; see :mod:`records` for how records are cut."""
    records = CsvRecords(max_bytes)
    header: list[str] | None = None
    row = 0
    async for line in lines(chunks, max_bytes):
        if header is None:
            if line.data is None:
                raise UploadError(f"the CSV header is longer than {max_bytes} bytes")
            if line.data.strip():
                header = _header(line.data)
                records.width = len(header)
                records.multiline = frozenset(i for i, c in enumerate(header)
                                              if c in MULTILINE_COLUMNS or c not in KNOWN_COLUMNS)
            continue
        for record in records.feed(line):
            if (parsed := _csv_row(header, record, row + 1)) is not None:
                row += 1
                yield parsed
    for record in records.finish():
        assert header is not None
        if (parsed := _csv_row(header, record, row + 1)) is not None:
            row += 1
            yield parsed
    if row == 0:
        raise UploadError(NO_ROWS)


def _header(data: bytes) -> list[str]:
    if ends_in_quotes(data):
        raise UploadError("the CSV header has a quoted name that is not closed")
    try:
        header = [column(c) for c in fields(data)]
    except (UnicodeDecodeError, csv.Error):
        raise UploadError("the CSV header is not UTF-8 text") from None
    _check_header(header)
    return header


def _check_header(header: list[str]) -> None:
    known = [c for c in header if c in KNOWN_COLUMNS]
    if twice := sorted({c for c in known if known.count(c) > 1}):
        raise UploadError(f"the CSV header names {', '.join(twice)} twice (or by an alias)")
    names = set(header)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if "name" not in names and not {"first_name", "last_name"} <= names:
        missing.append("name")
    if missing:
        raise UploadError(f"the CSV header lacks required columns: {', '.join(missing)}")


def _csv_row(header: list[str], record: Record, row: int) -> ParsedRow | None:
    """The record as a row; ``None`` for a line without any value (blank, or only commas)."""
    if record.data is None:
        return ParsedRow(row, record.line, error=record.error)
    if not record.data.strip():
        return None
    try:
        values = fields(record.data)
    except UnicodeDecodeError:
        return ParsedRow(row, record.line, error="not UTF-8 text")
    except csv.Error as exc:
        return ParsedRow(row, record.line, error=f"unreadable record: {exc}")
    if not any(v.strip() for v in values):
        return None
    if len(values) != len(header):
        return ParsedRow(row, record.line,
                         error=f"{len(values)} fields, the header has {len(header)}")
    return ParsedRow(row, record.line, data=application_fields(dict(zip(header, values,
                                                                         strict=True))))


async def read_jsonl(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[ParsedRow]:
    """One row per non-blank line, each a JSON object."""
    row = 0
    async for line in lines(chunks, max_bytes):
        if line.data is not None and not line.data.strip():
            continue
        row += 1
        yield _jsonl_row(line, row, max_bytes)
    if row == 0:
        raise UploadError(NO_ROWS)


def _jsonl_row(line: Line, row: int, max_bytes: int) -> ParsedRow:
    if line.data is None:
        return ParsedRow(row, line.number, error=f"longer than {max_bytes} bytes")
    try:
        value = json.loads(line.data.decode("utf-8"))
    except UnicodeDecodeError:
        return ParsedRow(row, line.number, error="not UTF-8 text")
    except ValueError as exc:
        return ParsedRow(row, line.number, error=f"not valid JSON: {exc}")
    except RecursionError:
        return ParsedRow(row, line.number, error="not valid JSON: nested too deeply")
    if not isinstance(value, dict):
        return ParsedRow(row, line.number, error="not a JSON object")
    return ParsedRow(row, line.number, data=application_fields(value))


def read(fmt: Format, chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[ParsedRow]:
    return read_csv(chunks, max_bytes) if fmt is Format.CSV else read_jsonl(chunks, max_bytes)
