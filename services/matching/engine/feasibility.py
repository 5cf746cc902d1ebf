"""Hard constraints: which (mentor, mentee) pairs may be proposed at all.

Two views of the same rules, kept side by side so they cannot drift apart:

* `feasible` is the authority: an exact, vectorised predicate over lists of pairs. Every pair
  the engine proposes passes it.
* `penalty_features` folds the rules that depend only on a small attribute of each side (level,
  language set, department) into a bilinear form: a one-hot column per distinct mentor
  attribute value, and on the mentee side the penalty that value costs this mentee. The
  candidate screen then gets infeasibility for free inside the one matrix product that also
  computes the score, instead of an elementwise pass over every mentee x mentor pair. The
  time-zone rule needs no columns: the screen only ever compares a mentee with the contiguous
  run of (offset-sorted) mentors inside the allowed gap (`time_zone_window`).

Pair-specific exceptions (reporting lines, a person on both sides, declined pairs) are few and
are kept as sorted pair keys.

Format is deliberately NOT a hard constraint: an in-person mentor and a video mentee can still
meet by video, so a format clash only lowers the score (see `scoring`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from contracts.policy import CrossDepartment, MatchingPolicy
from services.matching.engine.encoding import Candidate, Side

# Screen values: a feasible pair keeps its ranking value (a score on [0, 1] minus popularity
# discounts, so within a few units of 0); a declined but otherwise feasible pair is pushed to
# DECLINED; any broken hard rule costs at least one full PENALTY. The floors sit in between.
PENALTY = 1.0e4
DECLINED = -0.5 * PENALTY
FEASIBLE_FLOOR = -0.25 * PENALTY
INFEASIBLE_FLOOR = -0.75 * PENALTY


@dataclass(frozen=True)
class PairSet:
    """A set of (mentor row, mentee row) pairs as sorted int64 keys, for vectorised lookups."""

    keys: NDArray[np.int64]
    n_mentees: int

    @classmethod
    def build(cls, mentor: NDArray[np.intp], mentee: NDArray[np.intp], n_mentees: int) -> PairSet:
        keys = np.unique(mentor.astype(np.int64) * n_mentees + mentee.astype(np.int64))
        return cls(keys=keys, n_mentees=n_mentees)

    @property
    def mentor(self) -> NDArray[np.intp]:
        return (self.keys // max(self.n_mentees, 1)).astype(np.intp)

    @property
    def mentee(self) -> NDArray[np.intp]:
        return (self.keys % max(self.n_mentees, 1)).astype(np.intp)

    def __len__(self) -> int:
        return len(self.keys)

    def contains(self, mentor: NDArray[np.intp], mentee: NDArray[np.intp]) -> NDArray[np.bool_]:
        if len(self.keys) == 0:
            return np.zeros(len(mentor), dtype=bool)
        keys = mentor.astype(np.int64) * self.n_mentees + mentee.astype(np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found: NDArray[np.bool_] = self.keys[pos] == keys
        return found

    def restrict(
        self, mentor_rows: NDArray[np.intp], mentee_rows: NDArray[np.intp], n_mentors: int
    ) -> PairSet:
        """The pairs among a sub-cohort, renumbered to the sub-cohort's rows."""
        mentor_map = np.full(n_mentors, -1, np.intp)
        mentor_map[mentor_rows] = np.arange(len(mentor_rows))
        mentee_map = np.full(self.n_mentees, -1, np.intp)
        mentee_map[mentee_rows] = np.arange(len(mentee_rows))
        m, e = mentor_map[self.mentor], mentee_map[self.mentee]
        keep = (m >= 0) & (e >= 0)
        return PairSet.build(m[keep], e[keep], len(mentee_rows))


def excluded_pairs(
    mentors: Sequence[Candidate], mentees: Sequence[Candidate], policy: MatchingPolicy
) -> PairSet:
    """Pairs ruled out by who the people are: the same person, or one reports to the other."""
    mentor_row = {c.participant_id: i for i, c in enumerate(mentors)}
    mentee_row = {c.participant_id: i for i, c in enumerate(mentees)}
    pairs: list[tuple[int, int]] = [
        (m, mentee_row[pid]) for pid, m in mentor_row.items() if pid in mentee_row
    ]
    if policy.exclude_reporting_line:
        for e, mentee in enumerate(mentees):
            pairs.extend((mentor_row[b], e) for b in mentee.manager_chain if b in mentor_row)
        for m, mentor in enumerate(mentors):
            pairs.extend((m, mentee_row[b]) for b in mentor.manager_chain if b in mentee_row)
    return _pair_set(pairs, len(mentees))


