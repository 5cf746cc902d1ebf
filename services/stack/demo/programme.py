"""The demo programme, step by step, through the platform's public HTTP APIs only.

Two business units each open a cohort; HR imports most volunteers and the rest enrol themselves;
the cohorts close and the matching service proposes pairs; most pairs say yes, some decline; a
second round rematches the people left; the mentorships schedule, hold and rate a session (when
the sessions service runs); one person withdraws. Waiting is polling the APIs for the state an
event must cause, bounded, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from services.stack.demo.client import Platform, PlatformError
from services.stack.demo.people import Person, people_of
from services.stack.demo.progress import Steps
from services.stack.demo.units import UNITS, Unit

T = TypeVar("T")
DECLINE_REASONS = ("no_common_ground", "schedule_conflict", "prefers_other_topic")
SELF_ENROLLED_SHARE = 0.1
WAIT_S = 90.0


@dataclass(frozen=True)
class Scenario:
    participants: int = 500
    seed: int = 7
    decline_share: float = 0.15
    note_share: float = 0.3


@dataclass
class Answer:
    """How the demo answered one proposal: ``accept`` or which side declined."""

    pair: dict[str, Any]
    decision: str
    round_no: int
    reason: str = DECLINE_REASONS[0]


@dataclass
class CohortPlay:
    """One unit's cohort and everything the demo did in it."""

    unit: Unit
    people: dict[str, Person]
    session_target: int
    policy: dict[str, Any]
    cohort_id: str = ""
    self_enrolled: set[str] = field(default_factory=set)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    sessions: dict[str, list[str]] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    notes: dict[str, str] = field(default_factory=dict)
    withdrawn: Person | None = None

    @property
    def confirmed(self) -> list[str]:
        """Pair ids of the accepted proposals, by their members (stable for a seed; ids vary)."""
        accepted = [(a.pair["mentor_id"], a.pair["mentee_id"], p)
                    for p, a in self.answers.items() if a.decision == "accept"]
        return [p for *_members, p in sorted(accepted)]


def casting(scenario: Scenario) -> list[CohortPlay]:
    """The two cohorts and their people, from the seed alone."""
    rng = random.Random(scenario.seed)
    first = (scenario.participants + 1) // 2
    sizes = (first, scenario.participants - first)
    policies = (
        ({"mode": "batch", "mentor_capacity": 1, "min_level_gap": 2,
          "cross_department": "preferred", "max_timezone_gap_hours": 3}, 1),
        ({"mode": "batch", "mentor_capacity": 1, "min_level_gap": 2,
          "cross_department": "preferred", "max_timezone_gap_hours": 6}, 2),
    )
    return [CohortPlay(unit, {p.employee_id: p for p in people_of(unit, size, rng)}, target,
                       policy)
            for unit, size, (policy, target) in zip(UNITS, sizes, policies, strict=True)]


async def play(platform: Platform, scenario: Scenario, steps: Steps) -> list[CohortPlay]:
    plays = casting(scenario)
    rng = random.Random(scenario.seed + 1)
    await open_cohorts(platform, plays, steps)
    await enrol(platform, plays, rng, steps)
    await close_and_match(platform, plays, steps)
    await answer(platform, plays, rng, scenario.decline_share, steps, round_no=1)
    await rematch(platform, plays, steps)
    await answer(platform, plays, rng, 0.0, steps, round_no=2)
    if platform.has("sessions"):
        await await_mentorships(platform, plays, steps)
        await hold_sessions(platform, plays, rng, scenario.note_share, steps)
    await withdraw_one(platform, plays, steps)
    return plays


