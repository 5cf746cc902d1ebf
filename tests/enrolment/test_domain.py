"""The enrolment rules on their own: no database, no broker, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.enrolment import Actor, MatchingPolicy, ParticipantEnrolled, Role
from services.enrolment.applications import (
    Application,
    CohortSpec,
    is_participant_id,
)
from services.enrolment.counts import CohortCounts, enrolment_increments, withdrawal_increments
from services.enrolment.domain import (
    ERASED_ON_WITHDRAWAL,
    CohortStatus,
    CohortTerms,
    Window,
    assess,
    check_accepts_enrolment,
    check_level_fits,
    check_new_cohort,
    email_hash,
    level_range,
    window,
)
from services.runtime.errors import Conflict, Invalid

NOW = datetime(2025, 9, 3, 10, 0, tzinfo=UTC)
KEY = b"test-key"


def cohort(**overrides: Any) -> CohortTerms:
    values: dict[str, Any] = {
        "tenant_id": "bu-a", "cohort_id": "coh-1", "status": CohortStatus.OPEN,
        "opens_at": NOW - timedelta(days=1), "closes_at": NOW + timedelta(days=1),
        "languages": ("de", "en"), "policy": MatchingPolicy(min_level_gap=2),
    }
    values.update(overrides)
    return CohortTerms(**values)


def app(**overrides: Any) -> Application:
    values: dict[str, Any] = {
        "role": "mentor", "name": "Lea Schneider", "email": "Lea.Schneider@example.com",
        "department": "Digital", "career_level": 2, "languages": ["de"],
        "time_zone": "Europe/Berlin", "consent": True,
    }
    values.update(overrides)
    return Application.model_validate(values)


def enrolled(application: Application, terms: CohortTerms | None = None) -> ParticipantEnrolled:
    return assess(application, terms or cohort(), participant_id="e-1", actor=Actor.SELF,
                  now=NOW).event


def test_a_mentor_must_leave_room_for_a_mentee_gap_levels_above():
    assert level_range(Role.MENTOR, MatchingPolicy(min_level_gap=3)) == (1, 7)


def test_a_mentee_must_be_gap_levels_above_the_lowest_level():
    assert level_range(Role.MENTEE, MatchingPolicy(min_level_gap=3)) == (4, 10)


@pytest.mark.parametrize(("role", "level"), [(Role.MENTOR, 8), (Role.MENTEE, 3)])
def test_a_level_no_partner_can_ever_match_is_rejected_naming_the_allowed_levels(role, level):
    with pytest.raises(Invalid) as rejected:
        check_level_fits(role, level, MatchingPolicy(min_level_gap=3))
    assert rejected.value.code == "level-does-not-fit-policy"
    assert rejected.value.extra["allowed_levels"] == dict(zip(
        ("min", "max"), level_range(role, MatchingPolicy(min_level_gap=3)), strict=True))


def test_levels_at_the_edges_of_the_range_fit():
    policy = MatchingPolicy(min_level_gap=3)
    check_level_fits(Role.MENTOR, 7, policy)
    check_level_fits(Role.MENTEE, 4, policy)


def test_without_explicit_consent_nobody_is_enrolled():
    with pytest.raises(Invalid) as rejected:
        enrolled(app(consent=False))
    assert rejected.value.code == "consent-required"


def test_consent_given_in_the_future_is_rejected():
    with pytest.raises(Invalid, match="future"):
        enrolled(app(consent_given_at=(NOW + timedelta(hours=1)).isoformat()))


def test_consent_time_defaults_to_now_and_a_stated_one_is_kept():
    assert enrolled(app()).consent_given_at == NOW
    earlier = NOW - timedelta(days=3)
    assert enrolled(app(consent_given_at=earlier.isoformat())).consent_given_at == earlier


def test_a_participant_must_speak_one_of_the_cohort_languages():
    with pytest.raises(Invalid) as rejected:
        enrolled(app(languages=["fr"]))
    assert rejected.value.code == "no-common-language"


def test_the_utc_offset_comes_from_the_time_zone_at_enrolment_time():
    assert enrolled(app(time_zone="Europe/Berlin")).utc_offset_hours == 2
    assert enrolled(app(time_zone="Asia/Kolkata")).utc_offset_hours == 5.5


def test_an_unknown_time_zone_is_rejected():
    with pytest.raises(Invalid) as rejected:
        enrolled(app(time_zone="Mars/Olympus_Mons"))
    assert rejected.value.code == "unknown-time-zone"


def test_a_manager_id_alone_becomes_the_reporting_line():
    event = enrolled(app(manager_id="e-9"))
    assert (event.manager_id, event.manager_chain) == ("e-9", ["e-9"])


def test_the_direct_manager_is_taken_from_the_reporting_line():
    event = enrolled(app(manager_chain=["e-9", "e-5", "e-1000"]))
    assert (event.manager_id, event.manager_chain) == ("e-9", ["e-9", "e-5", "e-1000"])


@pytest.mark.parametrize("chain", [["e-5", "e-9"], ["e-9", "e-1"]])
def test_an_inconsistent_reporting_line_is_rejected(chain):
    with pytest.raises(Invalid) as rejected:
        enrolled(app(manager_id="e-9", manager_chain=chain))
    assert rejected.value.code == "invalid-manager-chain"


def test_topics_are_lower_cased_and_deduplicated_in_order():
    event = enrolled(app(topics_offered=["GenAI", "genai ", "Social-Media"]))
    assert event.topics_offered == ["genai", "social-media"]


def test_the_fact_carries_who_enrolled_and_the_cohort():
    event = assess(app(), cohort(), participant_id="e-7", actor=Actor.ADMIN, now=NOW).event
    assert (event.tenant_id, event.cohort_id, event.participant_id) == ("bu-a", "coh-1", "e-7")
    assert event.enrolled_by is Actor.ADMIN


def test_the_email_hash_ignores_case_and_spaces_and_depends_on_the_key():
    assert email_hash(" Lea@Example.com", KEY) == email_hash("lea@example.com", KEY)
    assert email_hash("lea@example.com", KEY) != email_hash("lea@example.com", b"other")
    assert "lea" not in email_hash("lea@example.com", KEY)


def test_participant_ids_are_directory_ids_not_email_addresses():
    assert is_participant_id("e-30817") and is_participant_id("EMP.0042")
    assert not is_participant_id("lea@example.com") and not is_participant_id("has space")


def test_the_enrolment_window():
    opens, closes = NOW, NOW + timedelta(days=1)
    assert window(CohortStatus.OPEN, opens, closes, NOW - timedelta(seconds=1)) is (
        Window.NOT_YET_OPEN)
    assert window(CohortStatus.OPEN, opens, closes, NOW) is Window.OPEN
    assert window(CohortStatus.OPEN, opens, closes, closes) is Window.CLOSED
    assert window(CohortStatus.CLOSED, opens, closes, NOW) is Window.CLOSED


@pytest.mark.parametrize(("terms", "code"), [
    (cohort(status=CohortStatus.CLOSED), "cohort-closed"),
    (cohort(closes_at=NOW), "cohort-closed"),
    (cohort(opens_at=NOW + timedelta(hours=1)), "enrolment-not-open"),
])
def test_enrolment_outside_the_window_conflicts(terms, code):
    with pytest.raises(Conflict) as conflict:
        check_accepts_enrolment(terms, NOW)
    assert conflict.value.code == code


def spec(**overrides: Any) -> CohortSpec:
    values: dict[str, Any] = {"name": "Autumn", "languages": ["de"],
                              "closes_at": (NOW + timedelta(days=30)).isoformat()}
    values.update(overrides)
    return CohortSpec.model_validate(values)


def test_a_new_cohort_opens_now_unless_told_otherwise():
    assert check_new_cohort(spec(), NOW)[0] == NOW


@pytest.mark.parametrize("overrides", [
    {"closes_at": (NOW - timedelta(minutes=1)).isoformat()},
    {"opens_at": (NOW + timedelta(days=31)).isoformat()},
])
def test_a_window_that_is_empty_or_over_is_rejected(overrides):
    with pytest.raises(Invalid) as rejected:
        check_new_cohort(spec(**overrides), NOW)
    assert rejected.value.code == "invalid-window"


def test_a_level_gap_wider_than_the_scale_is_rejected():
    with pytest.raises(Invalid) as rejected:
        check_new_cohort(spec(matching_policy={"min_level_gap": 10}), NOW)
    assert rejected.value.code == "infeasible-policy"


def apply(document: dict[str, Any], update: dict[str, Any]) -> None:
    """What MongoDB does with ``$inc`` and ``$set`` on dotted paths."""
    for op, fields in update.items():
        for path, value in fields.items():
            *parents, leaf = path.split(".")
            target = document
            for name in parents:
                target = target.setdefault(name, {})
            target[leaf] = target.get(leaf, 0) + value if op == "$inc" else value


def test_cohort_counters_split_by_role_and_department_and_count_withdrawals():
    stored: dict[str, Any] = {}
    apply(stored, enrolment_increments([("mentor", "IT"), ("mentor", "IT"), ("mentee", "IT"),
                                        ("mentee", "Sales"), ("mentor", "R&D.Labs $1")]))
    apply(stored, enrolment_increments([("mentee", "Sales")]))
    apply(stored, withdrawal_increments("mentor", "R&D.Labs $1"))
    counts = CohortCounts.of(stored["counts"])
    assert (counts.enrolled.mentor, counts.enrolled.mentee, counts.enrolled.total) == (2, 3, 5)
    assert (counts.withdrawn.mentor, counts.withdrawn.total) == (1, 1)
    assert {d: (t.mentor, t.mentee) for d, t in counts.by_department.items()} == {
        "IT": (2, 1), "Sales": (0, 2)}  # a department nobody is left in is not listed


def test_a_cohort_without_counters_counts_nobody():
    assert CohortCounts.of(None).enrolled.total == 0


def test_withdrawal_erases_every_personal_field_and_keeps_what_statistics_need():
    fields = set(ParticipantEnrolled.model_fields)
    kept = fields - set(ERASED_ON_WITHDRAWAL)
    assert kept == {"tenant_id", "cohort_id", "role", "department", "career_level",
                    "preferred_format", "consent_given_at", "enrolled_by"}
    personal = {name for name, f in ParticipantEnrolled.model_fields.items()
                if "PERSONAL DATA" in (f.description or "")}
    assert personal <= set(ERASED_ON_WITHDRAWAL)
    assert "duplicate_keys" in ERASED_ON_WITHDRAWAL  # the participant id and e-mail hash
