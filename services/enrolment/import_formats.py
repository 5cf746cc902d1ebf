"""Streaming readers for bulk-import uploads: CSV and JSON Lines, the shapes HRIS exports have.

The upload is read chunk by chunk from the request stream and split into records as bytes
arrive; only the current record is held in memory. Every record becomes a :class:`ParsedRow`
with the fields of an :class:`~services.enrolment.domain.Application`, or the reason it cannot
be read (not UTF-8, not JSON, too long…), so one bad row never stops the import.

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


async def lines(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[bytes | None]:
    """Split a byte stream at ``\\n``; a line longer than ``max_bytes`` is dropped as ``None``."""
    buffer = b""
    overflow = False
    async for chunk in chunks:
        if not chunk:
            continue
        parts = (buffer + chunk).split(b"\n")
        buffer = parts.pop()
        for part in parts:
            yield None if overflow or len(part) > max_bytes else part
            overflow = False
        if len(buffer) > max_bytes:
            buffer, overflow = b"", True
    if overflow:
        yield None
    elif buffer:
        yield buffer


def _text(record: bytes, first: bool) -> str:
    text = record.decode("utf-8")
    return text.removeprefix("\ufeff") if first else text


async def _csv_records(chunks: AsyncIterator[bytes], max_bytes: int
                       ) -> AsyncIterator[tuple[int, bytes | None]]:
    """Whole CSV records (a quoted field may span lines), with the line each starts on."""
    pending: list[bytes] = []
    quotes = size = 0
    start = line_no = 0
    async for line in lines(chunks, max_bytes):
        line_no += 1
        if line is None:
            yield (start if pending else line_no), None
            pending, quotes, size = [], 0, 0
            continue
        if not pending:
            start = line_no
        pending.append(line)
        quotes += line.count(b'"')
        size += len(line)
        if quotes % 2 == 0:
            yield start, b"\n".join(pending).rstrip(b"\r")
            pending, quotes, size = [], 0, 0
        elif size > max_bytes:
            yield start, None
            pending, quotes, size = [], 0, 0
    if pending:
        yield start, None


async def read_csv(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[ParsedRow]:
    header: list[str] | None = None
    row = 0
    async for line_no, record in _csv_records(chunks, max_bytes):
        if header is None:
            if record is None:
                raise UploadError("the CSV header is unreadable or too long")
            if not record.strip():
                continue
            try:
                header = [column(c) for c in next(csv.reader([_text(record, True)]))]
            except UnicodeDecodeError:
                raise UploadError("the CSV header is not UTF-8") from None
            _check_header(header)
            continue
        if record is not None and not record.strip():
            continue
        row += 1
        if record is None:
            yield ParsedRow(row, line_no, error=f"record longer than {max_bytes} bytes or an "
                                                 "unterminated quote")
            continue
        try:
            values = next(csv.reader([_text(record, False)]))
        except (UnicodeDecodeError, csv.Error) as exc:
            yield ParsedRow(row, line_no, error=f"unreadable record: {exc}")
            continue
        if len(values) > len(header):
            yield ParsedRow(row, line_no, error=f"{len(values)} fields, header has {len(header)}")
            continue
        yield ParsedRow(row, line_no, data=application_fields(dict(zip(header, values,
                                                                        strict=False))))
    if header is None:
        raise UploadError("the upload is empty: a CSV header is required")


def _check_header(header: list[str]) -> None:
    if len(set(header)) != len(header):
        raise UploadError("the CSV header names a column twice")
    names = set(header)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if "name" not in names and not {"first_name", "last_name"} <= names:
        missing.append("name")
    if missing:
        raise UploadError(f"the CSV header lacks required columns: {', '.join(missing)}")


async def read_jsonl(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[ParsedRow]:
    row = line_no = 0
    async for line in lines(chunks, max_bytes):
        line_no += 1
        if line is not None and not line.strip():
            continue
        row += 1
        if line is None:
            yield ParsedRow(row, line_no, error=f"line longer than {max_bytes} bytes")
            continue
        try:
            value = json.loads(_text(line, line_no == 1))
        except (UnicodeDecodeError, ValueError) as exc:
            yield ParsedRow(row, line_no, error=f"not valid JSON: {exc}")
            continue
        if not isinstance(value, dict):
            yield ParsedRow(row, line_no, error="not a JSON object")
            continue
        yield ParsedRow(row, line_no, data=application_fields(value))


def read(fmt: Format, chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[ParsedRow]:
    return read_csv(chunks, max_bytes) if fmt is Format.CSV else read_jsonl(chunks, max_bytes)