async def open_cohorts(platform: Platform, plays: list[CohortPlay], steps: Steps) -> None:
    closes = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    names = {"de": "Reverse Mentoring 2025: KI im Arbeitsalltag",
             "en": "Reverse Mentoring 2025: Digital Leadership"}
    with steps.step("opening cohorts", len(plays)) as advance:
        for play_ in plays:
            languages = cohort_languages(play_)
            cohort = await platform.call("enrolment", "POST", "/cohorts",
                                         unit=play_.unit.business_unit, json={
                "name": names[play_.unit.locale], "languages": languages, "closes_at": closes,
                "session_target": play_.session_target, "matching_policy": play_.policy})
            play_.cohort_id = cohort["cohort_id"]
            advance()


def cohort_languages(play_: CohortPlay) -> list[str]:
    """What its people speak, the unit's own language first: the cohort writes in it to anyone
    who names no language of their own."""
    spoken = {lang for p in play_.people.values() for lang in p.languages}
    return [play_.unit.locale, *sorted(spoken - {play_.unit.locale})]


async def enrol(platform: Platform, plays: list[CohortPlay], rng: random.Random,
                steps: Steps) -> None:
    """HR imports nine in ten (one JSON Lines upload per cohort); the others enrol themselves."""
    total = sum(len(p.people) for p in plays)
    with steps.step("enrolling participants", total) as advance:
        for play_ in plays:
            people = list(play_.people.values())
            share = int(len(people) * SELF_ENROLLED_SHARE)
            own = {p.employee_id for p in rng.sample(people, share)}
            play_.self_enrolled = own
            rows = "".join(json.dumps(p.application()) + "\n" for p in people
                           if p.employee_id not in own)
            report = await platform.call(
                "enrolment", "POST", f"/cohorts/{play_.cohort_id}/imports",
                unit=play_.unit.business_unit, content=rows.encode(),
                headers={"Content-Type": "application/x-ndjson"})
            if report["summary"]["accepted"] != len(people) - len(own):
                raise PlatformError(f"import accepted {report['summary']}")
            advance(len(people) - len(own))

            async def self_enrol(person: Person, play_: CohortPlay = play_) -> None:
                body = {k: v for k, v in person.application().items() if k != "employee_id"}
                await platform.call("enrolment", "POST",
                                    f"/cohorts/{play_.cohort_id}/participants",
                                    unit=play_.unit.business_unit,
                                    participant=person.employee_id, json=body)
                advance()

            await gather(platform, (self_enrol(play_.people[pid]) for pid in sorted(own)))


async def close_and_match(platform: Platform, plays: list[CohortPlay], steps: Steps) -> None:
    """Closing a batch cohort runs its first round; we poll until it is published."""
    with steps.step("closing cohorts, matching", len(plays)) as advance:
        for play_ in plays:
            await platform.call("enrolment", "POST", f"/cohorts/{play_.cohort_id}/close",
                                unit=play_.unit.business_unit)
        for play_ in plays:
            first = await until(partial(published_rounds, platform, play_, 1),
                                f"the first matching round of {play_.cohort_id}")
            play_.rounds.append(await round_view(platform, play_, first[0]["round_id"]))
            advance()


async def published_rounds(platform: Platform, play_: CohortPlay, count: int
                           ) -> list[dict[str, Any]] | None:
    response = await platform.request("matching", "GET", f"/cohorts/{play_.cohort_id}/rounds",
                                      unit=play_.unit.business_unit)
    if response.status_code == 404:  # matching has not seen CohortOpened yet
        return None
    if response.status_code != 200:
        raise PlatformError(f"GET rounds answered {response.status_code}: {response.text}")
    rounds = [r for r in response.json() if r["published"]]
    return rounds if len(rounds) >= count else None


async def round_view(platform: Platform, play_: CohortPlay, round_id: str) -> dict[str, Any]:
    view: dict[str, Any] = await platform.call(
        "matching", "GET", f"/cohorts/{play_.cohort_id}/rounds/{round_id}",
        unit=play_.unit.business_unit)
    return view


