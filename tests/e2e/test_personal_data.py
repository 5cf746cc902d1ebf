"""Erasure that reaches Kafka too (issue 9), on the real broker with both services running.

Three people enrol (one of them in two cohorts, once through an import), one withdraws. Then
every ``revmentor.*`` topic is read from offset 0 with a plain consumer: names, e-mail addresses
and goals appear on the compacted profile topic only, and the withdrawn person's profile is
followed by its tombstone. And neither service's database keeps anything of hers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from contracts import decode
from contracts.enrolment import ParticipantEnrolled
from contracts.topics import ENROLMENT, PROFILES
from services.matching.app import Matching
from services.matching.app import build as build_matching
from services.runtime.mongo import Database
from services.runtime.outbox import OUTBOX, PENDING
from tests.enrolment.conftest import Api, running
from tests.harness import eventually, probe_settings, read_every_topic

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Person:
    participant_id: str
    name: str
    email: str
    goals: str

    @property
    def secrets(self) -> tuple[str, str, str]:
        return self.name, self.email, self.goals


def people(unique: str) -> tuple[Person, Person, Person]:
    def person(pid: str, first: str) -> Person:
        return Person(pid, f"{first} Privacy{unique}", f"{first.lower()}.{unique}@example.com",
                      f"{first} wants to learn prompt engineering {unique}")

    return person("e-ada", "Ada"), person("e-bo", "Bo"), person("e-cy", "Cy")


@dataclass
class Platform:
    enrolment: Api
    matching: Matching


@pytest.fixture
async def platform(infra: Any, unique: str) -> AsyncIterator[Platform]:
    matching = build_matching(probe_settings(infra, f"matching-privacy-{unique}",
                                             consumer_start_from="latest"))
    async with matching.app.router.lifespan_context(matching.app):
        await eventually(matching.service.consuming, what="matching to join its groups")
        async with running(infra, unique) as enrolment:
            yield Platform(enrolment, matching)


def csv_of(*rows: tuple[Person, str, int]) -> str:
    lines = ["employee_id,role,name,email,department,career_level,languages,time_zone,"
             "consent,goals"]
    lines += [f"{p.participant_id},{role},{p.name},{p.email},IT,{level},en,Europe/Berlin,yes,"
              f"\"{p.goals}\"" for p, role, level in rows]
    return "\n".join(lines) + "\n"


async def enrol_everyone(api: Api, ada: Person, bo: Person, cy: Person) -> tuple[str, str]:
    first = (await api.open_cohort())["cohort_id"]
    second = (await api.open_cohort())["cohort_id"]
    for person, role, level in ((ada, "mentee", 8), (bo, "mentor", 2)):
        response = await api.enrol(first, person.participant_id, role=role, career_level=level,
                                   name=person.name, email=person.email, goals=person.goals,
                                   manager_id=None)
        assert response.status_code == 201, response.text
    imported = await api.http.post(
        f"/cohorts/{second}/imports", content=csv_of((bo, "mentor", 2), (cy, "mentee", 8)),
        headers={**api.admin(), "content-type": "text/csv"})
    assert imported.json()["summary"]["accepted"] == 2, imported.text
    return first, second


def holds(record: ConsumerRecord[Any, Any], secret: str) -> bool:
    """Whether the record's key, value or headers contain ``secret``."""
    parts = [record.key or b"", record.value or b"", *(v or b"" for _, v in record.headers)]
    return any(secret.encode() in part for part in parts)


async def everything_in(db: Database) -> list[tuple[str, str]]:
    """``(collection, text)`` of every document of every collection, bytes decoded."""
    found = []
    for name in await db.list_collection_names():
        async for doc in db[name].find():
            found.append((name, _text(doc)))
    return found


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dict):
        return " ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    return str(value)


async def settled(p: Platform, ada: Person, cohort: str) -> bool:
    """The enrolment outbox has sent everything; matching has applied the withdrawal."""
    pending = await p.enrolment.enrolment.service.db[OUTBOX].count_documents(PENDING)
    entry = await p.matching.store.pool.find_one({"_id": f"{cohort}/{ada.participant_id}"})
    return bool(pending == 0 and entry is not None and entry.get("active") is False
                and "goals" not in entry)


async def test_names_emails_and_goals_are_on_the_profile_topic_only_and_erased_everywhere(
    platform: Platform, infra: Any, unique: str
):
    api, matching = platform.enrolment, platform.matching
    ada, bo, cy = people(unique)
    first, second = await enrol_everyone(api, ada, bo, cy)

    async def matching_has_adas_goals() -> bool:
        entry = await matching.store.pool.find_one({"_id": f"{first}/{ada.participant_id}"})
        return bool(entry and entry.get("goals") == ada.goals and entry.get("active"))

    await eventually(matching_has_adas_goals, what="matching to keep Ada's goals")
    response = await api.http.post(f"/cohorts/{first}/participants/{ada.participant_id}/withdraw",
                                   headers=api.participant(ada.participant_id))
    assert response.status_code == 200, response.text
    await eventually(lambda: settled(platform, ada, first), what="the withdrawal everywhere")

    # (a) every revmentor.* topic, from offset 0
    records = await read_every_topic(infra.kafka_bootstrap_servers)
    ours = [r for r in records if (r.key or b"").split(b"/")[0] in {first.encode(),
                                                                    second.encode()}]
    enrolled = [r for r in ours if r.topic == ENROLMENT
                and isinstance(decode(r.value).event, ParticipantEnrolled)]
    assert len(enrolled) == 4  # the events are there, without the people's details
    for person in (ada, bo, cy):
        for secret in person.secrets:
            carriers = [r for r in records if holds(r, secret)]
            assert {r.topic for r in carriers} == {PROFILES}, (person.participant_id, secret)
    adas = [r for r in records if r.topic == PROFILES
            and r.key == f"{first}/{ada.participant_id}".encode()]
    assert [all(holds(r, s) for s in ada.secrets) for r in adas] == [True, False]
    assert adas[1].value is None  # her profile, then its tombstone
    assert sorted(r.key.decode() for r in records if r.topic == PROFILES and holds(r, bo.email)
                  ) == sorted([f"{first}/e-bo", f"{second}/e-bo"])

    # (b) no collection of either database holds anything of hers, in any field
    for db in (api.enrolment.service.db, matching.service.db):
        documents = await everything_in(db)
        assert documents  # the search had something to search
        leaks = [(collection, secret) for collection, text in documents
                 for secret in ada.secrets if secret in text]
        assert leaks == [], db.name
    bos = [text for _, text in await everything_in(api.enrolment.service.db) if bo.email in text]
    assert len(bos) == 2  # Bo is still enrolled twice: his records keep his address
