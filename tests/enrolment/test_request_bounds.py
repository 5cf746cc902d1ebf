"""Every date, string and list of enrolment's request bodies is bounded: a 422, never a 500.

Each case was a server error or an oversized record before: dates BSON cannot encode, a topic
that outgrows its bound when lower-cased, a reporting line of 30 ids of 40,000 characters.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.enrolment.conftest import Api, application, assert_problem, cohort_spec
from tests.enrolment.test_bulk_import import hris_csv, hris_row, upload

pytestmark = pytest.mark.integration

LATE = "9999-12-31T23:59:59-14:00"
"""Valid ISO 8601, but year 10000 in UTC: Python cannot convert it to UTC for BSON."""
EARLY = "0001-01-01T00:30:00+01:00"
"""Year 0 in UTC."""
LONG_TOPIC = "İ" * 80
"""80 characters as sent, 160 once lower-cased (``"İ".lower()`` is ``"i̇"``)."""


def invalid_fields(response: Any) -> list[str]:
    """The body fields a 422 names, in order."""
    body = assert_problem(response, 422)
    return sorted({".".join(str(p) for p in e["loc"][1:]) for e in body["errors"]},
                  key=lambda loc: [int(p) if p.isdigit() else p for p in loc.split(".")])


@pytest.mark.parametrize(("field", "value"), [
    ("closes_at", LATE), ("opens_at", EARLY), ("closes_at", "2200-01-01T00:00:00Z"),
    ("opens_at", "1969-12-31T23:59:59Z"),
])
async def test_a_cohort_window_outside_1970_to_2200_is_refused(api: Api, field, value):
    response = await api.http.post("/cohorts", json=_spec(**{field: value}), headers=api.admin())
    assert invalid_fields(response) == [field]


@pytest.mark.parametrize("value", [LATE, EARLY])
async def test_a_consent_time_outside_the_supported_range_is_refused(api: Api, value):
    cohort = await api.open_cohort()
    response = await api.enrol(cohort["cohort_id"], "e-1", consent_given_at=value)
    assert invalid_fields(response) == ["consent_given_at"]


async def test_an_imported_row_with_an_unstorable_consent_time_is_rejected_alone(api: Api):
    cohort_id = (await api.open_cohort(matching_policy={"min_level_gap": 3}))["cohort_id"]
    rows = [hris_row(0), hris_row(2), hris_row(4)]
    csv = hris_csv(rows).splitlines()
    csv[0] += ",consent_given_at"
    csv[1] += ",2025-01-01T10:00:00+01:00"
    csv[2] += f",{EARLY}"
    csv[3] += f",{LATE}"
    report = await upload(api, cohort_id, "\n".join(csv) + "\n")
    assert report["summary"] == {"rows": 3, "accepted": 1, "rejected": 2, "already_enrolled": 0}
    assert [r["status"] for r in report["rows"]] == ["accepted", "rejected", "rejected"]
    assert all(r["reason"].startswith("consent_given_at:") for r in report["rows"][1:])


async def test_a_topic_is_bounded_after_it_is_lower_cased(api: Api):
    cohort = await api.open_cohort()
    response = await api.enrol(cohort["cohort_id"], "e-1", topics_offered=[LONG_TOPIC])
    assert invalid_fields(response) == ["topics_offered.0"]
    fits = "İ" * 40
    response = await api.enrol(cohort["cohort_id"], "e-1", topics_offered=[fits, "GenAI "])
    assert response.status_code == 201, response.text
    assert response.json()["topics_offered"] == [fits.lower(), "genai"]


async def test_an_imported_row_whose_topic_outgrows_its_bound_is_rejected_alone(api: Api):
    cohort_id = (await api.open_cohort(matching_policy={"min_level_gap": 3}))["cohort_id"]
    report = await upload(api, cohort_id, hris_csv(
        [hris_row(0, topics_offered=LONG_TOPIC), hris_row(2)]))
    assert [r["status"] for r in report["rows"]] == ["rejected", "accepted"]
    assert report["rows"][0]["reason"].startswith("topics_offered.0:")
    assert LONG_TOPIC.lower() not in report["rows"][0]["reason"]


@pytest.mark.parametrize(("field", "value", "where"), [
    ("manager_chain", ["x" * 4_000] * 30, [f"manager_chain.{i}" for i in range(30)]),
    ("manager_chain", [f"e-{i}" for i in range(31)], "manager_chain"),
    ("employee_id", "e" * 101, "employee_id"),
    ("name", "n" * 201, "name"),
    ("name", "Lea\x00Schneider", "name"),
    ("name", "Lea\nSchneider", "name"),
    ("email", "a" * 310 + "@example.com", "email"),
    ("email", "lea\x00@example.com", "email"),
    ("department", "d" * 201, "department"),
    ("topics_wanted", [f"t{i}" for i in range(31)], "topics_wanted"),
    ("languages", ["de"] * 21, "languages"),
    ("languages", ["de-" + "-".join(["abcdefgh"] * 4)], "languages.0"),
    ("time_zone", "Europe/" + "B" * 60, "time_zone"),
    ("time_zone", "../../etc/passwd", "time_zone"),
    ("goals", "g" * 2001, "goals"),
    ("goals", "learn\x00", "goals"),
])
async def test_every_string_and_list_of_an_application_is_bounded(api: Api, field, value, where):
    cohort = await api.open_cohort()
    body = {"employee_id": "e-1", **application(**{field: value})}
    response = await api.http.post(f"/cohorts/{cohort['cohort_id']}/participants", json=body,
                                   headers=api.admin())
    assert invalid_fields(response) == (where if isinstance(where, list) else [where])


async def test_the_observed_1_2_mb_enrolment_is_refused_before_it_is_read(api: Api):
    """30 manager ids of 40,000 characters once became a 1.24 MB record no broker took."""
    cohort = await api.open_cohort()
    body = {"employee_id": "e-1", **application(manager_chain=["x" * 40_000] * 30)}
    response = await api.http.post(f"/cohorts/{cohort['cohort_id']}/participants", json=body,
                                   headers=api.admin())
    assert_problem(response, 413)
    assert await api.outbox_types() == ["CohortOpened"]


async def test_goals_may_span_lines(api: Api):
    cohort = await api.open_cohort()
    response = await api.enrol(cohort["cohort_id"], "e-1", goals="Teach AI.\r\nLearn to lead.\t")
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("field", "value", "where"), [
    ("name", "c" * 201, "name"),
    ("name", "Autumn\ncohort", "name"),
    ("languages", ["de"] * 21, "languages"),
    ("languages", ["en-" + "-".join(["abcdefgh"] * 4)], "languages.0"),
])
async def test_every_string_and_list_of_a_cohort_spec_is_bounded(api: Api, field, value, where):
    response = await api.http.post("/cohorts", json=_spec(**{field: value}), headers=api.admin())
    assert invalid_fields(response) == [where]


def _spec(**overrides: Any) -> dict[str, Any]:
    return cohort_spec(**overrides)


async def test_an_import_correlation_id_is_bounded_like_every_other(api: Api):
    cohort_id = (await api.open_cohort(matching_policy={"min_level_gap": 3}))["cohort_id"]
    response = await api.http.post(
        f"/cohorts/{cohort_id}/imports", content=hris_csv([hris_row(0)]),
        headers={**api.admin(), "content-type": "text/csv", "X-Correlation-ID": "c" * 201})
    body = assert_problem(response, 422)
    assert [e["loc"] for e in body["errors"]] == [["header", "X-Correlation-ID"]]
    named = await upload(api, cohort_id, hris_csv([hris_row(0)]).encode(), "text/csv")
    assert named["import_id"].startswith("imp-")
