"""Withdrawal from one cohort declines the person's open proposals there, and nowhere else.

A participant id is the person's directory id: the same in every cohort they join, and not
unique across business units. Leaving one cohort must not touch a pair of another cohort, least
of all one of another business unit.
"""

from __future__ import annotations

from typing import Any

import pytest

from contracts.catalogue import example_data
from contracts.enrolment import ParticipantWithdrawn
from contracts.matching import PairDeclined
from contracts.topics import MATCHING
from tests.harness import BU_INSURANCE, BU_RETAIL, decoded, eventually, of_cohort, read_topic
from tests.matching.conftest import MatchingHarness

pytestmark = pytest.mark.integration


async def proposed_pair_in(h: MatchingHarness, tenant: str, cohort_id: str) -> dict[str, Any]:
    """A cohort of ``tenant`` where mentee-x (and mentor-a) are proposed to each other."""
    await h.open_cohort(cohort_id, tenant)
    await h.enrol(h.person("mentor-a", "mentor", 2, cohort_id=cohort_id, tenant_id=tenant),
                  h.person("mentee-x", "mentee", 7, cohort_id=cohort_id, tenant_id=tenant))
    response = await h.http.post(f"/cohorts/{cohort_id}/rounds", json={},
                                 headers=h.admin(tenant))
    assert response.status_code == 201, response.text
    [pair] = response.json()["pairs"]
    return dict(pair)


async def withdraw(h: MatchingHarness, tenant: str, cohort_id: str, participant_id: str) -> None:
    await h.announce(ParticipantWithdrawn.model_validate({
        **example_data(ParticipantWithdrawn), "tenant_id": tenant, "cohort_id": cohort_id,
        "participant_id": participant_id, "role": "mentee"}))


async def status_of(h: MatchingHarness, tenant: str, pair_id: str) -> str:
    pair = await h.matching.store.pair(tenant, pair_id)
    assert pair is not None
    return pair.status.value


async def test_withdrawing_from_one_cohort_keeps_the_persons_proposals_in_every_other(
    harness: MatchingHarness,
):
    h = harness
    left, same_unit, other_unit = (f"{h.cohort_id}-{n}" for n in ("left", "same", "other"))
    pair_left = await proposed_pair_in(h, BU_RETAIL, left)
    pair_same = await proposed_pair_in(h, BU_RETAIL, same_unit)
    pair_other = await proposed_pair_in(h, BU_INSURANCE, other_unit)

    await withdraw(h, BU_RETAIL, left, "mentee-x")

    async def declined() -> bool:
        return await status_of(h, BU_RETAIL, pair_left["pair_id"]) == "declined"

    await eventually(declined, what="the withdrawal to decline the open proposal")
    # the withdrawal's transaction has committed: whatever it changed elsewhere is visible now
    assert await status_of(h, BU_RETAIL, pair_same["pair_id"]) == "proposed"
    assert await status_of(h, BU_INSURANCE, pair_other["pair_id"]) == "proposed"
    [event] = [e.event for e in decoded(await read_topic(
        h.bootstrap, MATCHING, count=3, keep=of_cohort(left))) if isinstance(e.event,
                                                                           PairDeclined)]
    assert (event.pair_id, event.by_participant_id, event.by_role.value, event.reason) == (
        pair_left["pair_id"], "mentee-x", "mentee", "participant_withdrew")
    for cohort_id in (same_unit, other_unit):
        events = decoded(await read_topic(h.bootstrap, MATCHING, count=2,
                                          keep=of_cohort(cohort_id)))
        assert not [e for e in events if isinstance(e.event, PairDeclined)]


async def test_withdrawal_from_a_rolling_cohort_rematches_the_partner_at_once(
    harness: MatchingHarness,
):
    h = harness
    await h.open_cohort(mode="rolling", mentor_capacity=1)
    await h.enrol(h.person("mentor-a", "mentor", 2), h.person("mentee-x", "mentee", 7))

    async def pairs(n: int) -> bool:
        return len(await h.matching.store.pairs_of(h.cohort_id)) == n

    await eventually(lambda: pairs(1), what="the rolling proposal")
    await h.enrol(h.person("mentee-y", "mentee", 8))
    await withdraw(h, BU_RETAIL, h.cohort_id, "mentee-x")
    await eventually(lambda: pairs(2), what="the rematch after the withdrawal")
    stored = await h.matching.store.pairs_of(h.cohort_id)
    assert {(p.mentor_id, p.mentee_id, p.status.value) for p in stored} == {
        ("mentor-a", "mentee-x", "declined"), ("mentor-a", "mentee-y", "proposed")}
