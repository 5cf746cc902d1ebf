"""The enrolment service's MongoDB database ``enrolment``: cohorts and participants.

``cohorts``: one document per cohort (``_id`` = cohort id) with its enrolment counters (by role,
by department, withdrawn). Every transaction that changes who is in a cohort (enrolment, import
chunk, withdrawal, close) updates this document, the *fence*: two such transactions on one
cohort write the same document, so MongoDB aborts one with a write conflict and it is retried.
Hence no enrolment slips in after the cohort closed, ``CohortClosed`` counts exactly the
enrolments before it, and the counters are exact without a recount.

``participants``: one document per enrolment (``_id`` = ObjectId, the page order). Duplicate
detection is ONE sparse unique multikey index on ``duplicate_keys``, which holds
``<cohort>|p:<participant id>`` and ``<cohort>|m:<keyed e-mail hash>``: one person or one e-mail
address per cohort, and one ``$in`` query finds every duplicate of an import chunk. (Partial
indexes and ``$or`` would be the textbook shape, but the embedded SecantusDB never uses partial
indexes and answers ``$or`` with a collection scan.) Withdrawal erases the keys with the rest of
the personal data, which takes the record out of the index: the person may enrol again.

Every read is filtered by ``tenant_id``: a business unit never sees another's documents. Reads
return domain objects (:class:`~services.enrolment.domain.Cohort`,
:class:`~services.enrolment.domain.Participant`); documents stay inside this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, DuplicateKeyError

from contracts.enrolment import (
    Actor,
    CloseReason,
    CohortOpened,
    MatchingPolicy,
    PreferredFormat,
    Role,
)
from services.enrolment.counts import CohortCounts
from services.enrolment.domain import (
    ERASED_ON_WITHDRAWAL,
    Assessed,
    Cohort,
    CohortStatus,
    Participant,
    ParticipantStatus,
)
from services.runtime.mongo import Database

COHORTS, PARTICIPANTS = "cohorts", "participants"
DUPLICATE_KEY = 11000
Session = AsyncClientSession | None
Document = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next, ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None


def person_key(cohort_id: str, participant_id: str) -> str:
    return f"{cohort_id}|p:{participant_id}"


def email_key(cohort_id: str, email_hash: str) -> str:
    return f"{cohort_id}|m:{email_hash}"


def cohort_document(opened: CohortOpened, *, now: datetime, created_by: str) -> Document:
    """The stored record of a cohort that just opened: the event's data plus its state."""
    return {
        "_id": opened.cohort_id, "tenant_id": opened.tenant_id, "name": opened.name,
        "languages": list(opened.languages), "opens_at": opened.opens_at,
        "closes_at": opened.closes_at, "session_target": opened.session_target,
        "matching_policy": opened.matching_policy.model_dump(mode="json"),
        "status": CohortStatus.OPEN.value, "revision": 0, "created_at": now,
        "created_by": created_by, "closed_at": None, "close_reason": None,
    }


def as_cohort(doc: Document) -> Cohort:
    return Cohort(
        tenant_id=doc["tenant_id"], cohort_id=doc["_id"], name=doc["name"],
        languages=tuple(doc["languages"]), opens_at=doc["opens_at"], closes_at=doc["closes_at"],
        session_target=doc["session_target"],
        policy=MatchingPolicy.model_validate(doc["matching_policy"]),
        status=CohortStatus(doc["status"]), created_at=doc["created_at"],
        counts=CohortCounts.of(doc.get("counts")), closed_at=doc.get("closed_at"),
        close_reason=doc.get("close_reason"),
    )


def as_participant(doc: Document) -> Participant:
    """The domain record of a stored enrolment; erased fields come back as ``None``."""

    def listed(key: str) -> tuple[str, ...] | None:
        return tuple(doc[key]) if doc.get(key) is not None else None

    return Participant(
        cohort_id=doc["cohort_id"], status=ParticipantStatus(doc["status"]),
        role=Role(doc["role"]), department=doc["department"],
        career_level=doc["career_level"], enrolled_at=doc["enrolled_at"],
        enrolled_by=Actor(doc["enrolled_by"]), participant_id=doc.get("participant_id"),
        preferred_format=(PreferredFormat(doc["preferred_format"])
                          if doc.get("preferred_format") else None),
        name=doc.get("name"), email=doc.get("email"), manager_id=doc.get("manager_id"),
        manager_chain=listed("manager_chain"), topics_offered=listed("topics_offered"),
        topics_wanted=listed("topics_wanted"), languages=listed("languages"),
        time_zone=doc.get("time_zone"), utc_offset_hours=doc.get("utc_offset_hours"),
        goals=doc.get("goals"), locale=doc.get("locale"),
        consent_given_at=doc.get("consent_given_at"),
        withdrawn_at=doc.get("withdrawn_at"),
        withdrawn_by=Actor(doc["withdrawn_by"]) if doc.get("withdrawn_by") else None,
    )


