"""Reading uploads as a stream: records, columns, and rows that cannot be read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.enrolment.import_formats import (
    Format,
    ParsedRow,
    UploadError,
    format_of,
    read,
)
from services.enrolment.records import lines

HEADER = "employee_id,role,name,email,department,career_level,languages,time_zone,consent\n"


async def stream(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    """The upload in small chunks, so records straddle chunk boundaries."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def rows(fmt: Format, data: str | bytes, max_bytes: int = 1000) -> list[ParsedRow]:
    raw = data.encode() if isinstance(data, str) else data
    return [row async for row in read(fmt, stream(raw), max_bytes)]


async def test_lines_are_split_across_chunks_and_an_overlong_line_is_dropped():
    data = b"a\n" + b"x" * 50 + b"\nb\nc"
    assert [line.data async for line in lines(stream(data, 3), 10)] == [b"a", None, b"b", b"c"]


async def test_csv_columns_map_to_application_fields():
    data = HEADER + "e-1,mentor,Lea S,lea@x.de,IT,2,de;en,Europe/Berlin,yes\n"
    [row] = await rows(Format.CSV, data)
    assert row.data == {"employee_id": "e-1", "role": "mentor", "name": "Lea S",
                        "email": "lea@x.de", "department": "IT", "career_level": "2",
                        "languages": ["de", "en"], "time_zone": "Europe/Berlin",
                        "consent": "yes"}
    assert (row.row, row.line) == (1, 2)


async def test_a_quoted_field_may_span_lines_and_crlf_and_a_bom_are_understood():
    data = ("\ufeff" + HEADER.replace("consent\n", "consent,goals\r\n")
            + 'e-1,mentor,"Schneider, Lea",lea@x.de,IT,2,de,Europe/Berlin,yes,\r\n'
            + '\r\n'
            + 'e-2,mentee,Max M,max@x.de,IT,7,de,Europe/Berlin,yes,"Learn\r\n""AI"" M"\r\n')
    first, second = await rows(Format.CSV, data)
    assert first.data is not None and first.data["name"] == "Schneider, Lea"
    assert second.data is not None and second.data["goals"] == 'Learn\r\n"AI" M'
    assert (second.row, second.line) == (2, 4)


async def test_hris_column_names_and_name_parts_are_accepted_and_unknown_columns_ignored():
    data = ("Personnel Number,Role,First Name,Last Name,Work-Email,Dept,Grade,Language,"
            "Timezone,Consent,Cost Center\n"
            "e-1,mentee,Max,Mustermann,max@x.de,IT,7,de,Europe/Berlin,true,4711\n")
    [row] = await rows(Format.CSV, data)
    assert row.data is not None
    assert row.data["employee_id"] == "e-1" and row.data["name"] == "Max Mustermann"
    assert row.data["career_level"] == "7" and row.data["email"] == "max@x.de"


async def test_a_header_without_required_columns_rejects_the_whole_upload():
    with pytest.raises(UploadError, match="employee_id"):
        await rows(Format.CSV, "role,name,email\nmentor,A,a@x.de\n")


async def test_an_empty_csv_upload_is_rejected():
    with pytest.raises(UploadError, match="empty"):
        await rows(Format.CSV, "")


async def test_unreadable_csv_records_become_rejected_rows_and_reading_goes_on():
    data = (HEADER.encode()
            + b"e-1,mentor,\xff\xfe,a@x.de,IT,2,de,Europe/Berlin,yes\n"
            + b"e-2,mentor,A,a@x.de,IT,2,de,Europe/Berlin,yes,extra,fields\n"
            + b'e-3,mentor,"' + b"y" * 2000 + b'",a@x.de,IT,2,de,Europe/Berlin,yes\n'
            + b"e-4,mentor,B,b@x.de,IT,2,de,Europe/Berlin,yes\n")
    parsed = await rows(Format.CSV, data)
    assert [r.error is not None for r in parsed] == [True, True, True, False]
    assert parsed[3].data is not None and parsed[3].data["employee_id"] == "e-4"


async def test_json_lines_take_arrays_or_separated_strings_and_skip_blank_lines():
    data = ('{"employee_id": "e-1", "languages": ["de"], "topics_offered": "a;b"}\n'
            "\n"
            "not json\n"
            "[1, 2]\n")
    first, second, third = await rows(Format.JSONL, data)
    assert first.data == {"employee_id": "e-1", "languages": ["de"],
                          "topics_offered": ["a", "b"]}
    assert second.error is not None and second.error.startswith("not valid JSON")
    assert (second.row, second.line) == (2, 3)
    assert third.error == "not a JSON object"


def test_the_format_follows_the_content_type_unless_asked_for():
    assert format_of("text/csv; charset=utf-8") is Format.CSV
    assert format_of("application/x-ndjson") is Format.JSONL
    assert format_of("application/json") is None
    assert format_of("application/octet-stream", "jsonl") is Format.JSONL