async def answer(platform: Platform, plays: list[CohortPlay], rng: random.Random,
                 decline_share: float, steps: Steps, *, round_no: int) -> None:
    """Both members answer each proposal of the latest round; a share of them declines."""
    todo = decide(plays, rng, decline_share, round_no)
    with steps.step(f"answering proposals (round {round_no})", len(todo)) as advance:

        async def respond(play_: CohortPlay, ans: Answer) -> None:
            unit, pair_id = play_.unit.business_unit, ans.pair["pair_id"]
            mentor, mentee = ans.pair["mentor_id"], ans.pair["mentee_id"]
            yes, no = {"accept": ((mentee, mentor), None),
                       "mentee_declines": ((mentor,), mentee),
                       "mentor_declines": ((mentee,), mentor)}[ans.decision]
            for member in yes:
                await platform.call("matching", "POST", f"/pairs/{pair_id}/accept", unit=unit,
                                    participant=member)
            if no is not None:
                await platform.call("matching", "POST", f"/pairs/{pair_id}/decline", unit=unit,
                                    participant=no, json={"reason": ans.reason})
            play_.answers[pair_id] = ans
            advance()

        await gather(platform, (respond(p, a) for p, a in todo))


def decide(plays: list[CohortPlay], rng: random.Random, decline_share: float, round_no: int
           ) -> list[tuple[CohortPlay, Answer]]:
    """Each proposal's answer, drawn by the pair's members in their order: a seed gives the same
    answers whatever order the round lists its pairs in (pair ids differ between runs)."""
    todo: list[tuple[CohortPlay, Answer]] = []
    for play_ in plays:
        for pair in sorted(play_.rounds[-1]["pairs"],
                           key=lambda p: (p["mentor_id"], p["mentee_id"])):
            draw = rng.random()
            decision = ("mentee_declines" if draw < decline_share / 2 else
                        "mentor_declines" if draw < decline_share else "accept")
            todo.append((play_, Answer(pair, decision, round_no, rng.choice(DECLINE_REASONS))))
    return todo


async def rematch(platform: Platform, plays: list[CohortPlay], steps: Steps) -> None:
    """An admin runs a second round for the people the first left without a partner."""
    with steps.step("rematching", len(plays)) as advance:
        for play_ in plays:
            rnd = await platform.call("matching", "POST", f"/cohorts/{play_.cohort_id}/rounds",
                                      unit=play_.unit.business_unit, json={"draft": False})
            play_.rounds.append(rnd)
            advance()


async def await_mentorships(platform: Platform, plays: list[CohortPlay], steps: Steps) -> None:
    """Every confirmed pair becomes a mentorship in the sessions service (PairConfirmed)."""
    with steps.step("waiting for mentorships", sum(len(p.confirmed) for p in plays)) as advance:
        for play_ in plays:
            async def all_there(p: CohortPlay = play_) -> bool | None:
                found = await platform.mentorships(p.unit.business_unit, p.cohort_id)
                return {m["pair_id"] for m in found} >= set(p.confirmed) or None

            await until(all_there, f"the mentorships of {play_.cohort_id}")
            advance(len(play_.confirmed))


