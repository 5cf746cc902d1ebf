"""A cohort's enrolment counters: enrolled by role and department, withdrawn by role.

They live in the cohort document and change in the same transaction as the enrolment or
withdrawal that changes them (see :mod:`store`), so they are exact without a recount. Pure:
these functions only build the update and read the result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts.enrolment import Role


def department_key(department: str) -> str:
    """A field name for a department's counters (department names may hold ``.`` or ``$``)."""
    return hashlib.sha256(department.encode()).hexdigest()[:16]


def enrolment_increments(people: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The cohort counter update for ``(role, department)`` people enrolling."""
    inc: dict[str, int] = {}
    names: dict[str, str] = {}
    for role, department in people:
        key = department_key(department)
        for path in (f"counts.enrolled.{role}", f"counts.departments.{key}.{role}"):
            inc[path] = inc.get(path, 0) + 1
        names[f"counts.departments.{key}.name"] = department
    return {"$inc": inc, "$set": names}


def withdrawal_increments(role: str, department: str) -> dict[str, Any]:
    """The cohort counter update for one person withdrawing."""
    key = department_key(department)
    return {"$inc": {f"counts.enrolled.{role}": -1, f"counts.departments.{key}.{role}": -1,
                     f"counts.withdrawn.{role}": 1}}


@dataclass
class Tally:
    mentor: int = 0
    mentee: int = 0

    @property
    def total(self) -> int:
        return self.mentor + self.mentee

    @classmethod
    def of(cls, counts: dict[str, Any]) -> Tally:
        return cls(mentor=int(counts.get(Role.MENTOR, 0)), mentee=int(counts.get(Role.MENTEE, 0)))


@dataclass
class CohortCounts:
    """Enrolled and withdrawn people by role, and enrolled people by department."""

    enrolled: Tally = field(default_factory=Tally)
    withdrawn: Tally = field(default_factory=Tally)
    by_department: dict[str, Tally] = field(default_factory=dict)

    @classmethod
    def of(cls, counts: dict[str, Any] | None) -> CohortCounts:
        """From a cohort's counters (see :func:`enrolment_increments`)."""
        counts = counts or {}
        departments = {d["name"]: Tally.of(d) for d in counts.get("departments", {}).values()}
        return cls(enrolled=Tally.of(counts.get("enrolled", {})),
                   withdrawn=Tally.of(counts.get("withdrawn", {})),
                   by_department={n: t for n, t in departments.items() if t.total})
