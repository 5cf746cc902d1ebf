"""Soft score of a (mentor, mentee) pair: the weighted sum of five factors, each in [0, 1].

* topic_fit: share of what the mentee wants that the mentor offers, |offered_m & wanted_e| /
  |wanted_e| (0 when the mentee wants nothing).
* reverse_topic_fit: the same, the other way round: what the mentee can teach the mentor
  (mutual learning; a lower default weight).
* format: 1 when the wished formats are compatible (equal, or either side says 'either'), 0 for
  in_person vs video. A soft factor on purpose: such a pair can still meet by video.
* cross_department: 1 when the departments differ; weighted only when the policy says
  'preferred' (when 'required' it is a hard rule and would add the same constant to every pair).
* goal_similarity: cosine of the goal texts' content-word sets, |A & B| / sqrt(|A| |B|).

`pair_factors` computes exact float64 contributions for listed pairs; it is the single source of
every score the engine reports or optimises. `screening_features` writes the same score as a
bilinear form (mentee row . mentor row) in float32 so that the candidate screen scores a whole
block of pairs with one matrix product; it is only used to pick candidates, never reported.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from contracts.matching import ScoreFactorName
from contracts.policy import CrossDepartment, MatchingPolicy
from services.matching.engine.encoding import Side, popcount

FACTORS: tuple[ScoreFactorName, ...] = tuple(ScoreFactorName)  # this order fixes float rounding

# FORMAT_FIT[mentor format, mentee format] with codes in encoding.FORMATS order.
FORMAT_FIT = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
# Above this many distinct goal terms the screen uses a rank-limited approximation of the goal
# cosines (see `_goal_columns`); the reported score stays exact, only candidate selection
# becomes approximate.
SCREEN_GOAL_COLUMNS = 128


def factor_weight(policy: MatchingPolicy, factor: ScoreFactorName) -> float:
    """The factor's weight in a pair's score under `policy`.

    The department bonus counts only when mixing is wished ('preferred'): when 'required' it is
    a hard rule and would add the same constant to every pair, when 'ignored' it is not wished.
    """
    if factor is ScoreFactorName.CROSS_DEPARTMENT and (
        policy.cross_department != CrossDepartment.PREFERRED
    ):
        return 0.0
    return float(getattr(policy.weights, factor.value))


def max_score(policy: MatchingPolicy) -> float:
    """Upper bound of a pair's score: every factor lies in [0, 1]."""
    return sum(factor_weight(policy, f) for f in FACTORS)


def _contributions(
    policy: MatchingPolicy,
    topic_overlap: NDArray[np.int64],
    topics_wanted: NDArray[np.int64],
    reverse_overlap: NDArray[np.int64],
    reverse_wanted: NDArray[np.int64],
    format_fit: NDArray[np.float64],
    other_department: NDArray[np.bool_],
    goal_overlap: NDArray[np.float64],
    goal_sizes: NDArray[np.int64],
) -> dict[ScoreFactorName, NDArray[np.float64]]:
    """Weighted factors from raw counts; shared by the per-pair and the dense path so that
    both produce bit-identical scores."""
    raw = {
        ScoreFactorName.TOPIC_FIT: topic_overlap / np.maximum(topics_wanted, 1),
        ScoreFactorName.REVERSE_TOPIC_FIT: reverse_overlap / np.maximum(reverse_wanted, 1),
        ScoreFactorName.FORMAT: format_fit,
        ScoreFactorName.CROSS_DEPARTMENT: other_department.astype(np.float64),
        ScoreFactorName.GOAL_SIMILARITY: goal_overlap / np.sqrt(np.maximum(goal_sizes, 1)),
    }
    shape = np.broadcast_shapes(*(np.shape(v) for v in raw.values()))
    out: dict[ScoreFactorName, NDArray[np.float64]] = {}
    for factor in FACTORS:
        weight = factor_weight(policy, factor)
        value = weight * raw[factor] if weight else np.zeros(shape)
        out[factor] = np.broadcast_to(value, shape).astype(np.float64, copy=False)
    return out


def pair_factors(
    mentors: Side,
    mentees: Side,
    policy: MatchingPolicy,
    mentor: NDArray[np.intp],
    mentee: NDArray[np.intp],
) -> dict[ScoreFactorName, NDArray[np.float64]]:
    """Weighted contribution of every factor for each listed pair (FACTORS order)."""
    m_goals, e_goals = mentors.goals, mentees.goals
    goal_overlap = np.zeros(len(mentor))
    if factor_weight(policy, ScoreFactorName.GOAL_SIMILARITY):
        goal_overlap = np.asarray(m_goals[mentor].multiply(e_goals[mentee]).sum(axis=1)).ravel()
    return _contributions(
        policy,
        popcount(mentors.offered[mentor] & mentees.wanted[mentee]),
        popcount(mentees.wanted[mentee]),
        popcount(mentees.offered[mentee] & mentors.wanted[mentor]),
        popcount(mentors.wanted[mentor]),
        FORMAT_FIT[mentors.format[mentor], mentees.format[mentee]],
        mentors.department[mentor] != mentees.department[mentee],
        goal_overlap,
        np.diff(m_goals.indptr)[mentor] * np.diff(e_goals.indptr)[mentee],
    )


