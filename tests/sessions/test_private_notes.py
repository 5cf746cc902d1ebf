"""A private note is seen by its author and nobody else: not the other member, not an admin, not
a consumer of any event, not whoever reads the service's log.

The service runs as its own process, logging at DEBUG into a file, so every line it writes,
its own, uvicorn's and the Kafka clients', is searched.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import Event, encode
from contracts.catalogue import example_data
from contracts.enrolment import CohortOpened
from contracts.matching import PairConfirmed
from contracts.topics import SESSIONS
from tests.harness import Tokens, eventually, of_cohort, read_topic, service_process

pytestmark = pytest.mark.integration

SECRET = "private-notes-secret-0123456789-0123456789"
TOKENS = Tokens(SECRET)
MENTOR, MENTEE = "e-1001", "e-2001"


async def announce(bootstrap: str, *events: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for event in events:
            record = encode(event, source=f"/revmentor/{event.producer}")
            await producer.send_and_wait(record.topic, record.value, key=record.key,
                                         headers=[(k, v.encode())
                                                  for k, v in record.headers.items()])
    finally:
        await producer.stop()


def facts(cohort_id: str, pair_id: str) -> list[Event]:
    now = datetime.now(UTC)
    return [
        CohortOpened.model_validate({
            **example_data(CohortOpened), "tenant_id": "bu-retail", "cohort_id": cohort_id,
            "opens_at": now.isoformat(), "closes_at": (now + timedelta(days=9)).isoformat()}),
        PairConfirmed.model_validate({
            **example_data(PairConfirmed), "tenant_id": "bu-retail", "cohort_id": cohort_id,
            "pair_id": pair_id, "mentor_id": MENTOR, "mentee_id": MENTEE,
            "confirmed_at": now.isoformat()}),
    ]


async def test_a_private_note_reaches_its_author_only(infra: Any, unique: str, tmp_path: Path):
    notes = {MENTOR: f"mentor-note-{uuid.uuid4().hex}", MENTEE: f"mentee-note-{uuid.uuid4().hex}"}
    cohort_id, pair_id = f"cohort-{unique}", f"pair-{unique}"
    seen: dict[str, list[str]] = {MENTOR: [], MENTEE: [], "admin": []}
    admin, both = TOKENS.admin(), {p: TOKENS.participant(p) for p in notes}
    log_path = tmp_path / "sessions.log"
    with log_path.open("wb") as log, service_process(
            infra, "sessions", output=log, jwt_secret=SECRET, log_level="DEBUG",
            mongodb_database=f"sessions_notes_{unique}") as url:
        await announce(infra.kafka_bootstrap_servers, *facts(cohort_id, pair_id))
        async with httpx.AsyncClient(base_url=url) as http:

            async def known() -> bool:
                answer = await http.get(f"/mentorships/{pair_id}", headers=admin)
                return answer.status_code == 200

            await eventually(known, within=60, what="the mentorship from the broker")
            starts = datetime.now(UTC) + timedelta(minutes=2)
            created = await http.post(f"/mentorships/{pair_id}/sessions", headers=both[MENTEE],
                                      json={"starts_at": starts.isoformat(), "format": "video",
                                            "duration_minutes": 45,
                                            "video_link": "https://meet.example.com/n"})
            assert created.status_code == 201, created.text
            session = f"/sessions/{created.json()['session_id']}"
            assert (await http.post(f"{session}/held", headers=both[MENTOR])).status_code == 200
            for author, note in notes.items():
                given = await http.post(f"{session}/feedback", headers=both[author], json={
                    "rating": 4, "learned_something": True, "topics": ["genai"], "note": note})
                assert given.status_code == 201, given.text
                assert given.json()["note"] == note
                again = await http.post(f"{session}/feedback", headers=both[author], json={
                    "rating": 1, "learned_something": False, "note": note})
                too_long = await http.post(f"{session}/feedback", headers=both[author], json={
                    "rating": 1, "learned_something": False, "note": note * 100})
                assert (again.status_code, too_long.status_code) == (409, 422)
                seen[author] += [again.text, too_long.text]
            reads = [session, f"{session}/feedback", f"/mentorships/{pair_id}",
                     f"/mentorships/{pair_id}/sessions", "/me/mentorships"]
            for reader, headers in both.items():
                for path in reads:
                    answer = await http.get(path, headers=headers)
                    assert answer.status_code == 200, (path, answer.text)
                    seen[reader].append(answer.text)
            for path in [session, f"{session}/feedback", f"/mentorships/{pair_id}",
                         f"/mentorships/{pair_id}/sessions", f"/cohorts/{cohort_id}/mentorships",
                         f"/cohorts/{cohort_id}/kpis", "/kpis"]:
                seen["admin"].append((await http.get(path, headers=admin)).text)
            records = await read_topic(infra.kafka_bootstrap_servers, SESSIONS, count=2,
                                       keep=of_cohort(cohort_id))
    assert [dict(r.headers)["ce_type"] for r in records] == [
        b"revmentor.sessions.SessionScheduled.v1", b"revmentor.sessions.SessionCompleted.v1"]
    log_text = log_path.read_text(errors="replace")
    assert "service_started" in log_text
    for author, note in notes.items():
        assert note in " ".join(seen[author]), "the author reads their own note"
        others = [text for reader, texts in seen.items() if reader != author for text in texts]
        assert not [text for text in others if note in text]
        assert not [r for r in records if note.encode() in r.value + repr(r.headers).encode()]
        assert note not in log_text
