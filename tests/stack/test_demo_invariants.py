"""The demo's judgement: a world where everything went right passes; each kind of breakage is
named. Pure: the programme and the platform's answers are built here, no service runs."""

from __future__ import annotations

import copy
import random
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from services.stack.demo.invariants import violations
from services.stack.demo.observe import CohortView, Observed, Read
from services.stack.demo.people import Person, people_of
from services.stack.demo.programme import Answer, CohortPlay, Scenario, casting
from services.stack.demo.units import UNITS
from services.stack.mail_sink import StoredMail

POLICY = {"mode": "batch", "mentor_capacity": 1, "min_level_gap": 2,
          "cross_department": "preferred", "max_timezone_gap_hours": 6}


def person(pid: str, role: str, level: int, **overrides: Any) -> Person:
    fields: dict[str, Any] = {
        "employee_id": pid, "role": role, "name": f"Name {pid}", "email": f"{pid}@example.de",
        "department": "IT" if role == "mentor" else "Finance", "career_level": level,
        "languages": ("de",), "time_zone": "Europe/Berlin", "topics_offered": ("genai",),
        "topics_wanted": ("negotiation",), "preferred_format": "either", "goals": "",
        **overrides}
    return Person(**fields)


def pair(pid: str, mentor: str, mentee: str, status: str = "confirmed") -> dict[str, Any]:
    return {"pair_id": pid, "mentor_id": mentor, "mentee_id": mentee, "status": status,
            "score": 1.0, "shared_topics": [], "reverse_shared_topics": []}


def world() -> tuple[CohortPlay, Observed]:
    """Two pairs confirmed, one declined and rematched, sessions held, one mentor withdrawn."""
    people = [person("m-1", "mentor", 2), person("m-2", "mentor", 3), person("m-3", "mentor", 1),
              person("s-1", "mentee", 7), person("s-2", "mentee", 8)]
    play_ = CohortPlay(UNITS[1], {p.employee_id: p for p in people}, 2, POLICY, "coh-1")
    first = [pair("p-1", "m-1", "s-1"), pair("p-2", "m-2", "s-2", "declined")]
    second = [pair("p-3", "m-3", "s-2")]
    stats = {"mentors_in_pool": 3, "mentees_in_pool": 2}
    play_.rounds = [{"pairs": first, "statistics": stats}, {"pairs": second, "statistics": {}}]
    play_.answers = {"p-1": Answer(first[0], "accept", 1),
                     "p-2": Answer(first[1], "mentee_declines", 1),
                     "p-3": Answer(second[0], "accept", 2)}
    play_.sessions = {"p-1": ["sess-1"], "p-3": ["sess-3"]}
    play_.held = {"sess-1", "sess-3"}
    play_.notes = {"sess-1/s-1": "private-note-sess-1-s-1"}
    play_.withdrawn = play_.people["m-1"]
    enrolled = [{"participant_id": p} for p in ("m-2", "m-3", "s-1", "s-2")]
    view = CohortView(
        cohort={"counts": {"enrolled": {"mentor": 2, "mentee": 2, "total": 4},
                           "withdrawn": {"mentor": 1, "mentee": 0, "total": 1}}},
        participants=enrolled, withdrawn=[{"participant_id": None, "role": "mentor"}],
        pairs=[*first, *second], rounds=[],
        mentorships=[
            {"pair_id": "p-1", "mentor_id": "m-1", "mentee_id": "s-1", "status": "ended_early",
             "sessions_held": 1},
            {"pair_id": "p-3", "mentor_id": "m-3", "mentee_id": "s-2", "status": "active",
             "sessions_held": 1}],
        kpis={"sessions": {"held": 2},
              "average_rating": {"mentor_feedback": 2, "mentee_feedback": 2}},
        withdrawn_lookup=404,
        reads=[Read("sessions /sessions/sess-1", "admin", '{"details": null}'),
               Read("sessions /sessions/sess-1/feedback", "m-1", '{"note": null}'),
               Read("enrolment participants", "admin", str(enrolled)),
               Read("matching pairs", "admin", "m-1 s-1")])
    welcomes = [mail(f"<w-{p.employee_id}@revmentor>", "Willkommen", p.email) for p in people]
    seen = Observed({"coh-1": view}, {"enrolment": {"revmentor_dead_letters_total": 0.0}},
                    [mail("<d-1@revmentor>", "Welcome"), *welcomes], settled=True,
                    settle_seconds=0.1)
    return play_, seen


def mail(message_id: str, text: str, to: str = "a@example.de", language: str = "de"
         ) -> StoredMail:
    message = EmailMessage()
    message["Message-ID"] = message_id
    message.set_content(text)
    message["Content-Language"] = language  # last: set_content moves Content-* headers
    return StoredMail(Path("x.eml"), (to,), message_id, "", "", message)


def test_a_programme_that_went_right_passes() -> None:
    play_, seen = world()
    assert violations([play_], seen) == []


def judged(change: Any) -> list[str]:
    play_, seen = world()
    change(play_, seen, seen.cohorts["coh-1"])
    return violations([play_], seen)


