"""What must hold after the programme: nothing lost, nothing twice, no rule broken, nothing
served that should be gone. Each check returns the violations it found, worded for a person.

Judged from what the services answer (:mod:`services.stack.demo.observe`) against what the
demo did (:mod:`services.stack.demo.programme`) and the profiles it enrolled.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.stack.demo.observe import CohortView, Observed
from services.stack.demo.people import Person
from services.stack.demo.programme import CohortPlay

ACTIVE = ("proposed", "confirmed")


def violations(plays: list[CohortPlay], seen: Observed) -> list[str]:
    found: list[str] = []
    if not seen.settled:
        found.append("the platform did not settle: an outbox or a consumer kept a backlog")
    for play_ in plays:
        view = seen.cohorts[play_.cohort_id]
        for problem in (*enrolment(play_, view), *matching(play_, view), *sessions(play_, view),
                        *privacy(play_, view, seen), *written_to(play_, seen)):
            found.append(f"{play_.unit.business_unit}/{play_.cohort_id}: {problem}")
    dead = {name: m.get("revmentor_dead_letters_total", 0.0) for name, m in seen.metrics.items()}
    if any(dead.values()):
        found.append(f"events dead-lettered: {dead}")
    parked = {name: m.get("revmentor_outbox_parked_total", 0.0) for name, m in seen.metrics.items()}
    if any(parked.values()):
        found.append(f"outbox records parked: {parked}")
    if duplicates := duplicate_deliveries(seen):
        found.append(f"{duplicates} e-mails delivered more than once")
    return found


def written_to(play_: CohortPlay, seen: Observed) -> list[str]:
    """Everyone enrolled was written to (a welcome at least), and only in their own language.

    Judged only when the demo reads the mail sink (without it there is no mail to judge)."""
    if not seen.mail:
        return []
    people = {p.email: p for p in play_.people.values()}
    languages: dict[str, set[str]] = {}
    for message in seen.mail:
        for address in message.envelope_to:
            if address in people:
                languages.setdefault(address, set()).add(
                    message.header("Content-Language") or "")
    problems = []
    if silent := len(people) - len(languages):
        problems.append(f"{silent} participants received no e-mail, not even a welcome "
                        "(an enrolment lost on its way to notifications)")
    if foreign := sum(1 for a, seen_in in languages.items()
                      if seen_in != {people[a].languages[0]}):
        problems.append(f"{foreign} participants were written to in a language not theirs")
    return problems


def enrolment(play_: CohortPlay, view: CohortView) -> list[str]:
    gone = {play_.withdrawn.employee_id} if play_.withdrawn else set()
    expected = set(play_.people) - gone
    listed = [p["participant_id"] for p in view.participants]
    counts = view.cohort["counts"]
    problems = []
    if sorted(listed) != sorted(expected):
        problems.append(f"enrolment lists {len(listed)} participants, expected {len(expected)}")
    if counts["enrolled"]["total"] != len(expected) or counts["withdrawn"]["total"] != len(gone):
        problems.append(f"cohort counts {counts['enrolled']} / withdrawn {counts['withdrawn']}")
    return problems


def matching(play_: CohortPlay, view: CohortView) -> list[str]:
    problems: list[str] = []
    first = play_.rounds[0]["statistics"]
    pool = first["mentors_in_pool"] + first["mentees_in_pool"]
    if pool != len(play_.people):
        problems.append(f"the first round's pool held {pool} people, {len(play_.people)} enrolled"
                        " (an enrolment event lost or applied twice)")
    proposed = [pair for rnd in play_.rounds for pair in rnd["pairs"]]
    ids = Counter(p["pair_id"] for p in proposed)
    problems += [f"pair {pid} proposed {n} times" for pid, n in ids.items() if n > 1]
    problems += _rules(play_, proposed)
    declined = {(a.pair["mentor_id"], a.pair["mentee_id"]) for a in play_.answers.values()
                if a.decision != "accept"}
    again = [p["pair_id"] for p in play_.rounds[-1]["pairs"]
             if (p["mentor_id"], p["mentee_id"]) in declined]
    if again:
        problems.append(f"declined pairs proposed again: {again[:5]}")
    status = {p["pair_id"]: p["status"] for p in view.pairs}
    for pid, ans in sorted(play_.answers.items()):
        want = "confirmed" if ans.decision == "accept" else "declined"
        if status.get(pid) != want:
            problems.append(f"pair {pid} is {status.get(pid)}, both answers make it {want}")
    if set(status) != set(ids):
        problems.append(f"matching lists {len(status)} pairs, its rounds proposed {len(ids)}")
    active = [p for p in view.pairs if p["status"] in ACTIVE]
    for role, cap in (("mentee_id", 1), ("mentor_id", play_.policy["mentor_capacity"])):
        over = [who for who, n in Counter(p[role] for p in active).items() if n > cap]
        if over:
            problems.append(f"{role.split('_')[0]}s in more than {cap} active pairs: {over[:5]}")
    return problems


def _rules(play_: CohortPlay, pairs: list[dict[str, object]]) -> list[str]:
    """The hard rules of the cohort's policy, checked against the enrolled profiles."""
    policy, problems = play_.policy, []
    for pair in pairs:
        mentor, mentee = play_.people[str(pair["mentor_id"])], play_.people[str(pair["mentee_id"])]
        broken = []
        if mentor.role != "mentor" or mentee.role != "mentee":
            broken.append("roles swapped")
        if mentor.career_level > mentee.career_level - policy["min_level_gap"]:
            broken.append(f"mentor level {mentor.career_level} not junior to mentee level "
                          f"{mentee.career_level} by {policy['min_level_gap']}")
        if not set(mentor.languages) & set(mentee.languages):
            broken.append("no common language")
        if abs(_offset(mentor) - _offset(mentee)) > policy["max_timezone_gap_hours"]:
            broken.append(f"time zones {mentor.time_zone} and {mentee.time_zone} too far apart")
        if mentor.employee_id in mentee.manager_chain or mentee.employee_id in mentor.manager_chain:
            broken.append("in each other's reporting line")
        if broken:
            problems.append(f"pair {pair['pair_id']}: {', '.join(broken)}")
    return problems


