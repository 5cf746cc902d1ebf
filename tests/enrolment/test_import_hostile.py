"""Uploads as a hostile client writes them: a bad row costs only itself, every line is reported.

Each test goes through the HTTP API into the real database; never a 500, never a dropped row.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from tests.enrolment.conftest import Api, assert_problem
from tests.enrolment.test_bulk_import import COLUMNS, csv_line, hris_csv, hris_row, upload

pytestmark = pytest.mark.integration


@pytest.fixture
async def cohort_id(api: Api) -> str:
    return str((await api.open_cohort(matching_policy={"min_level_gap": 3}))["cohort_id"])


def valid_rows(start: int, count: int) -> str:
    return "".join(csv_line(hris_row(i)) for i in range(start, start + count))


def statuses(report: dict[str, Any]) -> list[tuple[int, str]]:
    return [(r["line"], r["status"]) for r in report["rows"]]


async def test_a_csv_with_carriage_return_line_endings_is_imported(api: Api, cohort_id):
    report = await upload(api, cohort_id, hris_csv([hris_row(i) for i in range(3)])
                          .replace("\n", "\r"))
    assert statuses(report) == [(2, "accepted"), (3, "accepted"), (4, "accepted")]


async def test_mixed_line_endings_and_a_byte_order_mark_are_read(api: Api, cohort_id):
    body = ("\ufeff" + COLUMNS + "\r\n" + csv_line(hris_row(0)).replace("\n", "\r")
            + csv_line(hris_row(1)) + csv_line(hris_row(2)).replace("\n", "\r\n")
            + csv_line(hris_row(3)).rstrip("\n"))
    report = await upload(api, cohort_id, body)
    assert statuses(report) == [(2, "accepted"), (3, "accepted"), (4, "accepted"),
                                (5, "accepted")]


async def test_a_quote_inside_a_name_is_part_of_the_name_and_costs_no_row(api: Api, cohort_id):
    body = (COLUMNS + "\n" + csv_line(hris_row(0, first_name='Dana O"Neil'))
            + valid_rows(1, 50))
    report = await upload(api, cohort_id, body)
    assert report["summary"] == {"rows": 51, "accepted": 51, "rejected": 0,
                                 "already_enrolled": 0}
    dana = await api.http.get(f"/cohorts/{cohort_id}/participants/e-00000",
                              headers=api.admin())
    assert dana.json()["name"] == 'Dana O"Neil Last0'


async def test_a_quote_left_open_costs_only_its_own_row(api: Api, cohort_id):
    open_quote = csv_line(hris_row(10, goals="GOALS")).replace("GOALS", '"Learn and teach')
    quoted_name = csv_line(hris_row(30, first_name="Schneider, Lea"))
    body = (COLUMNS + "\n" + valid_rows(0, 10) + open_quote + valid_rows(11, 19) + quoted_name
            + valid_rows(31, 21))
    report = await upload(api, cohort_id, body)
    assert report["summary"] == {"rows": 52, "accepted": 51, "rejected": 1,
                                 "already_enrolled": 0}
    [bad] = [r for r in report["rows"] if r["status"] == "rejected"]
    assert (bad["line"], bad["reason"]) == (12, "unreadable-row: a quoted field is not closed "
                                                "(an unbalanced quote)")


async def test_a_quote_left_open_in_the_last_row_costs_only_that_row(api: Api, cohort_id):
    body = COLUMNS + "\n" + valid_rows(0, 3) + csv_line(hris_row(3)).replace(
        "First3", '"First3').rstrip("\n")
    report = await upload(api, cohort_id, body)
    assert statuses(report) == [(2, "accepted"), (3, "accepted"), (4, "accepted"),
                                (5, "rejected")]


async def test_a_row_longer_than_the_record_limit_costs_only_itself(
        start: Callable[..., AbstractAsyncContextManager[Api]]):
    async with start(import_max_record_bytes=1024) as api:
        cohort = await api.open_cohort(matching_policy={"min_level_gap": 3})
        long_goals = csv_line(hris_row(1, goals="g" * 5000))
        long_quoted = csv_line(hris_row(2, goals='"' + "q\n" * 1000 + '"'))
        body = (COLUMNS + "\n" + valid_rows(0, 1) + long_goals + valid_rows(3, 1) + long_quoted
                + valid_rows(4, 1))
        report = await upload(api, cohort["cohort_id"], body)
    rows = [(r["line"], r["status"], r["reason"]) for r in report["rows"]]
    assert rows[:4] == [(2, "accepted", None),
                        (3, "rejected", "unreadable-row: longer than 1024 bytes"),
                        (4, "accepted", None),
                        (5, "rejected", "unreadable-row: a quoted field is not closed "
                                        "(an unbalanced quote)")]
    # the quoted field's 1,000 lines are read as rows of their own, then the last valid row
    assert len(rows) == 4 + 1000 + 1
    assert rows[-1] == (1006, "accepted", None)
    assert all(status == "rejected" for _, status, _ in rows[4:-1])


async def test_nul_bytes_cost_only_their_row(api: Api, cohort_id):
    body = (COLUMNS + "\n" + csv_line(hris_row(0, first_name="Le\x00a"))
            + csv_line(hris_row(2, cost_center="47\x0011")) + valid_rows(4, 1))
    report = await upload(api, cohort_id, body)
    assert statuses(report) == [(2, "rejected"), (3, "accepted"), (4, "accepted")]
    assert report["rows"][0]["reason"].startswith("name: String should match pattern")


async def test_rows_with_too_many_or_too_few_fields_are_rejected_with_the_count(
        api: Api, cohort_id):
    body = (COLUMNS + "\n" + csv_line(hris_row(0)).replace("\n", ",extra\n")
            + csv_line(hris_row(2)).rsplit(",", 2)[0] + "\n" + valid_rows(4, 1))
    report = await upload(api, cohort_id, body)
    assert [(r["status"], r["reason"]) for r in report["rows"]] == [
        ("rejected", "unreadable-row: 17 fields, the header has 16"),
        ("rejected", "unreadable-row: 14 fields, the header has 16"),
        ("accepted", None)]


async def test_lines_without_any_value_are_skipped_like_blank_lines(api: Api, cohort_id):
    body = COLUMNS + "\n\n" + valid_rows(0, 1) + ",,,,\n  \n" + "," * 15 + "\n" + valid_rows(2, 1)
    report = await upload(api, cohort_id, body)
    assert statuses(report) == [(3, "accepted"), (7, "accepted")]


async def test_a_column_named_twice_refuses_the_upload_but_ignored_columns_may_repeat(
        api: Api, cohort_id):
    twice = await api.http.post(
        f"/cohorts/{cohort_id}/imports", content=hris_csv([hris_row(0)]).replace(
            "email", "work_email").replace("cost_center", "mail"),
        headers={**api.admin(), "content-type": "text/csv"})
    body = assert_problem(twice, 422, "invalid-upload")
    assert body["detail"] == "the CSV header names email twice (or by an alias)"
    repeated = (COLUMNS.replace("cost_center", "notes,notes") + "\n"
                + csv_line(hris_row(0)).replace("\n", ",more\n"))
    assert statuses(await upload(api, cohort_id, repeated)) == [(2, "accepted")]


async def test_a_header_with_an_open_quote_refuses_the_upload(api: Api, cohort_id):
    response = await api.http.post(
        f"/cohorts/{cohort_id}/imports", content='"' + hris_csv([hris_row(0)]),
        headers={**api.admin(), "content-type": "text/csv"})
    assert_problem(response, 422, "invalid-upload")


@pytest.mark.parametrize(("content_type", "content"), [
    ("text/csv", ""), ("text/csv", "\n\r\n"), ("text/csv", COLUMNS + "\n"),
    ("text/csv", "\ufeff" + COLUMNS + "\r\n\r\n,,,\r\n"),
    ("application/x-ndjson", ""), ("application/x-ndjson", "\n \n\r"),
])
async def test_an_upload_without_rows_is_refused_alike_in_both_formats(
        api: Api, cohort_id, content_type, content):
    response = await api.http.post(f"/cohorts/{cohort_id}/imports", content=content,
                                   headers={**api.admin(), "content-type": content_type})
    body = assert_problem(response, 422, "invalid-upload")
    assert body["detail"] == "the upload is empty: it holds no rows"


async def test_json_lines_that_cannot_be_read_cost_only_their_row(
        start: Callable[..., AbstractAsyncContextManager[Api]]):
    async with start(import_max_record_bytes=4096) as api:
        cohort = await api.open_cohort(matching_policy={"min_level_gap": 3})
        good = (b'{"employee_id": "e-1", "role": "mentor", "name": "A", "email": "a@x.de", '
                b'"department": "IT", "career_level": 2, "languages": "de", '
                b'"time_zone": "Europe/Berlin", "consent": true}')
        body = (b"\xef\xbb\xbf" + good + b"\r" + b"[" * 4000 + b"\n" + b"x" * 5000 + b"\r\n"
                + good.replace(b"e-1", b"e-2").replace(b'"A"', b'"\\u0000"') + b"\n"
                + b"\xff\xfe\n" + good.replace(b"e-1", b"e-3").replace(b"a@x", b"c@x"))
        response = await api.http.post(
            f"/cohorts/{cohort['cohort_id']}/imports", content=body,
            headers={**api.admin(), "content-type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert [(r["line"], r["status"], r["reason"]) for r in response.json()["rows"]] == [
        (1, "accepted", None),
        (2, "rejected", "unreadable-row: not valid JSON: nested too deeply"),
        (3, "rejected", "unreadable-row: longer than 4096 bytes"),
        (4, "rejected", "name: String should match pattern '^[^\\x00-\\x1f\\x7f]*$'"),
        (5, "rejected", "unreadable-row: not UTF-8 text"),
        (6, "accepted", None)]


async def test_a_report_never_echoes_an_employee_id_that_is_not_one(api: Api, cohort_id):
    report = await upload(api, cohort_id, hris_csv([
        hris_row(0, employee_id="e" * 5000), hris_row(2, employee_id="lea@example.com"),
        hris_row(4, employee_id=" e-4 ", career_level=9)]))
    assert [(r["status"], r["participant_id"]) for r in report["rows"]] == [
        ("rejected", None), ("rejected", None), ("rejected", "e-4")]
