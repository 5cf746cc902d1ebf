"""Shortlists: the best few partners of every person, picked from a block of screen values.

Blocks are laid out one mentor per row and one mentee per column (see `candidates`), which
decides how each side's shortlist is cut cheaply:

* mentees (columns): `top_k_per_column` avoids partitioning the whole column. Rows are cut into
  chunks of CHUNK; the k chunks with the largest maxima are kept and only their k*CHUNK values
  are partitioned. The k best values of a column always lie in the k chunks with the largest
  maxima. The chunk maxima are reductions over contiguous rows, which numpy vectorises well.
* mentors (rows): `MentorPicks` takes each mentor's best mentee in every run of MENTOR_CHUNK
  mentees, an argmax over contiguous memory, and ranks the proposals once at the end, instead
  of a second, transposed screen.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from services.matching.engine.feasibility import FEASIBLE_FLOOR

CHUNK = 64
MENTOR_CHUNK = 256


def top_k_per_column(
    values: NDArray[np.float32], k: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(row, column) of the k largest values of every column (ties broken arbitrarily).

    Blocks are laid out one candidate per row and one person per column, so the chunk maxima
    below are reductions over contiguous rows, which numpy vectorises well.
    """
    w, b = values.shape
    if w <= k:
        rows, cols = np.indices((w, b))
        return rows.ravel(), cols.ravel()
    if w <= k * CHUNK:
        rows = np.argpartition(np.ascontiguousarray(values.T), w - k, axis=1)[:, w - k :]
        return rows.ravel(), np.repeat(np.arange(b), k)
    n_full = w // CHUNK
    chunk_max = values[: n_full * CHUNK].reshape(n_full, CHUNK, b).max(axis=1)
    if n_full * CHUNK < w:
        chunk_max = np.vstack([chunk_max, values[n_full * CHUNK :].max(axis=0, keepdims=True)])
    n_chunks = chunk_max.shape[0]
    best = np.argpartition(chunk_max.T, n_chunks - k, axis=1)[:, n_chunks - k :]
    rows = (best[:, :, None] * CHUNK + np.arange(CHUNK)).reshape(b, k * CHUNK)
    outside = rows >= w
    rows = np.minimum(rows, w - 1)
    gathered = values[rows, np.arange(b)[:, None]]
    gathered[outside] = -np.inf
    pick = np.argpartition(gathered, k * CHUNK - k, axis=1)[:, k * CHUNK - k :]
    return np.take_along_axis(rows, pick, axis=1).ravel(), np.repeat(np.arange(b), k)


class MentorPicks:
    """Each mentor's best mentees, proposed block by block and ranked once at the end.

    Proposals are kept as flat arrays (cells / MENTOR_CHUNK entries); only the mentors that
    end up short of candidates are ranked.
    """

    def __init__(self) -> None:
        self.mentor: list[NDArray[np.int32]] = []
        self.mentee: list[NDArray[np.int32]] = []
        self.value: list[NDArray[np.float32]] = []

    def propose(self, values: NDArray[np.float32], lo: int, mentee_rows: NDArray[np.intp]) -> None:
        w, b = values.shape
        n_full = b // MENTOR_CHUNK
        cols = []
        if n_full:
            head = values if n_full * MENTOR_CHUNK == b else values[:, : n_full * MENTOR_CHUNK]
            best = head.reshape(w, n_full, MENTOR_CHUNK).argmax(axis=2)
            cols.append(best + np.arange(n_full) * MENTOR_CHUNK)
        if n_full * MENTOR_CHUNK < b:
            tail = values[:, n_full * MENTOR_CHUNK :].argmax(axis=1) + n_full * MENTOR_CHUNK
            cols.append(tail[:, None])
        col = np.hstack(cols)
        self.value.append(np.take_along_axis(values, col, axis=1).ravel())
        self.mentee.append(mentee_rows[col].ravel().astype(np.int32))
        self.mentor.append(np.repeat(np.arange(lo, lo + w, dtype=np.int32), col.shape[1]))

    def best(self, n_mentors: int) -> NDArray[np.float32]:
        """Each mentor's best screen value over all its proposals (-inf if none)."""
        out = np.full(n_mentors, -np.inf, np.float32)
        if self.value:
            np.maximum.at(out, np.concatenate(self.mentor), np.concatenate(self.value))
        return out

    def top(self, wanted: NDArray[np.bool_], k: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(mentor, mentee) of the k best feasible proposals of each wanted mentor."""
        if not self.value:
            return np.zeros(0, np.intp), np.zeros(0, np.intp)
        mentor, value = np.concatenate(self.mentor), np.concatenate(self.value)
        keep = wanted[mentor] & (value >= FEASIBLE_FLOOR)
        mentor, value, mentee = mentor[keep], value[keep], np.concatenate(self.mentee)[keep]
        by_value = np.argsort(-value, kind="stable")
        order = by_value[np.argsort(mentor[by_value], kind="stable")]
        mentor, mentee = mentor[order], mentee[order]
        starts = np.searchsorted(mentor, mentor, side="left")
        first_k = np.arange(len(mentor)) - starts < k
        return mentor[first_k].astype(np.intp), mentee[first_k].astype(np.intp)
