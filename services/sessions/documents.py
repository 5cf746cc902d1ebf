"""How mentorships and sessions are written as MongoDB documents, and read back.

Private notes are not part of either: they live in their own collection (see the store).
"""

from __future__ import annotations

from typing import Any

from contracts.sessions import CancellationReason, CancelledBy, SessionFormat
from services.sessions.domain import (
    Feedback,
    Mentorship,
    MentorshipStatus,
    Plan,
    Session,
    SessionStatus,
)


def mentorship_document(m: Mentorship) -> dict[str, Any]:
    return {
        "tenant_id": m.tenant_id, "cohort_id": m.cohort_id, "mentor_id": m.mentor_id,
        "mentee_id": m.mentee_id, "confirmed_at": m.confirmed_at,
        "session_target": m.session_target, "status": m.status.value,
        "sessions_planned": m.sessions_planned, "sessions_held": m.sessions_held,
        "ended_at": m.ended_at, "end_reason": m.end_reason, "ended_by": m.ended_by,
        "departments": m.departments, "cross_department": m.cross_department,
    }


def mentorship_of(doc: dict[str, Any]) -> Mentorship:
    return Mentorship(
        pair_id=doc["_id"], tenant_id=doc["tenant_id"], cohort_id=doc["cohort_id"],
        mentor_id=doc["mentor_id"], mentee_id=doc["mentee_id"],
        confirmed_at=doc["confirmed_at"], session_target=doc["session_target"],
        status=MentorshipStatus(doc["status"]), sessions_planned=doc["sessions_planned"],
        sessions_held=doc["sessions_held"], ended_at=doc["ended_at"],
        end_reason=doc["end_reason"], ended_by=doc["ended_by"],
        departments=dict(doc.get("departments") or {}),
    )


def feedback_document(f: Feedback | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {"rating": f.rating, "learned_something": f.learned_something,
            "topics": list(f.topics), "given_at": f.given_at}


def feedback_of(doc: dict[str, Any] | None) -> Feedback | None:
    if doc is None:
        return None
    return Feedback(doc["rating"], doc["learned_something"], tuple(doc["topics"]),
                    doc["given_at"])


def session_document(s: Session) -> dict[str, Any]:
    p = s.plan
    return {
        "tenant_id": s.tenant_id, "cohort_id": s.cohort_id, "pair_id": s.pair_id,
        "mentor_id": s.mentor_id, "mentee_id": s.mentee_id, "sequence": s.sequence,
        "revision": s.revision, "status": s.status.value, "starts_at": p.starts_at,
        "ends_at": p.ends_at, "duration_minutes": p.duration_minutes, "format": p.format.value,
        "location": p.location, "video_link": p.video_link, "agenda": p.agenda,
        "held_at": s.held_at, "cancelled_at": s.cancelled_at,
        "cancelled_by": s.cancelled_by.value if s.cancelled_by else None,
        "cancel_reason": s.cancel_reason.value if s.cancel_reason else None,
        "mentor_feedback": feedback_document(s.mentor_feedback),
        "mentee_feedback": feedback_document(s.mentee_feedback),
        "completion_sent": s.completion_sent,
    }


def session_of(doc: dict[str, Any]) -> Session:
    plan = Plan(doc["starts_at"], doc["duration_minutes"], SessionFormat(doc["format"]),
                doc["location"], doc["video_link"], doc["agenda"])
    return Session(
        session_id=doc["_id"], tenant_id=doc["tenant_id"], cohort_id=doc["cohort_id"],
        pair_id=doc["pair_id"], mentor_id=doc["mentor_id"], mentee_id=doc["mentee_id"],
        sequence=doc["sequence"], plan=plan, revision=doc["revision"],
        status=SessionStatus(doc["status"]), held_at=doc["held_at"],
        cancelled_at=doc["cancelled_at"],
        cancelled_by=CancelledBy(doc["cancelled_by"]) if doc["cancelled_by"] else None,
        cancel_reason=(CancellationReason(doc["cancel_reason"]) if doc["cancel_reason"]
                       else None),
        mentor_feedback=feedback_of(doc["mentor_feedback"]),
        mentee_feedback=feedback_of(doc["mentee_feedback"]),
        completion_sent=doc["completion_sent"],
    )