def grid_factors(
    mentors: Side, mentees: Side, policy: MatchingPolicy, mentee_rows: NDArray[np.intp]
) -> dict[ScoreFactorName, NDArray[np.float64]]:
    """The same factors for every (listed mentee, any mentor) pair, as mentee x mentor grids."""
    e_off, e_want = mentees.offered[mentee_rows], mentees.wanted[mentee_rows]
    goal_overlap = np.zeros((len(mentee_rows), len(mentors)))
    if factor_weight(policy, ScoreFactorName.GOAL_SIMILARITY):
        goal_overlap = (mentees.goals[mentee_rows] @ mentors.goals.T).toarray()
    m_sizes = np.diff(mentors.goals.indptr)[None, :]
    return _contributions(
        policy,
        popcount(mentors.offered[None, :, :] & e_want[:, None, :]),
        popcount(e_want)[:, None],
        popcount(e_off[:, None, :] & mentors.wanted[None, :, :]),
        popcount(mentors.wanted)[None, :],
        FORMAT_FIT[mentors.format[None, :], mentees.format[mentee_rows, None]],
        mentors.department[None, :] != mentees.department[mentee_rows, None],
        goal_overlap,
        m_sizes * np.diff(mentees.goals.indptr)[mentee_rows, None],
    )


def total(factors: dict[ScoreFactorName, NDArray[np.float64]]) -> NDArray[np.float64]:
    """Pair scores: the factors added in FACTORS order (the order fixes the float rounding)."""
    out = np.zeros(np.broadcast_shapes(*(v.shape for v in factors.values())))
    for factor in FACTORS:
        out += factors[factor]
    return out


def _bits(words: NDArray[np.uint64], width: int) -> NDArray[np.float32]:
    as_bytes = np.ascontiguousarray(words.astype("<u8")).view(np.uint8)
    bits = np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :width]
    return bits.astype(np.float32)


def _normalised_goals(side: Side) -> sp.csr_matrix:
    goals = side.goals.tocsr().astype(np.float64)
    return sp.diags(1.0 / np.sqrt(np.maximum(np.diff(goals.indptr), 1))) @ goals


def _goal_columns(mentors: Side, mentees: Side) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Goal-term vectors for the screen, at most SCREEN_GOAL_COLUMNS wide.

    Wider vocabularies are projected on a shared basis from a randomised SVD of both sides'
    unit-length term vectors: the best rank-limited approximation of the cosines, far better
    than hashing terms into buckets for the same width.
    """
    g_m, g_e = _normalised_goals(mentors), _normalised_goals(mentees)
    width = g_m.shape[1]
    if width <= SCREEN_GOAL_COLUMNS:
        return g_m.toarray().astype(np.float32), g_e.toarray().astype(np.float32)
    stacked = sp.vstack([g_m, g_e]).tocsr()
    rng = np.random.default_rng(0)  # fixed: the same cohort always screens the same way
    basis = stacked.T @ (stacked @ rng.standard_normal((width, SCREEN_GOAL_COLUMNS + 8)))
    basis, _ = np.linalg.qr(basis)
    basis, _ = np.linalg.qr(stacked.T @ (stacked @ basis))  # a power iteration sharpens it
    _, _, vt = np.linalg.svd(stacked @ basis, full_matrices=False)
    top = basis @ vt[:SCREEN_GOAL_COLUMNS].T
    return (g_m @ top).astype(np.float32), (g_e @ top).astype(np.float32)


def screening_features(
    mentors: Side, mentees: Side, policy: MatchingPolicy, n_topics: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(mentor rows, mentee rows) with mentee_row . mentor_row ~= the pair's score."""
    mentor_cols: list[NDArray[np.float32]] = []
    mentee_cols: list[NDArray[np.float32]] = []
    f32 = np.float32

    def per_want(words: NDArray[np.uint64]) -> NDArray[np.float32]:
        counts = np.maximum(popcount(words), 1).astype(f32)
        return (_bits(words, n_topics) / counts[:, None]).astype(f32)

    if (w := factor_weight(policy, ScoreFactorName.TOPIC_FIT)) > 0:
        mentor_cols.append(_bits(mentors.offered, n_topics))
        mentee_cols.append(f32(w) * per_want(mentees.wanted))
    if (w := factor_weight(policy, ScoreFactorName.REVERSE_TOPIC_FIT)) > 0:
        mentor_cols.append(f32(w) * per_want(mentors.wanted))
        mentee_cols.append(_bits(mentees.offered, n_topics))
    if (w := factor_weight(policy, ScoreFactorName.FORMAT)) > 0:
        mentor_cols.append(np.eye(3, dtype=f32)[mentors.format])
        mentee_cols.append(f32(w) * FORMAT_FIT.T.astype(f32)[mentees.format])
    if (w := factor_weight(policy, ScoreFactorName.CROSS_DEPARTMENT)) > 0:
        n_dept = int(max(mentors.department.max(initial=0), mentees.department.max(initial=0))) + 1
        mentor_cols += [
            np.ones((len(mentors), 1), f32),
            np.eye(n_dept, dtype=f32)[mentors.department],
        ]
        mentee_cols += [
            np.full((len(mentees), 1), w, f32),
            -f32(w) * np.eye(n_dept, dtype=f32)[mentees.department],
        ]
    if (w := factor_weight(policy, ScoreFactorName.GOAL_SIMILARITY)) > 0:
        goal_m, goal_e = _goal_columns(mentors, mentees)
        mentor_cols.append(goal_m)
        mentee_cols.append(f32(w) * goal_e)
    if not mentor_cols:
        return np.zeros((len(mentors), 1), f32), np.zeros((len(mentees), 1), f32)
    return np.hstack(mentor_cols), np.hstack(mentee_cols)
