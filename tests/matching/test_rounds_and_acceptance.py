"""Enrol → round → proposals → accept/decline → confirmed or rematched, over the real broker."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import TopicPartition

from contracts import encode
from contracts.matching import (
    MatchingRoundCompleted,
    PairAccepted,
    PairConfirmed,
    PairDeclined,
    PairProposed,
)
from contracts.topics import MATCHING
from tests.harness import (
    committed_offset,
    decoded,
    eventually,
    of_cohort,
    read_topic,
)
from tests.matching.conftest import MatchingHarness

pytestmark = pytest.mark.integration


async def matching_events(h: MatchingHarness, count: int, within: float = 20) -> list[Any]:
    records = await read_topic(h.bootstrap, MATCHING, count=count, keep=of_cohort(h.cohort_id),
                               within=within)
    return [env.event for env in decoded(records)]


async def two_by_two(h: MatchingHarness, **policy: Any) -> None:
    await h.open_cohort(**policy)
    await h.enrol(h.person("mentor-a", "mentor", 2), h.person("mentor-b", "mentor", 3),
                  h.person("mentee-x", "mentee", 7), h.person("mentee-y", "mentee", 8))


async def test_published_round_proposes_pairs_with_explanations_and_statistics(
    harness: MatchingHarness,
):
    h = harness
    await two_by_two(h)
    response = await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={}, headers=h.admin())
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["pairs"]) == 2 and body["published"]
    events = await matching_events(h, 3)
    assert [type(e) for e in events] == [PairProposed, PairProposed, MatchingRoundCompleted]
    proposed = events[0]
    assert proposed.shared_topics == ["genai"] and proposed.reverse_shared_topics == [
        "negotiation"]
    assert abs(sum(f.contribution for f in proposed.explanation) - proposed.score) < 1e-6
    assert events[2].statistics.pairs_proposed == 2


async def test_both_sides_accepting_confirms_the_mentorship(harness: MatchingHarness):
    h = harness
    await two_by_two(h)
    body = (await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={},
                              headers=h.admin())).json()
    pair = body["pairs"][0]
    first = await h.http.post(f"/pairs/{pair['pair_id']}/accept",
                              headers=h.participant(pair["mentee_id"]))
    assert first.status_code == 200 and first.json()["status"] == "proposed"
    second = await h.http.post(f"/pairs/{pair['pair_id']}/accept",
                               headers=h.participant(pair["mentor_id"]))
    assert second.json()["status"] == "confirmed"
    events = await matching_events(h, 6)
    tail = events[3:]
    assert [type(e) for e in tail] == [PairAccepted, PairAccepted, PairConfirmed]
    assert [e.by_role.value for e in tail[:2]] == ["mentee", "mentor"]
    again = await h.http.post(f"/pairs/{pair['pair_id']}/decline",
                              headers=h.participant(pair["mentee_id"]))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_declined_pair_is_never_proposed_again_and_both_are_rematched_next_round(
    harness: MatchingHarness,
):
    h = harness
    await h.open_cohort()
    await h.enrol(h.person("mentor-a", "mentor", 2), h.person("mentee-x", "mentee", 7))
    first = (await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={},
                               headers=h.admin())).json()
    [pair] = first["pairs"]
    declined = await h.http.post(f"/pairs/{pair['pair_id']}/decline",
                                 json={"reason": "no_common_ground"},
                                 headers=h.participant("mentor-a"))
    assert declined.json()["status"] == "declined"
    await h.enrol(h.person("mentor-b", "mentor", 3))
    second = (await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={},
                                headers=h.admin())).json()
    assert [(p["mentor_id"], p["mentee_id"]) for p in second["pairs"]] == [
        ("mentor-b", "mentee-x")]
    unmatched = {u["participant_id"]: u["reason"] for u in second["unmatched"]}
    assert unmatched == {"mentor-a": "declined_all"}
    events = await matching_events(h, 5)
    assert isinstance(events[2], PairDeclined) and events[2].reason == "no_common_ground"


async def test_rolling_cohort_matches_on_arrival_and_rematches_at_once_after_a_decline(
    harness: MatchingHarness,
):
    h = harness
    await h.open_cohort(mode="rolling")
    await h.enrol(h.person("mentor-a", "mentor", 2), h.person("mentee-x", "mentee", 7))

    async def proposed_pairs(n: int) -> bool:
        return len(await h.matching.store.pairs_of(h.cohort_id)) >= n

    await eventually(lambda: proposed_pairs(1), what="a rolling proposal")
    [pair] = await h.matching.store.pairs_of(h.cohort_id)
    await h.enrol(h.person("mentor-b", "mentor", 3))
    await h.http.post(f"/pairs/{pair.pair_id}/decline", headers=h.participant("mentee-x"))
    pairs = await h.matching.store.pairs_of(h.cohort_id)
    assert {(p.mentor_id, p.mentee_id, p.status.value) for p in pairs} == {
        ("mentor-a", "mentee-x", "declined"), ("mentor-b", "mentee-x", "proposed")}


async def test_draft_round_announces_nothing_until_published_with_a_fixed_pair(
    harness: MatchingHarness,
):
    h = harness
    await two_by_two(h, mentor_capacity=1)
    draft = (await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={"draft": True},
                               headers=h.admin())).json()
    assert not draft["published"] and all(p["status"] == "draft" for p in draft["pairs"])
    assert await read_topic(h.bootstrap, MATCHING, count=1, keep=of_cohort(h.cohort_id),
                            within=1) == []
    round_url = f"/cohorts/{h.cohort_id}/rounds/{draft['round_id']}"
    fixed = await h.http.post(f"{round_url}/fixed-pairs",
                              json={"mentor_id": "mentor-a", "mentee_id": "mentee-y"},
                              headers=h.admin())
    assert fixed.status_code == 200, fixed.text
    pairs = {(p["mentor_id"], p["mentee_id"]): p["locked"] for p in fixed.json()["pairs"]}
    assert pairs == {("mentor-a", "mentee-y"): True, ("mentor-b", "mentee-x"): False}
    senior = await h.http.post(f"{round_url}/fixed-pairs",
                               json={"mentor_id": "mentee-x", "mentee_id": "mentor-a"},
                               headers=h.admin())
    assert senior.status_code == 422
    published = await h.http.post(f"{round_url}/publish", headers=h.admin())
    assert published.json()["published"]
    events = await matching_events(h, 3)
    assert {(e.mentor_id, e.mentee_id) for e in events[:2]} == set(pairs)
    assert (await h.http.post(f"{round_url}/publish", headers=h.admin())).status_code == 409


async def test_closing_a_batch_cohort_runs_and_publishes_a_round(harness: MatchingHarness):
    h = harness
    await two_by_two(h)
    await h.close_cohort()
    events = await matching_events(h, 3)
    assert isinstance(events[-1], MatchingRoundCompleted)
    assert events[-1].trigger.value == "cohort_closed"


async def test_withdrawal_cancels_open_proposals(harness: MatchingHarness):
    from contracts.catalogue import example_data
    from contracts.enrolment import ParticipantWithdrawn

    h = harness
    await h.open_cohort()
    await h.enrol(h.person("mentor-a", "mentor", 2), h.person("mentee-x", "mentee", 7))
    [pair] = (await h.http.post(f"/cohorts/{h.cohort_id}/rounds", json={},
                                headers=h.admin())).json()["pairs"]
    await h.announce(ParticipantWithdrawn.model_validate({
        **example_data(ParticipantWithdrawn), "tenant_id": "bu-retail",
        "cohort_id": h.cohort_id, "participant_id": "mentee-x", "role": "mentee"}))
    events = await matching_events(h, 3)
    assert isinstance(events[2], PairDeclined)
    assert (events[2].by_participant_id, events[2].reason) == ("mentee-x",
                                                               "participant_withdrew")
    stored = await h.matching.store.pair("bu-retail", pair["pair_id"])
    assert stored is not None and stored.status.value == "declined"


async def test_redelivered_events_change_nothing(harness: MatchingHarness, infra: Any):
    h = harness
    await h.open_cohort(mode="rolling")
    mentee = encode(h.person("mentee-x", "mentee", 7), source="/revmentor/enrolment")
    await h.enrol(h.person("mentor-a", "mentor", 2))
    await h.producer.send_and_wait(mentee.topic, mentee.value, key=mentee.key)

    async def paired() -> bool:
        return len(await h.matching.store.pairs_of(h.cohort_id)) == 1

    await eventually(paired, what="the rolling proposal")
    # the same record again, as after a relay crash between publishing and marking it sent
    again = await h.producer.send_and_wait(mentee.topic, mentee.value, key=mentee.key)
    group = h.matching.service.consumers[0].name
    partition = TopicPartition(again.topic, again.partition)

    async def consumed_again() -> bool:
        return await committed_offset(infra, group, partition) > again.offset

    await eventually(consumed_again, what="the redelivered enrolment to be consumed")
    pairs = await h.matching.store.pairs_of(h.cohort_id)
    assert [(p.mentor_id, p.mentee_id) for p in pairs] == [("mentor-a", "mentee-x")]
    events = await matching_events(h, 3, within=2)
    assert [type(e) for e in events] == [PairProposed, MatchingRoundCompleted]
