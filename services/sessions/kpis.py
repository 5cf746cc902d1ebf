"""Programme KPIs from counters the database maintains, not from a pass over every session.

Each mentorship and each session counts towards its cohort's figures: how many, in which state,
the ratings given, the topics learned (:func:`figures_of_mentorship`, :func:`figures_of_session`).
The store writes the change in those figures with every change of a document, in the same
transaction (``$inc`` on counter documents), so the counters always agree with the documents. A
KPI read then sums a few counter documents (``$group``) and counts the active mentorships that
keep pace with the target — the one figure that depends on today's date. :func:`recount`
computes the same figures from the documents themselves: the benchmark's baseline, and the
check that the counters are right.

Why counters: the embedded SecantusDB answers any pass over 50,000 sessions in seconds and an
aggregation pipeline over them more slowly than loading them into Python
(``benchmarks/sessions_kpis.py``), while counter documents are read by key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from services.sessions.domain import Mentorship, MentorshipStatus, Session, SessionStatus

TOP_TOPICS = 10
Figures = Counter[tuple[str, ...]]
"""``("mentorships", "active") → 1``, ``("ratings", "mentee_sum") → 9``,
``("learned", "mentee", "genai") → 2``…"""


class MentorshipFigures(BaseModel):
    confirmed: int = Field(description="Mentorships started (confirmed pairs).")
    active: int
    completed: int = Field(description="Reached the cohort's session target.")
    ended_early: int = Field(description="Ended by a withdrawal or an admin before the target.")
    on_track: int = Field(description="Active mentorships that keep pace with the target: at "
                          "least one held session per cadence since confirmation, up to it.")
    on_track_share: float | None = Field(description="on_track / active; none without any.")
    completion_rate: float | None = Field(description="completed / confirmed.")
    cross_department_share: float | None = Field(
        description="Share of mentorships whose members work in different departments, of "
        "those whose departments are known.")


class SessionFigures(BaseModel):
    scheduled: int = Field(description="Sessions ever scheduled (a reschedule counts once).")
    upcoming: int = Field(description="Scheduled and neither held nor cancelled yet.")
    held: int
    cancelled: int


class RatingFigures(BaseModel):
    mentor: float | None = Field(description="Mean rating (1-5) mentors gave; none yet: null.")
    mentee: float | None = Field(description="Mean rating (1-5) mentees gave.")
    mentor_feedback: int = Field(description="Feedback given by mentors.")
    mentee_feedback: int = Field(description="Feedback given by mentees.")


class TopicCount(BaseModel):
    topic: str
    sessions: int = Field(description="Held sessions where this side learned something on it.")


class LearnedTopics(BaseModel):
    by_mentees: list[TopicCount] = Field(
        description="What the seniors learned from their junior mentors, most frequent first.")
    by_mentors: list[TopicCount] = Field(description="What the mentors learned back.")


class Kpis(BaseModel):
    """The programme's evidence of success for one cohort or one whole business unit."""

    business_unit: str
    cohort_id: str | None = Field(description="The cohort; null for the whole business unit.")
    as_of: datetime
    mentorships: MentorshipFigures
    sessions: SessionFigures
    average_rating: RatingFigures
    learned_topics: LearnedTopics


_SESSION_STATE = {SessionStatus.SCHEDULED: "upcoming", SessionStatus.HELD: "held",
                  SessionStatus.CANCELLED: "cancelled"}


def figures_of_mentorship(m: Mentorship) -> Figures:
    figures: Figures = Counter({("mentorships", "confirmed"): 1,
                                ("mentorships", m.status.value): 1})
    if m.cross_department is not None:
        figures[("mentorships", "known")] += 1
        figures[("mentorships", "cross")] += int(m.cross_department)
    return figures


