"""Bulk import of HRIS exports: streaming, per-row report, idempotent, chunked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from tests.enrolment.conftest import Api, application, assert_problem
from tests.harness import COMMANDS, eventually

pytestmark = pytest.mark.integration

COLUMNS = ("employee_id,role,first_name,last_name,email,department,manager_id,career_level,"
           "topics_offered,topics_wanted,languages,time_zone,preferred_format,goals,consent,"
           "cost_center")


def hris_row(i: int, **overrides: Any) -> dict[str, Any]:
    mentor = i % 2 == 0
    row: dict[str, Any] = {
        "employee_id": f"e-{i:05d}", "role": "mentor" if mentor else "mentee",
        "first_name": f"First{i}", "last_name": f"Last{i}", "email": f"person{i}@example.com",
        "department": ("IT", "Sales", "Finance")[i % 3], "manager_id": f"m-{i % 50}",
        "career_level": 2 if mentor else 8, "topics_offered": "genai;social-media",
        "topics_wanted": "negotiation", "languages": "de;en", "time_zone": "Europe/Berlin",
        "preferred_format": "video", "goals": "Learn, and teach", "consent": "yes",
        "cost_center": "4711",
    }
    row.update(overrides)
    return row


def csv_line(row: dict[str, Any]) -> str:
    return ",".join(f'"{row[c]}"' if "," in str(row[c]) else str(row[c])
                    for c in COLUMNS.split(",")) + "\n"


def hris_csv(rows: list[dict[str, Any]]) -> str:
    return COLUMNS + "\n" + "".join(csv_line(r) for r in rows)


async def upload(api: Api, cohort_id: str, content: Any, content_type: str = "text/csv"
                 ) -> dict[str, Any]:
    response = await api.http.post(f"/cohorts/{cohort_id}/imports", content=content,
                                   headers={**api.admin(), "content-type": content_type})
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
async def cohort_id(api: Api) -> str:
    return str((await api.open_cohort(matching_policy={"min_level_gap": 3}))["cohort_id"])


async def test_a_csv_export_is_imported_with_a_report_for_every_row(api: Api, cohort_id):
    assert (await api.enrol(cohort_id, "e-00003", email="already@example.com")).status_code == 201
    rows = [
        hris_row(0),
        hris_row(1, consent="no"),
        hris_row(2, career_level=9),                     # a mentor too senior for gap 3
        hris_row(3),                                     # enrolled above, by themself
        hris_row(4, email="already@example.com"),        # someone else's e-mail address
        hris_row(5, time_zone="Nowhere/Land"),
        hris_row(6, employee_id=""),
        hris_row(7, career_level="senior"),
        hris_row(0, email="person0.alias@example.com"),  # the same person twice in the file
    ]
    report = await upload(api, cohort_id, hris_csv(rows))
    assert report["format"] == "csv" and report["import_id"]
    assert report["summary"] == {"rows": 9, "accepted": 1, "rejected": 5, "already_enrolled": 3}
    outcome = [(r["row"], r["status"], r["participant_id"]) for r in report["rows"]]
    assert outcome == [
        (1, "accepted", "e-00000"), (2, "rejected", "e-00001"), (3, "rejected", "e-00002"),
        (4, "already_enrolled", "e-00003"), (5, "already_enrolled", "e-00003"),
        (6, "rejected", "e-00005"), (7, "rejected", None), (8, "rejected", "e-00007"),
        (9, "already_enrolled", "e-00000"),
    ]
    reasons = {r["row"]: r["reason"] for r in report["rows"] if r["reason"]}
    assert reasons[2].startswith("consent-required")
    assert reasons[3].startswith("level-does-not-fit-policy")
    assert reasons[6].startswith("unknown-time-zone")
    assert reasons[7] == "employee-id-required: an imported row needs employee_id"
    assert reasons[8].startswith("career_level:")
    assert report["rows"][0]["line"] == 2

    record = (await api.http.get(f"/cohorts/{cohort_id}/participants/e-00000",
                                 headers=api.participant("e-00000"))).json()
    assert (record["name"], record["enrolled_by"]) == ("First0 Last0", "admin")
    assert record["topics_offered"] == ["genai", "social-media"]
    assert record["goals"] == "Learn, and teach"


async def test_a_json_lines_export_is_imported_too(api: Api, cohort_id):
    people = [application(employee_id=f"e-{i}", email=f"j{i}@example.com", role="mentee",
                          career_level=7) for i in range(3)]
    body = "\n".join(json.dumps(p) for p in people) + "\n{broken\n"
    report = await upload(api, cohort_id, body, "application/x-ndjson")
    assert report["summary"] == {"rows": 4, "accepted": 3, "rejected": 1, "already_enrolled": 0}
    assert report["rows"][3]["reason"].startswith("unreadable-row: not valid JSON")


async def test_reimporting_the_same_file_changes_nothing_and_emits_nothing(api: Api, cohort_id):
    data = hris_csv([hris_row(i) for i in range(40)] + [hris_row(99, consent="")])
    first = await upload(api, cohort_id, data)
    assert first["summary"] == {"rows": 41, "accepted": 40, "rejected": 1, "already_enrolled": 0}
    db = api.enrolment.service.db
    participants = await db["participants"].find().sort("_id", 1).to_list()
    cohort = await db["cohorts"].find_one({"_id": cohort_id})
    events = await api.outbox_types()

    again = await upload(api, cohort_id, data)
    assert again["summary"] == {"rows": 41, "accepted": 0, "rejected": 1, "already_enrolled": 40}
    assert [r["participant_id"] for r in again["rows"][:40]] == [
        r["participant_id"] for r in first["rows"][:40]]
    assert await db["participants"].find().sort("_id", 1).to_list() == participants
    assert await db["cohorts"].find_one({"_id": cohort_id}) == cohort
    assert await api.outbox_types() == events == ["CohortOpened"] + ["ParticipantEnrolled"] * 40


async def test_an_import_costs_a_few_round_trips_per_chunk_not_one_per_row(
    start: Callable[..., AbstractAsyncContextManager[Api]], unique: str
):
    rows, chunk = 1_050, 500  # three chunks at the default chunk size
    async with start() as api:
        assert api.enrolment.settings.import_chunk_size == chunk
        cohort_id = (await api.open_cohort())["cohort_id"]
        with COMMANDS.counting(f"enrolment_{unique}") as commands:
            report = await upload(api, cohort_id, hris_csv([hris_row(i) for i in range(rows)]))
    assert report["summary"]["accepted"] == rows
    chunks = -(-rows // chunk)
    # the import's own commands (the relay's reads and marks of the outbox aside): one cohort
    # lookup, then per chunk one query, one fence, one insert_many each (plus the commit)
    ours = {key: n for key, n in commands.items()
            if key[1] in ("cohorts", "participants") or key == ("insert", "outbox")}
    assert ours == {("find", "cohorts"): 1, ("find", "participants"): chunks,
                    ("update", "cohorts"): chunks, ("insert", "participants"): chunks,
                    ("insert", "outbox"): chunks}


async def test_the_upload_is_processed_while_it_streams_in(
    start: Callable[..., AbstractAsyncContextManager[Api]]
):
    async with start(import_chunk_size=100) as api:
        cohort_id = (await api.open_cohort())["cohort_id"]
        participants = api.enrolment.service.db["participants"]

        async def body() -> AsyncIterator[bytes]:
            yield hris_csv([hris_row(i) for i in range(150)]).encode()

            async def first_chunk_committed() -> bool:
                return await participants.count_documents({}) >= 100

            # the rest of the file is sent only once the first chunk is in the database
            await eventually(first_chunk_committed, within=10, what="the first chunk")
            yield "".join(csv_line(hris_row(i)) for i in range(150, 230)).encode()

        report = await upload(api, cohort_id, body())
    assert report["summary"]["accepted"] == 230


async def test_a_header_lacking_required_columns_is_a_422_problem_and_imports_nothing(
    api: Api, cohort_id
):
    response = await api.http.post(f"/cohorts/{cohort_id}/imports",
                                   content="employee_id,name\ne-1,Lea\n",
                                   headers={**api.admin(), "content-type": "text/csv"})
    body = assert_problem(response, 422, "invalid-upload")
    assert "role" in body["detail"] and "email" in body["detail"]
    assert await api.outbox_types() == ["CohortOpened"]


async def test_an_upload_neither_csv_nor_json_lines_is_a_415_problem(api: Api, cohort_id):
    response = await api.http.post(f"/cohorts/{cohort_id}/imports", json=[application()],
                                   headers=api.admin())
    assert_problem(response, 415)


async def test_the_format_may_be_named_in_the_query(api: Api, cohort_id):
    response = await api.http.post(
        f"/cohorts/{cohort_id}/imports", params={"format": "csv"},
        content=hris_csv([hris_row(0)]),
        headers={**api.admin(), "content-type": "application/octet-stream"})
    assert response.json()["summary"]["accepted"] == 1


async def test_importing_into_an_unknown_cohort_is_404_and_into_a_closed_one_409(
    api: Api, cohort_id
):
    data = hris_csv([hris_row(0)])
    headers = {**api.admin(), "content-type": "text/csv"}
    assert_problem(await api.http.post("/cohorts/coh-nope/imports", content=data,
                                       headers=headers), 404, "cohort-not-found")
    await api.http.post(f"/cohorts/{cohort_id}/close", headers=api.admin())
    assert_problem(await api.http.post(f"/cohorts/{cohort_id}/imports", content=data,
                                       headers=headers), 409, "cohort-closed")


async def test_only_admins_import(api: Api, cohort_id):
    response = await api.http.post(f"/cohorts/{cohort_id}/imports",
                                   content=hris_csv([hris_row(0)]),
                                   headers={**api.participant("e-00000"),
                                            "content-type": "text/csv"})
    assert_problem(response, 403)


async def test_an_upload_over_the_row_limit_is_413_after_importing_the_rows_before_it(
    start: Callable[..., AbstractAsyncContextManager[Api]]
):
    async with start(import_max_rows=3) as api:
        cohort_id = (await api.open_cohort())["cohort_id"]
        response = await api.http.post(
            f"/cohorts/{cohort_id}/imports", content=hris_csv([hris_row(i) for i in range(5)]),
            headers={**api.admin(), "content-type": "text/csv"})
        body = assert_problem(response, 413)
        assert body["summary"]["accepted"] == 3
        assert await api.outbox_types() == ["CohortOpened"] + ["ParticipantEnrolled"] * 3
