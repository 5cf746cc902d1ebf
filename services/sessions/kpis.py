"""Programme KPIs, computed by the database: two aggregation pipelines, not a load into Python.

One pipeline groups the mentorships (counts by status, cross-department share, how many keep
pace with the session target), the other the sessions (counts by status, average rating per
side, the topics each side learned most). Both take the same ``$match`` — one cohort, or the
whole business unit — so cohort and business-unit figures mean exactly the same thing.
SecantusDB and MongoDB both run every stage used here (``$match``, ``$group``, ``$facet``,
``$unwind``, ``$sort``, ``$limit``; ``$cond``, ``$min``, ``$floor``, ``$subtract`` on dates).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from services.sessions.domain import MentorshipStatus, SessionStatus

TOP_TOPICS = 10


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


def _count(condition: dict[str, Any]) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _is(path: str, value: Any) -> dict[str, Any]:
    return {"$eq": [path, value]}


def mentorship_pipeline(match: dict[str, Any], now: datetime, cadence: timedelta
                        ) -> list[dict[str, Any]]:
    cadence_ms = cadence.total_seconds() * 1000
    due = {"$min": ["$session_target",
                    {"$floor": {"$divide": [{"$subtract": [now, "$confirmed_at"]}, cadence_ms]}}]}
    return [
        {"$match": match},
        {"$group": {
            "_id": None,
            "confirmed": {"$sum": 1},
            "active": _count(_is("$status", MentorshipStatus.ACTIVE.value)),
            "completed": _count(_is("$status", MentorshipStatus.COMPLETED.value)),
            "ended_early": _count(_is("$status", MentorshipStatus.ENDED_EARLY.value)),
            "on_track": _count({"$and": [_is("$status", MentorshipStatus.ACTIVE.value),
                                         {"$gte": ["$sessions_held", due]}]}),
            "cross": _count(_is("$cross_department", True)),
            "known": _count({"$in": ["$cross_department", [True, False]]}),
        }},
    ]


def _learned(side: str) -> list[dict[str, Any]]:
    topics = f"${side}_feedback.topics"
    return [
        {"$match": {f"{side}_feedback.learned_something": True}},
        {"$unwind": topics},
        {"$group": {"_id": topics, "sessions": {"$sum": 1}}},
        {"$sort": {"sessions": -1, "_id": 1}},
        {"$limit": TOP_TOPICS},
    ]


def session_pipeline(match: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"$match": match},
        {"$facet": {
            "counts": [{"$group": {
                "_id": None,
                "scheduled": {"$sum": 1},
                "upcoming": _count(_is("$status", SessionStatus.SCHEDULED.value)),
                "held": _count(_is("$status", SessionStatus.HELD.value)),
                "cancelled": _count(_is("$status", SessionStatus.CANCELLED.value)),
                "mentor": {"$avg": "$mentor_feedback.rating"},
                "mentee": {"$avg": "$mentee_feedback.rating"},
                "mentor_feedback": _count({"$gt": ["$mentor_feedback.rating", 0]}),
                "mentee_feedback": _count({"$gt": ["$mentee_feedback.rating", 0]}),
            }}],
            "by_mentees": _learned("mentee"),
            "by_mentors": _learned("mentor"),
        }},
    ]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def kpis_of(business_unit: str, cohort_id: str | None, now: datetime,
            mentorships: dict[str, Any] | None, sessions: dict[str, Any]) -> Kpis:
    """The figures from the two pipelines' single result documents."""
    m = mentorships or {}
    confirmed, active = m.get("confirmed", 0), m.get("active", 0)
    counts = (sessions.get("counts") or [{}])[0]
    return Kpis(
        business_unit=business_unit, cohort_id=cohort_id, as_of=now,
        mentorships=MentorshipFigures(
            confirmed=confirmed, active=active, completed=m.get("completed", 0),
            ended_early=m.get("ended_early", 0), on_track=m.get("on_track", 0),
            on_track_share=_share(m.get("on_track", 0), active),
            completion_rate=_share(m.get("completed", 0), confirmed),
            cross_department_share=_share(m.get("cross", 0), m.get("known", 0)),
        ),
        sessions=SessionFigures(scheduled=counts.get("scheduled", 0),
                                upcoming=counts.get("upcoming", 0), held=counts.get("held", 0),
                                cancelled=counts.get("cancelled", 0)),
        average_rating=RatingFigures(
            mentor=_mean(counts.get("mentor")), mentee=_mean(counts.get("mentee")),
            mentor_feedback=counts.get("mentor_feedback", 0),
            mentee_feedback=counts.get("mentee_feedback", 0)),
        learned_topics=LearnedTopics(
            by_mentees=[TopicCount(topic=t["_id"], sessions=t["sessions"])
                        for t in sessions.get("by_mentees", [])],
            by_mentors=[TopicCount(topic=t["_id"], sessions=t["sessions"])
                        for t in sessions.get("by_mentors", [])]),
    )