async def hold_sessions(platform: Platform, plays: list[CohortPlay], rng: random.Random,
                        note_share: float, steps: Steps) -> None:
    """Each mentorship meets once (it starts a minute from now, which counts as started) and
    both sides rate it; a cohort whose target is two sessions books its next one."""
    todo = [(p, pair_id, [feedback(rng, note_share) for _ in range(2)])
            for p in plays for pair_id in p.confirmed]
    with steps.step("sessions: scheduled, held, rated", len(todo)) as advance:

        async def meet(play_: CohortPlay, pair_id: str, given: list[dict[str, Any]]) -> None:
            unit, pair = play_.unit.business_unit, play_.answers[pair_id].pair
            mentor, mentee = play_.people[pair["mentor_id"]], play_.people[pair["mentee_id"]]
            starts = datetime.now(UTC) + timedelta(minutes=1)
            plan = meeting(mentor, mentee, pair_id, starts)
            session = await platform.call("sessions", "POST",
                                          f"/mentorships/{pair_id}/sessions", unit=unit,
                                          participant=mentee.employee_id, json=plan)
            sid = session["session_id"]
            play_.sessions.setdefault(pair_id, []).append(sid)
            await platform.call("sessions", "POST", f"/sessions/{sid}/held", unit=unit,
                                participant=mentor.employee_id)
            play_.held.add(sid)
            for who, topics, body in ((mentee, pair["shared_topics"], given[0]),
                                      (mentor, pair["reverse_shared_topics"], given[1])):
                note = None
                if body.pop("private"):
                    note = f"private-note-{sid}-{who.employee_id}"
                    play_.notes[f"{sid}/{who.employee_id}"] = note
                await platform.call("sessions", "POST", f"/sessions/{sid}/feedback", unit=unit,
                                    participant=who.employee_id,
                                    json={**body, "topics": list(topics)[:3], "note": note})
            if play_.session_target > 1:
                later = meeting(mentor, mentee, pair_id, starts + timedelta(days=14))
                nxt = await platform.call("sessions", "POST",
                                          f"/mentorships/{pair_id}/sessions", unit=unit,
                                          participant=mentor.employee_id, json=later)
                play_.sessions[pair_id].append(nxt["session_id"])
            advance()

        await gather(platform, (meet(p, pid, given) for p, pid, given in todo))


def feedback(rng: random.Random, note_share: float) -> dict[str, Any]:
    """One side's rating, drawn before any call runs, so a seed gives the same answers."""
    return {"rating": rng.choices((5, 4, 3, 2), (5, 4, 2, 1))[0],
            "learned_something": rng.random() < 0.9, "private": rng.random() < note_share}


def meeting(mentor: Person, mentee: Person, pair_id: str, starts: datetime) -> dict[str, Any]:
    in_person = {mentor.preferred_format, mentee.preferred_format} == {"in_person"}
    plan: dict[str, Any] = {"starts_at": starts.isoformat(), "duration_minutes": 60,
                            "format": "in_person" if in_person else "video",
                            "agenda": "Kennenlernen, Ziele, erste Schritte" if
                            mentor.languages[0] == "de" else "Getting to know each other"}
    if in_person:
        plan["location"] = "Raum 4.12" if mentor.languages[0] == "de" else "Floor 12, room B"
    else:
        plan["video_link"] = f"https://meet.example.com/rm-{pair_id}"
    return plan


async def withdraw_one(platform: Platform, plays: list[CohortPlay], steps: Steps) -> None:
    """The mentor of the last cohort's first mentorship moves role and leaves the programme."""
    play_ = plays[-1]
    if not play_.confirmed:
        return
    pair = play_.answers[play_.confirmed[0]].pair
    person = play_.people[pair["mentor_id"]]
    with steps.step("one participant withdraws", 1) as advance:
        await platform.call(
            "enrolment", "POST",
            f"/cohorts/{play_.cohort_id}/participants/{person.employee_id}/withdraw",
            unit=play_.unit.business_unit, participant=person.employee_id,
            json={"reason": "moved_role"})
        play_.withdrawn = person
        if platform.has("sessions"):
            async def ended() -> bool | None:
                view = await platform.call("sessions", "GET", f"/mentorships/{pair['pair_id']}",
                                           unit=play_.unit.business_unit)
                return view["status"] != "active" or None

            await until(ended, "the withdrawn mentor's mentorship to end")
        advance()


async def until(probe: Callable[[], Awaitable[T | None]], what: str, within: float = WAIT_S
                ) -> T:
    """Poll ``probe`` until it returns something; PlatformError after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise PlatformError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.1)


async def gather(platform: Platform, calls: Iterable[Awaitable[None]]) -> None:
    """Run the calls together (the client bounds how many are in flight); first error wins.

    With a concurrency of one they run one after the other in the given order, so the events
    of a cohort come in an order the end-to-end test can state exactly.
    """
    if platform.concurrency == 1:
        for call in calls:
            await call
    else:
        await asyncio.gather(*calls)