def test_a_mentor_not_junior_enough_to_the_mentee_is_a_violation() -> None:
    def senior_mentor(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        play_.people["m-3"] = person("m-3", "mentor", 7)

    assert judged(senior_mentor) == [
        "bu-corporate-uk/coh-1: pair p-3: mentor level 7 not junior to mentee level 8 by 2"]


@pytest.mark.parametrize(("overrides", "rule"), [
    ({"languages": ("en",)}, "no common language"),
    ({"time_zone": "America/Los_Angeles"}, "time zones America/Los_Angeles and Europe/Berlin "
                                           "too far apart"),
    ({"manager_chain": ("s-2",)}, "in each other's reporting line"),
])
def test_each_hard_matching_rule_is_checked(overrides: dict[str, Any], rule: str) -> None:
    def breaking(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        m3 = play_.people["m-3"] = person("m-3", "mentor", 1, **overrides)
        seen.mail[:] = [mail(str(m.message_id), "Welcome", m3.email, m3.languages[0])
                        if m.envelope_to == (m3.email,) else m for m in seen.mail]

    assert judged(breaking) == [f"bu-corporate-uk/coh-1: pair p-3: {rule}"]


def test_a_declined_pair_proposed_again_is_a_violation() -> None:
    def again(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        play_.rounds[1]["pairs"][0].update(mentor_id="m-2")
        play_.people["m-2"] = person("m-2", "mentor", 3)

    assert "bu-corporate-uk/coh-1: declined pairs proposed again: ['p-3']" in judged(again)


def test_a_lost_confirmation_shows_as_a_missing_mentorship() -> None:
    def lost(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        view.mentorships = view.mentorships[:1]

    assert judged(lost) == ["bu-corporate-uk/coh-1: 1 mentorships for 2 confirmed pairs "
                            "(a PairConfirmed lost or applied twice)"]


def test_an_enrolment_applied_twice_by_matching_shows_in_its_pool() -> None:
    def twice(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        play_.rounds[0]["statistics"]["mentees_in_pool"] = 3

    assert judged(twice) == ["bu-corporate-uk/coh-1: the first round's pool held 6 people, 5 "
                             "enrolled (an enrolment event lost or applied twice)"]


def test_a_pair_whose_status_contradicts_both_answers_is_a_violation() -> None:
    def stuck(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        view.pairs[2] = {**view.pairs[2], "status": "proposed"}

    assert judged(stuck) == [
        "bu-corporate-uk/coh-1: pair p-3 is proposed, both answers make it confirmed"]


def test_a_private_note_read_by_anyone_but_its_author_is_a_violation() -> None:
    def leaked(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        view.reads[1] = Read("sessions /sessions/sess-1/feedback", "m-1",
                             '{"note": "private-note-sess-1-s-1"}')
        seen.mail.append(mail("<d-2@revmentor>", "he said: private-note-sess-1-s-1"))

    assert judged(leaked) == ["bu-corporate-uk/coh-1: a private note is visible in sessions "
                              "/sessions/sess-1/feedback (read by m-1), an e-mail"]


def test_the_author_may_read_their_own_note() -> None:
    def own(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        view.reads.append(Read("sessions /sessions/sess-1/feedback", "s-1",
                               '{"note": "private-note-sess-1-s-1"}'))

    assert judged(own) == []


def test_a_withdrawn_persons_address_or_record_still_served_is_a_violation() -> None:
    def kept(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        view.withdrawn_lookup = 200
        view.reads.append(Read("notifications deliveries", "admin", "m-1@example.de"))

    assert judged(kept) == [
        "bu-corporate-uk/coh-1: the withdrawn participant's record answers 200",
        "bu-corporate-uk/coh-1: the withdrawn participant's e-mail address is served by "
        "notifications deliveries"]


def test_dead_letters_duplicate_mail_and_an_unsettled_platform_are_violations() -> None:
    def broken(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        seen.metrics["matching"] = {"revmentor_dead_letters_total": 2.0}
        seen.mail.append(copy.copy(seen.mail[0]))
        seen.settled = False

    assert judged(broken) == [
        "the platform did not settle: an outbox or a consumer kept a backlog",
        "events dead-lettered: {'enrolment': 0.0, 'matching': 2.0}",
        "1 e-mails delivered more than once"]


def test_the_cast_is_the_same_for_a_seed_and_bilingual() -> None:
    first, again = casting(Scenario(participants=41, seed=3)), casting(Scenario(41, seed=3))
    assert [list(p.people) for p in first] == [list(p.people) for p in again]
    assert [len(p.people) for p in first] == [21, 20]
    german = people_of(UNITS[0], 60, random.Random(1))
    assert all(p.email.isascii() and p.email.endswith("@privatkunden.example.de") for p in german)
    assert len({p.email for p in german}) == 60
    assert {p.role for p in german} == {"mentor", "mentee"}
    assert all(p.career_level <= 4 for p in german if p.role == "mentor")
    assert all(p.career_level >= 5 for p in german if p.role == "mentee")


def test_a_participant_nobody_wrote_to_is_a_lost_enrolment() -> None:
    def no_welcome_for_s2(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        seen.mail[:] = [m for m in seen.mail if m.envelope_to != ("s-2@example.de",)]

    assert judged(no_welcome_for_s2) == [
        "bu-corporate-uk/coh-1: 1 participants received no e-mail, not even a welcome "
        "(an enrolment lost on its way to notifications)"]


def test_an_e_mail_in_a_language_not_the_persons_is_a_violation() -> None:
    def in_english(play_: CohortPlay, seen: Observed, view: CohortView) -> None:
        seen.mail.append(mail("<x@revmentor>", "Welcome", "s-1@example.de", "en"))

    assert judged(in_english) == [
        "bu-corporate-uk/coh-1: 1 participants were written to in a language not theirs"]
