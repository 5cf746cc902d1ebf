"""A whole programme on the whole platform: every service its own process, driven over HTTP only.

The demo's scenario at 40 participants, one call at a time so that each cohort's events come in
an order this test states exactly; an independent aiokafka subscriber reads them back. The
stack gets a fresh embedded broker and database: the exact sequences need topics without the
history the rest of the suite writes (poison records included).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from contracts import decode
from contracts.topics import ENROLMENT, MATCHING, SESSIONS
from services.stack import roster
from services.stack.demo.programme import CohortPlay, Scenario
from services.stack.demo.run import DemoRun, Target, run
from services.stack.local_stack import LocalStack, StackInfo
from tests.harness import read_topic

pytestmark = pytest.mark.integration
FAST = {"consumer_batch_timeout_ms": "20", "kafka_session_timeout_ms": "6000",
        "kafka_heartbeat_interval_ms": "1000"}
Step = tuple[str, ...]


@pytest.fixture(scope="module")
def stack() -> Iterator[StackInfo]:
    with LocalStack(fixed_ports=False, settings=FAST) as running:
        yield running.info


@pytest.fixture(scope="module")
async def programme(stack: StackInfo) -> DemoRun:
    return await run(Target.of_stack(stack), Scenario(participants=40, seed=11), quiet=True,
                     concurrency=1)


def installed(name: str) -> bool:
    return roster.entry(name).installed()


async def test_the_programme_keeps_every_invariant(programme: DemoRun) -> None:
    result = programme.summary
    assert result["violations"] == []
    assert result["participants"] == 40
    assert result["duplicate_deliveries"] == 0
    assert result["events_dead_lettered"] == 0
    assert result["pairs_declined"] > 0 and result["rematched"] > 0
    assert result["pairs_confirmed"] == result["pairs_proposed"] - result["pairs_declined"]
    if installed("sessions"):
        assert result["sessions_completed"] == result["pairs_confirmed"]
    if installed("notifications"):
        assert result["emails_sent"] > 0


async def test_each_cohort_publishes_exactly_the_events_of_what_happened(
    stack: StackInfo, programme: DemoRun,
) -> None:
    topics = {ENROLMENT: enrolment_steps, MATCHING: matching_steps}
    if installed("sessions"):
        topics[SESSIONS] = sessions_steps
    expected = {topic: {p.cohort_id: steps(p) for p in programme.plays}
                for topic, steps in topics.items()}
    published = await asyncio.gather(*(events_by_cohort(stack, topic, expected[topic])
                                       for topic in topics))
    for topic, found in zip(topics, published, strict=True):
        for play_ in programme.plays:
            assert found[play_.cohort_id] == expected[topic][play_.cohort_id], (
                f"{topic}, cohort of {play_.unit.business_unit}")


async def events_by_cohort(stack: StackInfo, topic: str, expected: dict[str, list[Step]]
                           ) -> dict[str, list[Step]]:
    """Every record of ``topic`` keyed by one of the cohorts, in partition order; one more
    than expected is waited for briefly, so an extra event shows."""
    keys = {cohort.encode() for cohort in expected}
    records = await read_topic(stack.kafka_bootstrap_servers, topic,
                               count=sum(map(len, expected.values())) + 1,
                               keep=lambda r: r.key in keys, within=3)
    found: dict[str, list[Step]] = defaultdict(list)
    for record in records:
        envelope = decode(record.value)
        found[envelope.cohort_id].append(step(envelope.event))
    return found


def step(event: Any) -> Step:
    """An event as (type, what it is about, who did it / how it ended)."""
    name = type(event).__name__
    about = {
        "ParticipantEnrolled": ("participant_id",), "ParticipantWithdrawn": ("participant_id",),
        "PairProposed": ("pair_id",), "PairAccepted": ("pair_id", "by_participant_id"),
        "PairDeclined": ("pair_id", "by_participant_id"), "PairConfirmed": ("pair_id",),
        "SessionScheduled": ("session_id",), "SessionCompleted": ("session_id",),
        "SessionCancelled": ("session_id", "reason"),
        "MentorshipCompleted": ("pair_id", "outcome"),
    }.get(name, ())
    return (name, *(str(getattr(event, field)) for field in about))


def enrolment_steps(play_: CohortPlay) -> list[Step]:
    imported = [pid for pid in play_.people if pid not in play_.self_enrolled]
    return [("CohortOpened",),
            *[("ParticipantEnrolled", pid) for pid in imported],
            *[("ParticipantEnrolled", pid) for pid in sorted(play_.self_enrolled)],
            ("CohortClosed",),
            *([("ParticipantWithdrawn", play_.withdrawn.employee_id)] if play_.withdrawn else [])]


def matching_steps(play_: CohortPlay) -> list[Step]:
    steps: list[Step] = []
    for number, rnd in enumerate(play_.rounds, start=1):
        steps += [("PairProposed", p["pair_id"]) for p in rnd["pairs"]]
        steps.append(("MatchingRoundCompleted",))
        for answer in (a for a in play_.answers.values() if a.round_no == number):
            pid, mentor, mentee = (answer.pair[k] for k in ("pair_id", "mentor_id", "mentee_id"))
            answered: dict[str, list[Step]] = {
                "accept": [("PairAccepted", pid, mentee), ("PairAccepted", pid, mentor),
                           ("PairConfirmed", pid)],
                "mentee_declines": [("PairAccepted", pid, mentor), ("PairDeclined", pid, mentee)],
                "mentor_declines": [("PairAccepted", pid, mentee), ("PairDeclined", pid, mentor)],
            }
            steps += answered[answer.decision]
    return steps


def sessions_steps(play_: CohortPlay) -> list[Step]:
    steps: list[Step] = []
    for pair_id in play_.confirmed:
        first, *later = play_.sessions[pair_id]
        steps.append(("SessionScheduled", first))
        if play_.session_target == 1:
            steps.append(("MentorshipCompleted", pair_id, "completed"))
        steps.append(("SessionCompleted", first))
        steps += [("SessionScheduled", sid) for sid in later]
    if play_.withdrawn is not None:
        pair_id = next(p for p in play_.confirmed
                       if play_.withdrawn.employee_id in (play_.answers[p].pair["mentor_id"],
                                                          play_.answers[p].pair["mentee_id"]))
        steps += [("SessionCancelled", sid, "participant_withdrawn")
                  for sid in play_.sessions[pair_id][1:]]
        steps.append(("MentorshipCompleted", pair_id, "ended_early"))
    return steps
