"""Matching takes the goals for its similarity factor from the profile topic and keeps nothing
personal of a withdrawn candidate: the tombstone erases the goals, the withdrawal every
attribute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.catalogue import example_data
from contracts.enrolment import CohortOpened, ParticipantWithdrawn
from contracts.profiles import ParticipantProfile, encode_profile
from services.runtime.inbox import INBOX
from tests.harness import eventually
from tests.matching.conftest import TENANT, MatchingHarness

pytestmark = pytest.mark.integration
SHARED_GOALS = "Learn prompt engineering workflows for customer service"


async def pool_entry(h: MatchingHarness, participant_id: str) -> dict[str, Any] | None:
    return await h.matching.store.pool.find_one({"_id": f"{h.cohort_id}/{participant_id}"})


async def goals_of(h: MatchingHarness, participant_id: str) -> str | None:
    entry = await pool_entry(h, participant_id)
    return entry.get("goals") if entry else None


async def applied(h: MatchingHarness, profile: ParticipantProfile) -> str:
    """Announce ``profile`` and await its inbox row: the matching service has applied it."""
    record = encode_profile(profile, source="/revmentor/enrolment")
    await h.producer.send_and_wait(record.topic, record.value, key=record.key)

    async def seen() -> bool:
        return await h.matching.service.db[INBOX].count_documents(
            {"event_id": record.event_id}) == 1

    await eventually(seen, what="the profile to be applied")
    return record.event_id


async def withdraw(h: MatchingHarness, participant_id: str, when: datetime) -> None:
    await h.announce(ParticipantWithdrawn.model_validate({
        **example_data(ParticipantWithdrawn), "tenant_id": TENANT, "cohort_id": h.cohort_id,
        "participant_id": participant_id, "role": "mentee", "withdrawn_at": when.isoformat()}))

    async def left() -> bool:
        entry = await pool_entry(h, participant_id)
        return entry is not None and entry.get("active") is False

    await eventually(left, what="the withdrawal to reach the pool")


async def test_goal_similarity_is_scored_from_the_profiles_goals(harness: MatchingHarness):
    h = harness
    await h.open_cohort()
    await h.announce_profiles(h.profile("mentor-a", SHARED_GOALS),
                              h.profile("mentee-x", SHARED_GOALS))
    await h.enrol(h.person("mentor-a", "mentor", 2), h.person("mentee-x", "mentee", 7))

    async def candidates_with_goals() -> bool:  # the profiles may arrive first
        entries = [await pool_entry(h, p) for p in ("mentor-a", "mentee-x")]
        return all(e and e.get("active") and e.get("goals") == SHARED_GOALS for e in entries)

    await eventually(candidates_with_goals, what="both candidates and their goals")
    response = await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={},
                                 headers=h.admin())
    assert response.status_code == 201, response.text
    [pair] = response.json()["pairs"]
    weight = example_data(CohortOpened)["matching_policy"]["weights"]["goal_similarity"]
    assert pair["explanation"]["goal_similarity"] == pytest.approx(weight)  # identical goals


async def test_the_tombstone_erases_the_goals_of_an_enrolled_candidate(harness: MatchingHarness):
    h = harness
    await h.open_cohort()
    await h.enrol(h.person("mentor-a", "mentor", 2))
    await applied(h, h.profile("mentor-a", SHARED_GOALS))
    assert await goals_of(h, "mentor-a") == SHARED_GOALS

    await h.erase_profile(h.cohort_id, "mentor-a")

    async def erased() -> bool:
        entry = await pool_entry(h, "mentor-a")
        return entry is not None and "goals" not in entry

    await eventually(erased, what="the tombstone to erase the goals")
    entry = await pool_entry(h, "mentor-a")
    assert entry is not None and entry["active"] is True  # still a candidate, without goals


async def test_withdrawal_leaves_only_the_id_the_role_and_when(harness: MatchingHarness):
    h = harness
    await h.open_cohort()
    await h.enrol(h.person("mentee-x", "mentee", 7, manager_chain=["boss-1"]))
    await applied(h, h.profile("mentee-x", SHARED_GOALS))
    when = datetime(2025, 10, 14, 7, 30, tzinfo=UTC)
    await withdraw(h, "mentee-x", when)
    assert await pool_entry(h, "mentee-x") == {
        "_id": f"{h.cohort_id}/mentee-x", "cohort_id": h.cohort_id, "role": "mentee",
        "active": False, "withdrawn_at": when}


async def test_a_late_profile_of_the_withdrawn_enrolment_is_dropped_a_new_enrolments_kept(
    harness: MatchingHarness,
):
    h = harness
    await h.open_cohort()
    withdrawn_at = datetime(2025, 10, 14, 7, 30, tzinfo=UTC)
    await h.enrol(h.person("mentee-x", "mentee", 7))
    await withdraw(h, "mentee-x", withdrawn_at)

    earlier = withdrawn_at - timedelta(days=30)
    await applied(h, h.profile("mentee-x", "Old goals", enrolled_at=earlier.isoformat()))
    assert await goals_of(h, "mentee-x") is None
    later = withdrawn_at + timedelta(days=1)  # the person enrolled again
    await applied(h, h.profile("mentee-x", "New goals", enrolled_at=later.isoformat()))
    assert await goals_of(h, "mentee-x") == "New goals"
