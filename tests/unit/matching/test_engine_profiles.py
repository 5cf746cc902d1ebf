"""The benchmark's stress shapes at small sizes: every hard rule holds, every reason is right,
and wherever the exact solver can check it the engine's answer is optimal or close to it."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from benchmarks.matching_profiles import PROFILES, generator
from benchmarks.matching_profiles import policy as profile_policy
from contracts.policy import Objective
from services.matching.engine import SearchBudget, exact_match, match
from tests.unit.matching.strategies import allowed

SHORT_LISTS = SearchBudget(exact_pairs=0, per_mentee=3, per_mentor=2, block_cells=4_096)


@pytest.mark.parametrize("capacity", [1, 2])
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_stress_shape_keeps_every_rule_and_reason_under_pruning(
    profile: str, capacity: int
) -> None:
    mentors, mentees, declined = generator(profile)(70, 80, 3)
    policy = profile_policy(profile, capacity, Objective.MAX_SCORE)
    result = match(mentors, mentees, policy, declined=declined, budget=SHORT_LISTS)
    mentor = {c.participant_id: c for c in mentors}
    mentee = {c.participant_id: c for c in mentees}
    for p in result.pairs:
        assert allowed(mentor[p.mentor_id], mentee[p.mentee_id], policy, declined)
    load = Counter(p.mentor_id for p in result.pairs)
    assert max(load.values(), default=0) <= capacity
    taken = {p.mentee_id for p in result.pairs}
    for u in result.unmatched:
        if u.role == "mentee":
            partners = [(m, mentee[u.participant_id]) for m in mentors]
        else:
            partners = [(mentor[u.participant_id], e) for e in mentees]
        if any(allowed(m, e, policy, declined) for m, e in partners):
            assert u.reason == "capacity_exhausted"
            free = [
                (m, e) for m, e in partners
                if load[m.participant_id] < capacity and e.participant_id not in taken
            ]
            assert not any(allowed(m, e, policy, declined) for m, e in free)
        elif any(allowed(m, e, policy, set()) for m, e in partners):
            assert u.reason == "declined_all"
        else:
            assert u.reason == "no_feasible_partner"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_stress_shape_is_solved_exactly_when_its_feasible_pairs_fit(profile: str) -> None:
    mentors, mentees, declined = generator(profile)(70, 80, 5)
    policy = profile_policy(profile, 1, Objective.MAX_SCORE)
    result = match(mentors, mentees, policy, declined=declined)
    best = exact_match(mentors, mentees, policy, declined=declined)
    assert result.stats.exact
    assert result.stats.total_score == pytest.approx(best.stats.total_score, abs=1e-9)


@pytest.mark.parametrize("profile", sorted(set(PROFILES) - {"nobody-feasible"}))
def test_stress_shape_stays_near_the_optimum_with_default_shortlists(profile: str) -> None:
    mentors, mentees, declined = generator(profile)(150, 160, 8)
    policy = profile_policy(profile, 1, Objective.MAX_SCORE)
    pruned = replace(SearchBudget.for_cohort(len(mentees)), exact_pairs=0)
    result = match(mentors, mentees, policy, declined=declined, budget=pruned)
    best = exact_match(mentors, mentees, policy, declined=declined).stats.total_score
    assert not result.stats.exact
    assert result.stats.total_score >= 0.999 * best