def figures_of_session(s: Session) -> Figures:
    figures: Figures = Counter({("sessions", "scheduled"): 1,
                                ("sessions", _SESSION_STATE[s.status]): 1})
    for side, feedback in (("mentor", s.mentor_feedback), ("mentee", s.mentee_feedback)):
        if feedback is None:
            continue
        figures[("ratings", f"{side}_sum")] += feedback.rating
        figures[("ratings", f"{side}_count")] += 1
        if feedback.learned_something:
            for topic in feedback.topics:
                figures[("learned", side, topic)] += 1
    return figures


def change(before: Figures, after: Figures) -> Figures:
    """``after - before``, keeping decrements (``Counter`` subtraction drops them)."""
    return Counter({k: after[k] - before[k] for k in before.keys() | after.keys()
                    if after[k] != before[k]})


def on_track_query(now: datetime, cadence: timedelta) -> dict[str, Any]:
    """Active mentorships whose held sessions keep pace: held >= min(target, whole cadences
    since confirmation). One ``$expr`` per document; on the embedded SecantusDB five times
    faster than an ``$or`` of one range per held count."""
    cadences = {"$floor": {"$divide": [{"$subtract": [now, "$confirmed_at"]},
                                       cadence.total_seconds() * 1000]}}
    return {"status": MentorshipStatus.ACTIVE.value,
            "$expr": {"$gte": ["$sessions_held", {"$min": ["$session_target", cadences]}]}}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 3) if count else None


def kpis_of(business_unit: str, cohort_id: str | None, now: datetime, counted: Figures,
            on_track: int, learned: dict[str, list[tuple[str, int]]]) -> Kpis:
    """The figures from summed counters, the on-track count and each side's top topics."""
    def n(*key: str) -> int:
        return counted[key]

    return Kpis(
        business_unit=business_unit, cohort_id=cohort_id, as_of=now,
        mentorships=MentorshipFigures(
            confirmed=n("mentorships", "confirmed"), active=n("mentorships", "active"),
            completed=n("mentorships", "completed"), ended_early=n("mentorships", "ended_early"),
            on_track=on_track, on_track_share=_share(on_track, n("mentorships", "active")),
            completion_rate=_share(n("mentorships", "completed"), n("mentorships", "confirmed")),
            cross_department_share=_share(n("mentorships", "cross"), n("mentorships", "known")),
        ),
        sessions=SessionFigures(scheduled=n("sessions", "scheduled"),
                                upcoming=n("sessions", "upcoming"), held=n("sessions", "held"),
                                cancelled=n("sessions", "cancelled")),
        average_rating=RatingFigures(
            mentor=_mean(n("ratings", "mentor_sum"), n("ratings", "mentor_count")),
            mentee=_mean(n("ratings", "mentee_sum"), n("ratings", "mentee_count")),
            mentor_feedback=n("ratings", "mentor_count"),
            mentee_feedback=n("ratings", "mentee_count")),
        learned_topics=LearnedTopics(
            by_mentees=[TopicCount(topic=t, sessions=c) for t, c in learned.get("mentee", [])],
            by_mentors=[TopicCount(topic=t, sessions=c) for t, c in learned.get("mentor", [])]),
    )


def top_topics(counted: Figures, side: str) -> list[tuple[str, int]]:
    ranked = [(key[2], n) for key, n in counted.items() if key[:2] == ("learned", side) and n]
    return sorted(ranked, key=lambda tn: (-tn[1], tn[0]))[:TOP_TOPICS]


def recount(business_unit: str, cohort_id: str | None, now: datetime, cadence: timedelta,
            mentorships: Iterable[Mentorship], sessions: Iterable[Session]) -> Kpis:
    """The same KPIs from the documents themselves: slow, for the baseline and for checks."""
    counted: Figures = Counter()
    on_track = 0
    for m in mentorships:
        counted += figures_of_mentorship(m)
        due = min(m.session_target, (now - m.confirmed_at) // cadence)
        on_track += m.status is MentorshipStatus.ACTIVE and m.sessions_held >= due
    for s in sessions:
        counted += figures_of_session(s)
    return kpis_of(business_unit, cohort_id, now, counted, on_track,
                   {side: top_topics(counted, side) for side in ("mentor", "mentee")})
