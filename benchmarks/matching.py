"""Matching engine benchmark: one seeded, realistic cohort; the engine against the exact optimum.

    python benchmarks/matching.py --mentors 5000 --mentees 5000 [--profile enterprise]
        [--seed 7] [--capacity 1] [--objective max_score] [--no-exact] [--json]

--profile picks the cohort: 'enterprise' (below, the default) or one of the stress shapes of
benchmarks/matching_profiles.py (continuous-tz, few-topics, declined-heavy, tight-rules,
wide-vocabulary, nobody-feasible), each generated independently of this module's cohort.

What is measured, in one process and on the same instance:

* engine_s: wall time of one `match()` call (encoding, screening, solving, explanations,
  statistics), the first in the process: nothing is warmed up.
* peak_mb: the process's peak resident set size (resource.getrusage ru_maxrss) read right after
  `match()` returns and before the exact solver runs. It includes the interpreter, numpy/scipy
  and the generated cohort, so it over-states the engine's own share; it is not a tracemalloc
  figure (tracemalloc would slow the engine down and miss BLAS buffers).
* objective: total score of the proposed pairs (the engine's objective under 'max_score').
* exact_s / exact_objective: `exact_match()` (dense scipy linear_sum_assignment) on the same
  cohort, run when mentees x mentor slots <= 25 million; null otherwise.
* gap_pct: 100 * (exact_objective - objective) / exact_objective.
* violations: hard-rule breaches in the engine's answer, re-checked here by plain Python that
  shares no code with the engine. Must be 0.
* matched: number of proposed pairs.
* exact: the engine's own claim (stats.exact): every feasible pair reached the solver, solved
  exactly. feasible_pairs: pairs of the pool passing every hard rule. solver_fallbacks: solver
  calls whose budget ran out (see services/matching/engine/solvers.py). priced_pairs,
  gap_bound: pairs added by pricing and the first round's proven relative distance to the
  optimum (services/matching/engine/pricing.py), null when not priced.

Policy: mentor capacity from --capacity, minimum level gap 1, cross-department 'preferred',
time-zone gap 3 h, reporting lines excluded, WEIGHTS (topic fit first, the rest refining it),
objective from --objective.
The cohort mimics an enterprise programme: ~20 departments of uneven size, career levels 1-10
with mentors mostly junior and mentees mostly senior, 40 topics (25 'digital' ones mentors
teach, 15 'experience' ones mentees teach back) with skewed popularity, six languages with
English spoken by most, time zones clustered around company sites, three formats, goal texts
drawn from a vocabulary, and reporting lines that sometimes run between the two groups.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a plain checkout

from benchmarks.matching_profiles import PROFILES, generator
from benchmarks.matching_profiles import policy as profile_policy
from contracts.enrolment import PreferredFormat
from contracts.policy import CrossDepartment, MatchingPolicy, Objective, ScoringWeights
from services.matching.engine import (
    EXACT_DENSE_CELLS,
    Candidate,
    MatchResult,
    exact_match,
    match,
)

DEPARTMENTS = (
    "finance controlling procurement legal compliance hr marketing sales service logistics "
    "production quality engineering research it security strategy communications audit treasury"
).split()
DIGITAL_TOPICS = (
    "generative-ai prompt-writing social-media tiktok instagram linkedin-branding podcasts "
    "video-editing remote-collaboration slack-etiquette low-code data-literacy python excel-power "
    "cloud-basics cybersecurity-hygiene agile-methods design-thinking gen-z-values sustainability "
    "diversity-inclusion mental-health gaming esports crypto-basics"
).split()
EXPERIENCE_TOPICS = (
    "leadership negotiation career-planning stakeholder-management strategy-making budgeting "
    "public-speaking networking corporate-politics change-management decision-making "
    "conflict-resolution international-business mentoring-others crisis-management"
).split()
LANGUAGES = (("en", 0.93), ("de", 0.35), ("fr", 0.12), ("es", 0.14), ("zh", 0.08), ("ja", 0.05))
SITES = (
    (0.0, 0.08),
    (1.0, 0.38),
    (2.0, 0.08),
    (-5.0, 0.16),
    (-6.0, 0.04),
    (-8.0, 0.08),
    (5.5, 0.07),
    (8.0, 0.07),
    (9.0, 0.04),
)
FORMATS = (
    (PreferredFormat.EITHER, 0.5),
    (PreferredFormat.VIDEO, 0.3),
    (PreferredFormat.IN_PERSON, 0.2),
)
WEIGHTS = ScoringWeights(
    topic_fit=0.45, reverse_topic_fit=0.15, format=0.10, cross_department=0.15, goal_similarity=0.15
)
GOAL_WORDS = (
    "understand digital habits younger colleagues improve visibility online build personal brand "
    "adopt artificial intelligence daily work automate reports share leadership experience "
    "grow network across departments prepare management role gain confidence presenting "
    "explore new collaboration tools reduce meeting overload learn social platforms "
    "engage customers video channels rethink hierarchy open feedback culture attract talent "
    "understand generation values purpose sustainability strategy data driven decisions "
    "coding fundamentals cloud services security awareness hybrid teams remote onboarding "
    "storytelling podcasts mentoring skills career guidance negotiation budgets stakeholders "
    "international projects innovation startup mindset experimentation agile transformation "
    "employer branding recruiting diversity inclusion wellbeing resilience change management "
    "communication style generational gaps trust empathy curiosity listening coaching"
).split()


def _zipf(n: int, s: float = 0.8) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def generate_cohort(
    n_mentors: int, n_mentees: int, seed: int
) -> tuple[list[Candidate], list[Candidate], set[tuple[str, str]]]:
    """Seeded synthetic cohort plus a few declined pairs."""
    rng = np.random.default_rng(seed)
    dept_p = _zipf(len(DEPARTMENTS), 0.6)
    digital_p, experience_p = _zipf(len(DIGITAL_TOPICS)), _zipf(len(EXPERIENCE_TOPICS))
    word_p = _zipf(len(GOAL_WORDS), 0.5)
    junior = np.array([18, 22, 20, 15, 10, 7, 4, 2, 1.5, 0.5])
    levels_p = {"mentor": junior / junior.sum(), "mentee": junior[::-1] / junior.sum()}
    site_tz = np.array([s[0] for s in SITES])
    site_p = np.array([s[1] for s in SITES])
    fmt_p = np.array([f[1] for f in FORMATS])

    def people(role: str, n: int, prefix: str) -> list[dict]:
        out = []
        depts = rng.choice(len(DEPARTMENTS), n, p=dept_p)
        levels = rng.choice(np.arange(1, 11), n, p=levels_p[role])
        tz = site_tz[rng.choice(len(SITES), n, p=site_p)]
        tz = tz + rng.choice([-1.0, 0.0, 0.0, 0.0, 0.0, 1.0], n)  # a few people travel/remote
        fmts = rng.choice(len(FORMATS), n, p=fmt_p)
        digital = (DIGITAL_TOPICS, digital_p)
        experience = (EXPERIENCE_TOPICS, experience_p)
        # (topics, popularity, size range): mentors teach digital topics, mentees experience
        teach, learn = (
            ((*digital, (2, 7)), (*experience, (1, 4)))
            if role == "mentor"
            else ((*experience, (2, 6)), (*digital, (1, 5)))
        )
        for i in range(n):
            langs = {code for code, p in LANGUAGES if rng.random() < p} or {"en"}
            offered = rng.choice(teach[0], rng.integers(*teach[2]), replace=False, p=teach[1])
            wanted = rng.choice(learn[0], rng.integers(*learn[2]), replace=False, p=learn[1])
            words = rng.choice(GOAL_WORDS, rng.integers(6, 14), p=word_p)
            out.append(
                {
                    "participant_id": f"{prefix}{i:06d}",
                    "department": DEPARTMENTS[depts[i]],
                    "level": int(levels[i]),
                    "topics_offered": frozenset(str(t) for t in offered),
                    "topics_wanted": frozenset(str(t) for t in wanted),
                    "languages": frozenset(langs),
                    "utc_offset_hours": float(tz[i]),
                    "format": FORMATS[fmts[i]][0],
                    "goals": "I want to " + " ".join(words),
                }
            )
        return out

    mentor_rows, mentee_rows = people("mentor", n_mentors, "r"), people("mentee", n_mentees, "s")
    # reporting lines: generic managers per department, and sometimes a mentee is a mentor's boss
    by_dept: dict[str, list[str]] = {}
    for row in mentee_rows:
        by_dept.setdefault(row["department"], []).append(row["participant_id"])
    for row in mentor_rows + mentee_rows:
        chain = [
            f"mgr-{row['department']}-{rng.integers(0, 50)}" for _ in range(rng.integers(1, 4))
        ]
        seniors = by_dept.get(row["department"], [])
        if seniors and rng.random() < 0.15:
            chain.insert(0, seniors[int(rng.integers(0, len(seniors)))])
        row["manager_chain"] = tuple(c for c in chain if c != row["participant_id"])
    mentors = [Candidate(**r) for r in mentor_rows]
    mentees = [Candidate(**r) for r in mentee_rows]
    n_declined = max(1, (n_mentors + n_mentees) // 200)
    declined = {
        (
            mentors[int(rng.integers(n_mentors))].participant_id,
            mentees[int(rng.integers(n_mentees))].participant_id,
        )
        for _ in range(n_declined)
    }
    return mentors, mentees, declined


def count_violations(
    result: MatchResult,
    mentors: list[Candidate],
    mentees: list[Candidate],
    policy: MatchingPolicy,
    declined: set[tuple[str, str]],
) -> int:
    """Independent re-check of every hard rule, in plain Python."""
    mentor_by_id = {c.participant_id: c for c in mentors}
    mentee_by_id = {c.participant_id: c for c in mentees}
    bad = 0
    for pair in result.pairs:
        m, e = mentor_by_id[pair.mentor_id], mentee_by_id[pair.mentee_id]
        bad += m.level > e.level - policy.min_level_gap
        bad += not (m.languages & e.languages)
        bad += abs(m.utc_offset_hours - e.utc_offset_hours) > policy.max_timezone_gap_hours
        bad += policy.cross_department == "required" and m.department == e.department
        bad += policy.exclude_reporting_line and (
            m.participant_id in e.manager_chain or e.participant_id in m.manager_chain
        )
        bad += (m.participant_id, e.participant_id) in declined
        bad += abs(sum(pair.explanation.values()) - pair.score) > 1e-9
    per_mentor = Counter(p.mentor_id for p in result.pairs)
    per_mentee = Counter(p.mentee_id for p in result.pairs)
    bad += sum(1 for n in per_mentor.values() if n > policy.mentor_capacity)
    bad += sum(1 for n in per_mentee.values() if n > 1)
    return int(bad)


def enterprise_policy(capacity: int, objective: Objective) -> MatchingPolicy:
    return MatchingPolicy(
        mentor_capacity=capacity,
        min_level_gap=1,
        cross_department=CrossDepartment.PREFERRED,
        max_timezone_gap_hours=3.0,
        exclude_reporting_line=True,
        weights=WEIGHTS,
        objective=objective,
    )


Report = dict[str, float | int | str | bool | None]


def run(args: argparse.Namespace) -> Report:
    objective = Objective(args.objective)
    if args.profile == "enterprise":
        cohort = generate_cohort(args.mentors, args.mentees, args.seed)
        policy = enterprise_policy(args.capacity, objective)
    else:
        cohort = generator(args.profile)(args.mentors, args.mentees, args.seed)
        policy = profile_policy(args.profile, args.capacity, objective)
    mentors, mentees, declined = cohort
    start = time.perf_counter()
    result = match(mentors, mentees, policy, declined=declined)
    engine_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report: Report = {
        "profile": args.profile,
        "engine_s": round(engine_s, 3),
        "peak_mb": round(peak_mb, 1),
        "objective": round(result.stats.total_score, 4),
        "exact_s": None,
        "exact_objective": None,
        "gap_pct": None,
        "violations": count_violations(result, mentors, mentees, policy, declined),
        "matched": result.stats.pairs,
        "exact": result.stats.exact,
        "feasible_pairs": result.stats.feasible_pairs,
        "solver_fallbacks": result.stats.solver_fallbacks,
        "priced_pairs": result.stats.priced_pairs,
        "gap_bound": None if result.stats.gap_bound is None else round(result.stats.gap_bound, 6),
        "declined": len(declined),
    }
    if not args.no_exact and args.mentees * args.mentors * args.capacity <= EXACT_DENSE_CELLS:
        start = time.perf_counter()
        exact = exact_match(mentors, mentees, policy, declined=declined)
        report["exact_s"] = round(time.perf_counter() - start, 3)
        best = exact.stats.total_score
        report["exact_objective"] = round(best, 4)
        report["gap_pct"] = (
            round(100 * (best - result.stats.total_score) / best, 4) if best else 0.0
        )
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentors", type=int, required=True)
    parser.add_argument("--mentees", type=int, required=True)
    parser.add_argument("--profile", choices=("enterprise", *PROFILES), default="enterprise")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--capacity", type=int, default=1)
    parser.add_argument("--objective", choices=("max_score", "max_matched"), default="max_score")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact solver")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    report = run(args)
    if args.json:
        print(json.dumps(report))
        return
    print(
        f"cohort: {args.profile}, {args.mentors} mentors x {args.mentees} mentees, "
        f"seed {args.seed}, "
        f"capacity {args.capacity}, objective {args.objective}"
    )
    for key, value in report.items():
        print(f"  {key:<16}{'n/a' if value is None else value}")


if __name__ == "__main__":
    main()
