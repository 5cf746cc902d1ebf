"""What the enrolment service tells the world: the exact events on the broker, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.enrolment import (
    CohortClosed,
    CohortOpened,
    ParticipantEnrolled,
    ParticipantWithdrawn,
)
from contracts.profiles import ParticipantProfile, decode_profile
from contracts.topics import ENROLMENT, PROFILES
from tests.enrolment.conftest import UNIT_A, Api
from tests.harness import COMMANDS, decoded, eventually, of_cohort, read_topic

pytestmark = pytest.mark.integration

CSV = ("employee_id,role,name,email,department,career_level,languages,time_zone,consent\n"
       "e-10,mentor,Ann A,ann@example.com,IT,1,de,Europe/Berlin,yes\n"
       "e-11,mentee,Ben B,ben@example.com,Sales,8,en,Europe/London,yes\n"
       "e-12,mentor,Cem C,cem@example.com,Finance,2,de,Europe/Berlin,yes\n")


async def test_enrol_import_withdraw_and_close_publish_exactly_these_events_keyed_by_cohort(
    api: Api, infra: Any
):
    cohort = await api.open_cohort(name="Autumn")
    cid = cohort["cohort_id"]
    assert (await api.enrol(cid, "e-1")).status_code == 201
    imported = await api.http.post(f"/cohorts/{cid}/imports", content=CSV,
                                   headers={**api.admin(), "content-type": "text/csv"})
    import_id = imported.json()["import_id"]
    await api.http.post(f"/cohorts/{cid}/participants/e-1/withdraw",
                        json={"reason": "no_time"}, headers=api.participant("e-1"))
    await api.http.post(f"/cohorts/{cid}/close", headers=api.admin())

    records = await read_topic(infra.kafka_bootstrap_servers, ENROLMENT, count=7,
                               keep=of_cohort(cid))
    assert {r.key for r in records} == {cid.encode()}
    envelopes = decoded(records)
    assert [type(e.event).__name__ for e in envelopes] == [
        "CohortOpened", "ParticipantEnrolled", "ParticipantEnrolled", "ParticipantEnrolled",
        "ParticipantEnrolled", "ParticipantWithdrawn", "CohortClosed"]
    assert [dict(r.headers)["ce_type"].decode() for r in records] == [e.type for e in envelopes]
    assert all(e.tenant_id == UNIT_A and e.cohort_id == cid for e in envelopes)

    opened, own, *rows, withdrawn, closed = (e.event for e in envelopes)
    assert isinstance(opened, CohortOpened)
    assert (opened.name, opened.languages, opened.matching_policy.min_level_gap) == (
        "Autumn", ["de", "en"], 2)
    assert opened.closes_at == datetime.fromisoformat(cohort["closes_at"])
    assert isinstance(own, ParticipantEnrolled)
    assert (own.participant_id, own.enrolled_by, own.email, own.name, own.goals) == (
        "e-1", "self", None, None, "")  # contact details travel on the profile topic only
    assert [(r.participant_id, r.role, r.enrolled_by) for r in rows] == [  # type: ignore[attr-defined]
        ("e-10", "mentor", "admin"), ("e-11", "mentee", "admin"), ("e-12", "mentor", "admin")]
    assert {e.correlation_id for e in envelopes[2:5]} == {import_id}
    assert rows[1].utc_offset_hours == 0  # type: ignore[attr-defined]
    assert isinstance(withdrawn, ParticipantWithdrawn)
    assert (withdrawn.participant_id, withdrawn.role, withdrawn.withdrawn_by,
            withdrawn.reason) == ("e-1", "mentor", "self", "no_time")
    assert isinstance(closed, CohortClosed)
    assert (closed.reason, closed.enrolled_mentors, closed.enrolled_mentees) == ("admin", 2, 1)

    assert len(await api.outbox_types()) == 7  # and the service announced nothing else

    profiles = await read_topic(infra.kafka_bootstrap_servers, PROFILES, count=5,
                                keep=lambda r: r.key.startswith(f"{cid}/".encode()))
    leas = [r for r in profiles if r.key == f"{cid}/e-1".encode()]
    assert [r.value is None for r in leas] == [False, True]  # the profile, then its tombstone
    lea = decode_profile(leas[0].key, leas[0].value).event
    assert isinstance(lea, ParticipantProfile)
    assert (lea.name, lea.email, lea.locale, lea.goals) == (
        "Lea Schneider", "lea.schneider@example.com", "de", "Show how we use AI assistants daily.")
    from_import = [decode_profile(r.key, r.value).event for r in profiles if r not in leas]
    assert sorted((p.participant_id, p.email, p.locale) for p in from_import) == [  # type: ignore[attr-defined]
        ("e-10", "ann@example.com", "de"), ("e-11", "ben@example.com", "de"),
        ("e-12", "cem@example.com", "de")]


async def test_the_end_of_the_window_publishes_cohort_closed_with_the_counts(
    api: Api, infra: Any
):
    ends = datetime.now(UTC) + timedelta(hours=1)
    cid = (await api.open_cohort(closes_at=ends.isoformat()))["cohort_id"]
    await api.enrol(cid, "e-1", role="mentee", career_level=9)
    await api.enrolment.closer.close_due_cohorts(ends + timedelta(seconds=1))
    records = await read_topic(infra.kafka_bootstrap_servers, ENROLMENT, count=3,
                               keep=of_cohort(cid))
    closed = decoded(records)[-1].event
    assert isinstance(closed, CohortClosed)
    assert (closed.reason, closed.enrolled_mentors, closed.enrolled_mentees) == (
        "window_ended", 0, 1)
    assert closed.closed_at == ends.replace(microsecond=ends.microsecond // 1000 * 1000)


async def test_enrolments_racing_a_close_on_two_replicas_are_counted_in_it_or_refused(
    start: Callable[..., AbstractAsyncContextManager[Api]], infra: Any
):
    async with start() as one, start() as two:
        cid = (await one.open_cohort())["cohort_id"]

        async def enrol(i: int) -> int:
            replica = (one, two)[i % 2]
            response = await replica.enrol(cid, f"e-{i}", email=f"p{i}@example.com")
            return response.status_code

        async def close() -> int:
            return (await two.http.post(f"/cohorts/{cid}/close", headers=two.admin())
                    ).status_code

        statuses = await asyncio.gather(*(enrol(i) for i in range(12)), close(),
                                        *(enrol(i) for i in range(12, 24)))
    enrolled = statuses.count(201)
    assert statuses[12] == 200
    assert enrolled + statuses.count(409) == 24

    records = await read_topic(infra.kafka_bootstrap_servers, ENROLMENT, count=enrolled + 2,
                               keep=of_cohort(cid))
    events = [e.event for e in decoded(records)]
    assert [type(e).__name__ for e in events] == (
        ["CohortOpened"] + ["ParticipantEnrolled"] * enrolled + ["CohortClosed"])
    closed = events[-1]
    assert isinstance(closed, CohortClosed) and closed.enrolled_mentors == enrolled


async def test_an_enrolment_colliding_with_another_replicas_transaction_is_retried(
    start: Callable[..., AbstractAsyncContextManager[Api]], unique: str
):
    async with start() as one, start() as two:
        cid = (await one.open_cohort())["cohort_id"]
        with COMMANDS.counting(f"enrolment_{unique}") as commands:
            async with one.enrolment.service.outbox.transaction() as uow:
                # replica one holds the cohort's fence in an open transaction...
                assert await one.enrolment.store.fence_open_cohort(
                    cid, datetime.now(UTC), {}, uow.session)
                enrolling = asyncio.create_task(two.enrol(cid, "e-1"))

                async def collided() -> bool:  # ...so replica two's fence write conflicts
                    return commands["update", "cohorts"] >= 3

                await eventually(collided, what="replica two to hit the held fence")
                assert not enrolling.done()
        response = await enrolling
        assert response.status_code == 201
        detail = (await two.http.get(f"/cohorts/{cid}", headers=two.admin())).json()
        assert detail["counts"]["enrolled"]["total"] == 1