def participant_document(
    assessed: Assessed, email_hash: str, now: datetime, import_id: str | None = None
) -> Document:
    """The stored record of an enrolment: the event's and the profile's data plus status and
    duplicate keys. The one place enrolment keeps contact details, erased on withdrawal."""
    event, profile = assessed.event, assessed.profile
    doc = event.model_dump(mode="python")
    doc.update(name=profile.name, email=profile.email, goals=profile.goals,
               locale=profile.locale)
    doc.update(
        _id=ObjectId(), status=ParticipantStatus.ENROLLED.value, enrolled_at=now,
        role=event.role.value, preferred_format=event.preferred_format.value,
        enrolled_by=event.enrolled_by.value,
        duplicate_keys=[person_key(event.cohort_id, event.participant_id),
                        email_key(event.cohort_id, email_hash)],
    )
    if import_id:
        doc["import_id"] = import_id
    return doc


class EnrolmentStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.cohorts = db[COHORTS]
        self.participants = db[PARTICIPANTS]

    async def ensure_indexes(self) -> None:
        p = self.participants
        await p.create_index("duplicate_keys", unique=True, sparse=True,
                             name="one_enrolment_per_person_and_email")
        await p.create_index([("cohort_id", ASCENDING), ("status", ASCENDING),
                              ("_id", ASCENDING)], name="cohort_pages")
        await p.create_index([("tenant_id", ASCENDING), ("participant_id", ASCENDING)],
                             name="own_enrolments")
        await self.cohorts.create_index([("tenant_id", ASCENDING), ("_id", DESCENDING)],
                                        name="tenant_cohorts")
        await self.cohorts.create_index([("status", ASCENDING), ("closes_at", ASCENDING)],
                                        name="due_for_closing")

    # cohorts

    async def insert_cohort(self, doc: Document, session: Session) -> None:
        await self.cohorts.insert_one(doc, session=session)

    async def cohort(self, tenant_id: str, cohort_id: str, session: Session = None
                     ) -> Cohort | None:
        doc = await self.cohorts.find_one({"_id": cohort_id, "tenant_id": tenant_id},
                                          session=session)
        return as_cohort(doc) if doc else None

    async def list_cohorts(self, tenant_id: str, *, status: CohortStatus | None, limit: int,
                           before: str | None) -> Page[Cohort]:
        """Newest first (cohort ids embed an ObjectId); ``before`` is the previous page's last."""
        query: Document = {"tenant_id": tenant_id}
        if status:
            query["status"] = status.value
        if before:
            query["_id"] = {"$lt": before}
        docs = await self.cohorts.find(query).sort("_id", DESCENDING).limit(limit + 1).to_list()
        more = len(docs) > limit
        return Page([as_cohort(d) for d in docs[:limit]],
                    docs[limit - 1]["_id"] if more else None)

    async def fence_open_cohort(self, cohort_id: str, now: datetime, update: Document,
                                session: Session) -> bool:
        """Apply ``update`` (counters) to the cohort if it accepts enrolments at ``now``."""
        result = await self.cohorts.update_one(
            {"_id": cohort_id, "status": CohortStatus.OPEN.value, "opens_at": {"$lte": now},
             "closes_at": {"$gt": now}},
            _with_revision(update), session=session,
        )
        return result.matched_count == 1

    async def fence_cohort(self, tenant_id: str, cohort_id: str, update: Document,
                           session: Session) -> bool:
        """Apply ``update`` to the cohort in any status (withdrawal)."""
        result = await self.cohorts.update_one({"_id": cohort_id, "tenant_id": tenant_id},
                                               _with_revision(update), session=session)
        return result.matched_count == 1

    async def close_cohort(self, tenant_id: str, cohort_id: str, now: datetime,
                           reason: CloseReason, session: Session) -> Cohort | None:
        """Mark an open cohort closed; ``None`` if it is not an open cohort of the tenant."""
        doc = await self.cohorts.find_one_and_update(
            {"_id": cohort_id, "tenant_id": tenant_id, "status": CohortStatus.OPEN.value},
            _with_revision({"$set": {"status": CohortStatus.CLOSED.value, "closed_at": now,
                                     "close_reason": reason.value}}),
            return_document=ReturnDocument.AFTER, session=session,
        )
        return as_cohort(doc) if doc else None

    async def due_cohorts(self, now: datetime, limit: int = 100) -> list[Cohort]:
        """Open cohorts whose window has ended, oldest end first."""
        cursor = self.cohorts.find(
            {"status": CohortStatus.OPEN.value, "closes_at": {"$lte": now}},
        ).sort("closes_at", ASCENDING).limit(limit)
        return [as_cohort(d) async for d in cursor]

    # participants

    async def insert_participants(self, docs: list[Document], session: Session) -> None:
        """One ``insert_many``; a clash with the duplicate index raises ``DuplicateKeyError``."""
        try:
            await self.participants.insert_many(docs, ordered=True, session=session)
        except BulkWriteError as exc:  # its message would carry the documents: drop it
            errors = exc.details.get("writeErrors", [])
            if errors and all(e.get("code") == DUPLICATE_KEY for e in errors):
                raise DuplicateKeyError("duplicate participant", DUPLICATE_KEY) from None
            raise

    async def enrolled_under(self, cohort_id: str, participant_ids: list[str],
                             email_hashes: list[str], session: Session = None
                             ) -> dict[str, str]:
        """Who of the cohort is enrolled under any of the ids or e-mail hashes, in ONE query:
        duplicate key → participant id."""
        keys = ([person_key(cohort_id, p) for p in participant_ids]
                + [email_key(cohort_id, h) for h in email_hashes])
        cursor = self.participants.find(
            {"duplicate_keys": {"$in": keys}}, {"participant_id": 1, "duplicate_keys": 1},
            session=session, batch_size=max(101, len(keys)),
        )
        return {key: doc["participant_id"] async for doc in cursor
                for key in doc["duplicate_keys"]}

    async def participant(self, tenant_id: str, cohort_id: str, participant_id: str
                          ) -> Participant | None:
        doc = await self.participants.find_one(
            {"duplicate_keys": person_key(cohort_id, participant_id), "tenant_id": tenant_id})
        return as_participant(doc) if doc else None

    async def list_participants(
        self, tenant_id: str, cohort_id: str, *, status: ParticipantStatus, role: Role | None,
        department: str | None, limit: int, after: ObjectId | None,
    ) -> Page[Participant]:
        """Oldest enrolment first; ``after`` is the previous page's cursor."""
        query: Document = {"cohort_id": cohort_id, "status": status.value}
        if after:
            query["_id"] = {"$gt": after}
        query["tenant_id"] = tenant_id
        if role:
            query["role"] = role.value
        if department:
            query["department"] = department
        cursor = self.participants.find(query).sort("_id", ASCENDING).limit(limit + 1)
        docs = await cursor.to_list()
        more = len(docs) > limit
        return Page([as_participant(d) for d in docs[:limit]],
                    str(docs[limit - 1]["_id"]) if more else None)

    async def own_enrolments(self, tenant_id: str, participant_id: str) -> list[Participant]:
        cursor = self.participants.find(
            {"tenant_id": tenant_id, "participant_id": participant_id}).sort("_id", ASCENDING)
        return [as_participant(d) async for d in cursor]

    async def withdraw(
        self, tenant_id: str, cohort_id: str, participant_id: str, *, now: datetime,
        actor: Actor, reason: str | None, session: Session,
    ) -> tuple[Role, str] | None:
        """Mark withdrawn and erase personal data; the record's role and department, or None."""
        before = await self.participants.find_one_and_update(
            {"duplicate_keys": person_key(cohort_id, participant_id), "tenant_id": tenant_id},
            {"$set": {"status": ParticipantStatus.WITHDRAWN.value, "withdrawn_at": now,
                      "withdrawn_by": actor.value, "withdrawal_reason": reason},
             "$unset": dict.fromkeys(ERASED_ON_WITHDRAWAL, "")},
            projection={"role": 1, "department": 1},
            return_document=ReturnDocument.BEFORE, session=session,
        )
        return (Role(before["role"]), before["department"]) if before else None


def _with_revision(update: Document) -> Document:
    inc = {**update.get("$inc", {}), "revision": 1}
    return {**update, "$inc": inc}
