"""The console's pure parts: forms into requests, problems into sentences, figures into SVG."""

from __future__ import annotations

import re
from datetime import date, datetime

import httpx
import pytest
from starlette.datastructures import FormData

from console import charts
from console.cohorts import FormError, cohort_request
from console.kpis import weekly
from console.matching import column_of
from console.pages import gettext_for
from console.participants import application_of, import_format
from console.platform import ServiceDown, ServiceProblem
from console.problems import notice_of
from console.programme import PlanError, form_of, plan_of


def problem(status: int, body: dict[str, object]) -> ServiceProblem:
    response = httpx.Response(status, json=body,
                              headers={"content-type": "application/problem+json"})
    return ServiceProblem.of("enrolment", response)


def test_a_problem_with_a_known_code_reads_in_the_users_language() -> None:
    refused = problem(409, {"type": "urn:revmentor:problem:cohort-closed",
                            "title": "Cohort closed", "detail": "cohort c-1 is closed"})
    assert refused.code == "cohort-closed"
    english = notice_of(refused, gettext_for("en"))
    german = notice_of(refused, gettext_for("de"))
    assert english.message == "The cohort is closed: nobody can enrol any more."
    assert german.message == "Die Kohorte ist geschlossen: Niemand kann sich mehr anmelden."
    assert german.status == 409


def test_an_unknown_problem_shows_the_services_title_and_detail() -> None:
    odd = problem(418, {"type": "urn:revmentor:problem:teapot", "title": "Teapot",
                        "detail": "short and stout"})
    notice = notice_of(odd, gettext_for("en"))
    assert (notice.message, notice.detail) == ("Teapot", "short and stout")


def test_a_validation_error_names_the_fields_never_their_values() -> None:
    invalid = problem(422, {"title": "Unprocessable", "errors": [
        {"loc": ["body", "email"], "msg": "String should match pattern", "type": "x"}]})
    notice = notice_of(invalid, gettext_for("en"))
    assert notice.message == "Some of the values are not valid."
    assert notice.detail == "email: String should match pattern"


def test_a_service_that_does_not_answer_is_a_notice() -> None:
    notice = notice_of(ServiceDown("matching"), gettext_for("en"))
    assert (notice.heading, notice.status) == ("Service unavailable", 503)
    assert notice.message.startswith("The matching service does not answer right now")


def cohort_form(**changes: str) -> FormData:
    fields = {"name": "Pilot", "languages": "de; EN", "closes_on": "2199-03-31",
              "time_zone": "Europe/Berlin", "session_target": "4", "mode": "batch",
              "mentor_capacity": "2", "min_level_gap": "3", "cross_department": "required",
              "max_timezone_gap_hours": "4.5", "objective": "max_matched",
              "exclude_reporting_line": "on", "weight_topic_fit": "1",
              "weight_reverse_topic_fit": "0.5", "weight_format": "0",
              "weight_cross_department": "0.3", "weight_goal_similarity": "0.2"}
    fields.update(changes)
    return FormData(list(fields.items()))


def test_the_cohort_form_becomes_the_full_matching_policy() -> None:
    spec = cohort_request(cohort_form())
    assert spec["languages"] == ["de", "en"]
    assert spec["closes_at"] == "2199-03-31T23:59:00+02:00"
    assert "opens_at" not in spec
    assert spec["matching_policy"] == {
        "mode": "batch", "mentor_capacity": 2, "min_level_gap": 3,
        "cross_department": "required", "max_timezone_gap_hours": 4.5,
        "exclude_reporting_line": True, "objective": "max_matched",
        "weights": {"topic_fit": 1.0, "reverse_topic_fit": 0.5, "format": 0.0,
                    "cross_department": 0.3, "goal_similarity": 0.2}}


@pytest.mark.parametrize("field,value", [("mentor_capacity", "two"), ("time_zone", "Mars/Base"),
                                         ("closes_on", "31.03.2199")])
def test_a_cohort_form_field_that_cannot_be_read_is_named(field: str, value: str) -> None:
    with pytest.raises(FormError) as refused:
        cohort_request(cohort_form(**{field: value}))
    assert refused.value.args == (field,)


def test_the_session_form_becomes_a_plan_with_its_offset() -> None:
    plan = plan_of(FormData([("day", "2199-07-01"), ("start", "09:30"),
                             ("time_zone", "Europe/London"), ("duration_minutes", "45"),
                             ("format", "in_person"), ("location", "Floor 12"),
                             ("video_link", "https://ignored.example")]))
    assert plan == {"starts_at": "2199-07-01T09:30:00+01:00", "duration_minutes": 45,
                    "format": "in_person", "location": "Floor 12"}
    with pytest.raises(PlanError):
        plan_of(FormData([("day", "tomorrow"), ("start", "09:30")]))


