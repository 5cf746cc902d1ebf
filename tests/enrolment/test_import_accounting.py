"""Property: for any upload, the report has one row per data line (or per record a quoted field
spans), on the line it starts, and a bad row costs nothing but itself.

Files are generated from the kinds of line HRIS exports and hostile clients produce, with any
mix of line breaks, chunk sizes and byte order marks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.enrolment.import_formats import Format, read
from tests.enrolment.conftest import Api

HEADER = b"employee_id,role,name,email,department,career_level,languages,time_zone,consent," \
         b"cost_center,goals"
MAX_BYTES = 256


@dataclass(frozen=True)
class Item:
    """Some lines of the file and what becomes of them."""

    lines: tuple[bytes, ...]
    row: bool = True
    """Whether it is a row (blank lines and lines without values are not)."""
    readable: bool = True
    """Whether the reader can cut it into fields."""
    valid: bool = True
    """Whether it enrols someone."""


def person(i: int, *, name: bytes | None = None, goals: bytes = b"Learn") -> bytes:
    return (b"e-%d,mentor,%s,p%d@example.com,IT,2,de,Europe/Berlin,yes,4711,%s"
            % (i, name if name is not None else b"Person %d" % i, i, goals))


KINDS = {
    "valid": lambda i: Item((person(i),)),
    "quote inside a name": lambda i: Item((person(i, name=b'Dana O"Neil'),)),
    "quoted comma": lambda i: Item((person(i, name=b'"Schneider, Lea"'),)),
    "goals over two lines": lambda i: Item(tuple(person(i, goals=b'"Learn\nto lead"')
                                                 .split(b"\n"))),
    "name quote left open": lambda i: Item((person(i, name=b"\"Dana O'Neil"),),
                                           readable=False, valid=False),
    "goals quote left open": lambda i: Item((person(i, goals=b'"Learn'),),
                                            readable=False, valid=False),
    "extra field": lambda i: Item((person(i) + b",extra",), readable=False, valid=False),
    "missing fields": lambda i: Item((person(i).rsplit(b",", 2)[0],), readable=False,
                                     valid=False),
    "not UTF-8": lambda i: Item((person(i, name=b"\xffLea"),), readable=False, valid=False),
    "NUL in a name": lambda i: Item((person(i, name=b"Le\x00a"),), valid=False),
    "too long": lambda i: Item((person(i, name=b"x" * MAX_BYTES),), readable=False,
                               valid=False),
    "blank": lambda i: Item((b"",), row=False),
    "spaces": lambda i: Item((b"  ",), row=False),
    "only commas": lambda i: Item((b",,,,",), row=False),
}
BREAKS = (b"\n", b"\r\n", b"\r")


@dataclass(frozen=True)
class Upload:
    content: bytes
    expected: list[tuple[int, Item]]
    """``(line, item)`` of every row, in order."""


@st.composite
def uploads(draw: st.DrawFn) -> Upload:
    items = [KINDS[kind](i) for i, kind in enumerate(
        draw(st.lists(st.sampled_from(sorted(KINDS)), max_size=40)))]
    lines = [HEADER, *(line for item in items for line in item.lines)]
    breaks = [draw(st.sampled_from(BREAKS)) for _ in lines]
    for n in range(1, len(lines)):  # "\r" then an empty line's "\n" would read as one "\r\n"
        if not lines[n] and breaks[n] == b"\n":
            breaks[n] = b"\r\n"
    if draw(st.booleans()):
        breaks[-1] = b""
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    expected, line = [], 2
    for item in items:
        if item.row:
            expected.append((line, item))
        line += len(item.lines)
    return Upload(bom + b"".join(text + end for text, end in zip(lines, breaks, strict=True)),
                  expected)


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


@settings(max_examples=400, deadline=None)
@given(upload=uploads(), chunk=st.integers(1, 64))
async def test_every_data_line_of_any_upload_is_reported_once_on_its_own_line(upload, chunk):
    rows = []
    try:
        async for row in read(Format.CSV, chunked(upload.content, chunk), MAX_BYTES):
            rows.append(row)
    except ValueError as exc:  # UploadError: only an upload without rows
        assert upload.expected == [], exc
        return
    assert [(r.row, r.line) for r in rows] == [
        (n, line) for n, (line, _) in enumerate(upload.expected, 1)]
    assert [r.data is not None for r in rows] == [item.readable for _, item in upload.expected]


@pytest.mark.integration
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(upload=uploads())
async def test_an_import_reports_every_data_line_and_enrols_every_valid_row(api: Api, upload):
    if not upload.expected:
        return
    cohort = await api.open_cohort()
    response = await api.http.post(
        f"/cohorts/{cohort['cohort_id']}/imports", content=upload.content,
        headers={**api.admin(), "content-type": "text/csv"})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    assert [(r["line"], r["status"]) for r in report["rows"]] == [
        (line, "accepted" if item.valid else "rejected") for line, item in upload.expected]
