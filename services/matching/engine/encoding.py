"""Encoding: the cohort's participants as the columns of numbers every later stage works on.

Why a separate encoding step: every later stage (feasibility, scoring, candidate pruning, the
assignment solver) works on whole columns of numbers, never on Python objects. Topics and
languages become bitsets (one uint64 word per 64 vocabulary entries) so that overlaps are a
bitwise AND plus a popcount; goal texts become a sparse term-indicator matrix so that goal
similarity is a sparse or dense product. The encoding is done once per matching run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from contracts.enrolment import PreferredFormat

FORMATS: tuple[PreferredFormat, ...] = tuple(PreferredFormat)  # codes: index in this order


@dataclass(frozen=True, slots=True)
class Candidate:
    """One enrolled participant, in the role (mentor or mentee) they are matched in.

    `manager_chain` lists the ids of the person's reporting line upwards, direct manager first.
    `level` is the career level: higher means more senior.
    """

    participant_id: str
    department: str
    manager_chain: tuple[str, ...]
    level: int
    topics_offered: frozenset[str]
    topics_wanted: frozenset[str]
    languages: frozenset[str]
    utc_offset_hours: float
    format: PreferredFormat = PreferredFormat.EITHER
    goals: str = ""

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"{self.participant_id}: format must be one of {FORMATS}")
        # a stored 'video' becomes PreferredFormat.VIDEO: one type inside the engine
        object.__setattr__(self, "format", PreferredFormat(self.format))
        if not math.isfinite(self.utc_offset_hours):
            raise ValueError(f"{self.participant_id}: utc_offset_hours must be finite")


_TERM = re.compile(r"[^\W\d_]{2,}")  # two letters keep 'ai', 'hr', 'it'
_STOPWORDS = frozenset(
    "to of in on at an as be by is or we my me so up do go if no us am the and for with from "
    "that this into about more want wants would like have will how what our their them they "
    "you your are was can get learn learning better also "
    "zu im es er ob um und die der das mit für von ich ein eine auf den wie".split()
)


def goal_terms(text: str) -> frozenset[str]:
    """Content words of a goal text; cheap on purpose (no stemming, no model)."""
    return frozenset(_TERM.findall(text.lower())) - _STOPWORDS


def _bitsets(sets: Sequence[Collection[str]], index: Mapping[str, int], words: int) -> NDArray:
    cols = np.fromiter((index[item] for items in sets for item in items), np.uint64)
    rows = np.repeat(np.arange(len(sets)), np.fromiter(map(len, sets), np.intp, len(sets)))
    out = np.zeros((len(sets), max(words, 1)), dtype=np.uint64)
    np.bitwise_or.at(
        out,
        (rows, (cols // np.uint64(64)).astype(np.intp)),
        np.left_shift(np.uint64(1), cols % np.uint64(64)),
    )
    return out


def popcount(words: NDArray) -> NDArray[np.int64]:
    """Number of set bits per row of a (n, words) uint64 bitset array."""
    return np.bitwise_count(words).sum(axis=-1, dtype=np.int64)


@dataclass(frozen=True)
class Side:
    """One role's participants as column arrays, rows in input order."""

    ids: tuple[str, ...]
    department: NDArray[np.int32]
    level: NDArray[np.int64]
    utc_offset: NDArray[np.float64]
    languages: NDArray[np.uint64]
    offered: NDArray[np.uint64]
    wanted: NDArray[np.uint64]
    format: NDArray[np.int8]
    goals: sp.csr_matrix  # binary participant x goal-term indicator
    goal_terms: tuple[frozenset[str], ...]

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: NDArray[np.intp]) -> Side:
        return Side(
            ids=tuple(self.ids[r] for r in rows.tolist()),
            department=self.department[rows],
            level=self.level[rows],
            utc_offset=self.utc_offset[rows],
            languages=self.languages[rows],
            offered=self.offered[rows],
            wanted=self.wanted[rows],
            format=self.format[rows],
            goals=self.goals[rows],
            goal_terms=tuple(self.goal_terms[r] for r in rows.tolist()),
        )


@dataclass(frozen=True)
class Vocabulary:
    topics: tuple[str, ...]
    goal_terms: tuple[str, ...]


def encode_sides(
    mentors: Sequence[Candidate], mentees: Sequence[Candidate]
) -> tuple[Side, Side, Vocabulary]:
    """Encode both roles against one shared vocabulary, so bitsets are comparable."""
    people = [*mentors, *mentees]
    departments = {d: i for i, d in enumerate(sorted({p.department for p in people}))}
    languages = {x: i for i, x in enumerate(sorted({x for p in people for x in p.languages}))}
    topic_names = sorted({t for p in people for t in p.topics_offered | p.topics_wanted})
    topics = {t: i for i, t in enumerate(topic_names)}
    terms_of = [goal_terms(p.goals) for p in people]
    term_names = sorted({t for ts in terms_of for t in ts})
    terms = {t: i for i, t in enumerate(term_names)}
    lang_words = (len(languages) + 63) // 64
    topic_words = (len(topics) + 63) // 64

    def side(group: Sequence[Candidate], term_sets: Sequence[frozenset[str]]) -> Side:
        indptr = np.zeros(len(group) + 1, dtype=np.int64)
        np.cumsum([len(ts) for ts in term_sets], out=indptr[1:])
        indices = np.fromiter((terms[t] for ts in term_sets for t in ts), dtype=np.int64)
        goals = sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(len(group), max(len(terms), 1))
        )
        return Side(
            ids=tuple(p.participant_id for p in group),
            department=np.fromiter((departments[p.department] for p in group), np.int32),
            level=np.fromiter((p.level for p in group), np.int64),
            utc_offset=np.fromiter((p.utc_offset_hours for p in group), np.float64),
            languages=_bitsets([p.languages for p in group], languages, lang_words),
            offered=_bitsets([p.topics_offered for p in group], topics, topic_words),
            wanted=_bitsets([p.topics_wanted for p in group], topics, topic_words),
            format=np.fromiter((FORMATS.index(p.format) for p in group), np.int8),
            goals=goals,
            goal_terms=tuple(term_sets),
        )

    n = len(mentors)
    return (
        side(mentors, terms_of[:n]),
        side(mentees, terms_of[n:]),
        Vocabulary(topics=tuple(topic_names), goal_terms=tuple(term_names)),
    )