def test_the_reschedule_form_offers_the_sessions_own_plan_which_reads_back_unchanged() -> None:
    session = {"starts_at": "2199-07-01T08:30:00Z", "duration_minutes": 45, "format": "in_person",
               "details": {"location": "Floor 12", "video_link": None, "agenda": "Goals"}}
    form = form_of(session, date(2026, 12, 4))
    assert (form["day"], form["start"], form["time_zone"]) == ("2199-07-01", "10:30",
                                                               "Europe/Berlin")
    assert plan_of(FormData([(k, str(v)) for k, v in form.items()])) == {
        "starts_at": "2199-07-01T10:30:00+02:00", "duration_minutes": 45,
        "format": "in_person", "location": "Floor 12", "agenda": "Goals"}


def test_a_new_session_form_starts_today_with_an_hour_by_video() -> None:
    assert form_of(None, date(2026, 12, 4)) == {
        "day": "2026-12-04", "start": "", "time_zone": "Europe/Berlin",
        "duration_minutes": 60, "format": "video"}


def test_an_application_keeps_consent_explicit() -> None:
    form = FormData([("role", "mentee"), ("name", "Dana"), ("email", "d@example.com"),
                     ("department", "Risk"), ("career_level", "7"), ("languages", "de, en"),
                     ("time_zone", "Europe/Berlin"), ("topics_wanted", "genai; low-code"),
                     ("employee_id", "e-7")])
    body = application_of(form, on_behalf=True)
    assert body["consent"] is False
    assert (body["employee_id"], body["topics_wanted"]) == ("e-7", ["genai", "low-code"])
    assert "employee_id" not in application_of(form, on_behalf=False)
    assert (import_format("HR export.JSONL", ""), import_format("people.csv", "text/csv")) == (
        "jsonl", "csv")


def test_the_status_board_puts_a_half_accepted_pair_in_its_own_column() -> None:
    pair = {"status": "proposed", "mentor_accepted": False, "mentee_accepted": False}
    assert column_of(pair) == "proposed"
    assert column_of({**pair, "mentee_accepted": True}) == "accepted_by_one"
    assert column_of({**pair, "status": "confirmed"}) == "confirmed"


def test_sessions_are_counted_per_iso_week() -> None:
    starts = [datetime(2026, 12, 1, 9), datetime(2026, 12, 3, 9), datetime(2026, 12, 9, 9)]
    weeks = weekly(starts, weeks=4, today=date(2026, 12, 4))
    assert weeks == [("47", 0.0), ("48", 0.0), ("49", 2.0), ("50", 1.0)]


def test_a_pairs_factor_bar_is_as_long_as_its_score_and_names_every_factor() -> None:
    svg = str(charts.factor_bar([("Topic fit", 0.5), ("Format", 0.25), ("<b>", 0.0)], 1.0,
                                width=200))
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="0" width="([\d.]+)"', svg)]
    assert widths == [200.0, 100.0, 50.0]  # the frame, then each contribution
    assert "<title>0.75 / 1: Topic fit 0.5; Format 0.25; &lt;b&gt; 0</title>" in svg
    assert 'role="img"' in svg


def test_bars_and_columns_write_their_figures_in_the_title() -> None:
    svg = str(charts.bars([("held", 3), ("cancelled", 1)], title="Sessions"))
    assert "<title>Sessions: held 3; cancelled 1</title>" in svg
    assert "<title>Per week: 49 2</title>" in str(charts.columns([("49", 2)], title="Per week"))
    assert "Done: 1 / 4" in str(charts.progress(1, 4, title="Done"))


def test_every_message_has_a_german_translation_and_the_catalogues_are_compiled() -> None:
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    from console.pages import HERE

    def plain(value: object) -> object:
        return value if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]

    def translated(value: object) -> bool:
        return bool(value) and (isinstance(value, str) or all(value))  # type: ignore[arg-type]

    folder = HERE / "translations"
    with (folder / "messages.pot").open("rb") as f:
        wanted = {plain(m.id) for m in read_po(f) if m.id}
    for language in ("de", "en"):
        with (folder / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
            written = {plain(m.id): plain(m.string) for m in read_po(f) if m.id}
        with (folder / language / "LC_MESSAGES" / "messages.mo").open("rb") as f:
            compiled = {plain(m.id): plain(m.string) for m in read_mo(f) if m.id}
        untranslated = sorted(str(i) for i in wanted if not translated(written.get(i)))
        assert untranslated == [], f"{language}: {untranslated[:5]}"
        assert compiled == written, f"{language}: run pybabel compile -d console/translations"