def _offset(person: Person) -> float:
    delta = datetime.now(UTC).astimezone(ZoneInfo(person.time_zone)).utcoffset()
    return delta.total_seconds() / 3600 if delta is not None else 0.0


def sessions(play_: CohortPlay, view: CohortView) -> list[str]:
    if view.kpis is None:
        return []
    problems: list[str] = []
    mentorships = Counter(m["pair_id"] for m in view.mentorships)
    if sorted(mentorships) != sorted(play_.confirmed) or any(n > 1 for n in mentorships.values()):
        problems.append(f"{len(mentorships)} mentorships for {len(play_.confirmed)} confirmed "
                        "pairs (a PairConfirmed lost or applied twice)")
    withdrawn = play_.withdrawn.employee_id if play_.withdrawn else None
    for m in view.mentorships:
        if m["sessions_held"] < 1:
            problems.append(f"mentorship {m['pair_id']} has no held session")
        left = withdrawn in (m["mentor_id"], m["mentee_id"])
        want = ("ended_early" if left and play_.session_target > 1 else
                "completed" if play_.session_target == 1 else "active")
        if m["status"] != want:
            problems.append(f"mentorship {m['pair_id']} is {m['status']}, expected {want}")
    held, ratings = view.kpis["sessions"]["held"], view.kpis["average_rating"]
    if held != len(play_.held):
        problems.append(f"KPIs count {held} held sessions, {len(play_.held)} were held")
    if (ratings["mentor_feedback"], ratings["mentee_feedback"]) != (len(play_.held),) * 2:
        problems.append(f"feedback counted {ratings['mentor_feedback']}/"
                        f"{ratings['mentee_feedback']}, both sides rated {len(play_.held)}")
    return problems


def privacy(play_: CohortPlay, view: CohortView, seen: Observed) -> list[str]:
    """Private notes stay with their author; a withdrawn person is no longer served.

    Services other than enrolment may keep the withdrawn person's directory id in their pairs
    and mentorships (a pseudonymous reference); name and address must be gone everywhere.
    """
    problems: list[str] = []
    mail_text = [m.text() for m in seen.mail]
    for key, note in play_.notes.items():
        author = key.split("/")[1]
        where = [f"{r.where} (read by {r.reader})" for r in view.reads
                 if note in r.text and r.reader != author]
        where += ["an e-mail" for text in mail_text if note in text][:1]
        if where:
            problems.append(f"a private note is visible in {', '.join(where)}")
    person = play_.withdrawn
    if person is not None:
        if view.withdrawn_lookup != 404:
            problems.append(f"the withdrawn participant's record answers {view.withdrawn_lookup}")
        namesakes = [p for p in play_.people.values() if p.name == person.name]
        markers = {"e-mail address": person.email, "directory id": person.employee_id,
                   **({"name": person.name} if len(namesakes) == 1 else {})}
        for what, marker in markers.items():
            where = [r.where for r in view.reads if marker in r.text
                     and (what != "directory id" or r.where == "enrolment participants")]
            if where:
                problems.append(f"the withdrawn participant's {what} is served by "
                                f"{', '.join(where)}")
    return problems


def duplicate_deliveries(seen: Observed) -> int:
    """E-mails beyond the first with the same Message-ID: one notification delivered twice."""
    ids = Counter(m.message_id for m in seen.mail if m.message_id)
    return sum(n - 1 for n in ids.values() if n > 1)