def declined_pairs(
    declined: Iterable[tuple[str, str]],
    mentors: Sequence[Candidate],
    mentees: Sequence[Candidate],
) -> PairSet:
    """Declined (mentor id, mentee id) pairs among this cohort; ids of absent people are ignored."""
    mentor_row = {c.participant_id: i for i, c in enumerate(mentors)}
    mentee_row = {c.participant_id: i for i, c in enumerate(mentees)}
    pairs = [
        (mentor_row[m], mentee_row[e]) for m, e in declined if m in mentor_row and e in mentee_row
    ]
    return _pair_set(pairs, len(mentees))


def _pair_set(pairs: list[tuple[int, int]], n_mentees: int) -> PairSet:
    arr = np.asarray(pairs, dtype=np.intp).reshape(-1, 2)
    return PairSet.build(arr[:, 0], arr[:, 1], n_mentees)


def attribute_feasible(
    mentors: Side,
    mentees: Side,
    policy: MatchingPolicy,
    mentor: NDArray[np.intp],
    mentee: NDArray[np.intp],
) -> NDArray[np.bool_]:
    """The rules that depend on attributes only: seniority, language, time zone, department."""
    ok: NDArray[np.bool_] = mentors.level[mentor] <= mentees.level[mentee] - policy.min_level_gap
    ok &= np.any(mentors.languages[mentor] & mentees.languages[mentee], axis=1)
    gap = np.abs(mentors.utc_offset[mentor] - mentees.utc_offset[mentee])
    ok &= gap <= policy.max_timezone_gap_hours
    if policy.cross_department == CrossDepartment.REQUIRED:
        ok &= mentors.department[mentor] != mentees.department[mentee]
    return ok


def feasible(
    mentors: Side,
    mentees: Side,
    policy: MatchingPolicy,
    excluded: PairSet,
    declined: PairSet,
    mentor: NDArray[np.intp],
    mentee: NDArray[np.intp],
) -> NDArray[np.bool_]:
    """Exact check of every hard constraint for each listed pair (capacity is the solver's)."""
    ok = attribute_feasible(mentors, mentees, policy, mentor, mentee)
    ok &= ~excluded.contains(mentor, mentee)
    ok &= ~declined.contains(mentor, mentee)
    return ok


def time_zone_window(
    sorted_offsets: NDArray[np.float64], offset: float, policy: MatchingPolicy
) -> tuple[int, int]:
    """[lo, hi) of the people in `sorted_offsets` within the time-zone gap of `offset`.

    Uses the same float expression as `attribute_feasible`, so the window is exact.
    """
    gap = policy.max_timezone_gap_hours
    lo = int(np.searchsorted(sorted_offsets, offset - gap - 1e-6, side="left"))
    hi = int(np.searchsorted(sorted_offsets, offset + gap + 1e-6, side="right"))
    inside = np.flatnonzero(np.abs(sorted_offsets[lo:hi] - offset) <= gap)
    if len(inside) == 0:
        return lo, lo
    return lo + int(inside[0]), lo + int(inside[-1]) + 1


def penalty_features(
    mentors: Side, mentees: Side, policy: MatchingPolicy
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Columns whose product is 0 for an attribute-feasible pair and <= -PENALTY otherwise."""
    mentor_cols: list[NDArray[np.float32]] = []
    mentee_cols: list[NDArray[np.float32]] = []

    def add(mentor_code: NDArray[np.intp], violates: NDArray[np.bool_]) -> None:
        """mentor_code: the mentor's distinct-value index; violates[e, v]: value v breaks a rule."""
        onehot = np.zeros((len(mentor_code), violates.shape[1]), np.float32)
        onehot[np.arange(len(mentor_code)), mentor_code] = 1.0
        mentor_cols.append(onehot)
        mentee_cols.append(np.where(violates, np.float32(-PENALTY), np.float32(0.0)))

    levels, code = np.unique(mentors.level, return_inverse=True)
    add(code, levels[None, :] > (mentees.level - policy.min_level_gap)[:, None])
    langs, code = np.unique(mentors.languages, axis=0, return_inverse=True)
    shared = np.any(mentees.languages[:, None, :] & langs[None, :, :], axis=2)
    add(code.reshape(-1), ~shared)
    if policy.cross_department == CrossDepartment.REQUIRED:
        depts, code = np.unique(mentors.department, return_inverse=True)
        add(code, depts[None, :] == mentees.department[:, None])
    return np.hstack(mentor_cols), np.hstack(mentee_cols)
