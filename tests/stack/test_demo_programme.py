"""The demo's cast and answers come from its seed: who speaks what, who accepts and who declines
(whatever order a round lists its pairs in: pair ids differ between runs, the people do not)."""

from __future__ import annotations

import random

from services.stack.demo.programme import (
    Answer,
    CohortPlay,
    Scenario,
    casting,
    cohort_languages,
    decide,
)


def with_round(play_: CohortPlay, pairs: list[dict[str, str]]) -> CohortPlay:
    play_.rounds = [{"pairs": pairs}]
    return play_


def answers(pairs: list[dict[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    play_ = with_round(casting(Scenario(participants=20))[0], pairs)
    return {(a.pair["mentor_id"], a.pair["mentee_id"]): (a.decision, a.reason)
            for _, a in decide([play_], random.Random(8), 0.5, round_no=1)}


def test_the_same_seed_gives_each_pair_the_same_answer_in_any_listing_order() -> None:
    pairs = [{"pair_id": f"pair-{i}", "mentor_id": f"m-{i}", "mentee_id": f"e-{i}"}
             for i in range(12)]
    shuffled = [{**p, "pair_id": f"other-{p['pair_id']}"} for p in reversed(pairs)]
    first = answers(pairs)
    assert answers(shuffled) == first
    assert {d for d, _ in first.values()} == {"accept", "mentee_declines", "mentor_declines"}


def test_confirmed_pairs_come_in_the_order_of_their_members_not_their_ids() -> None:
    play_ = casting(Scenario(participants=20))[0]
    pairs = [{"pair_id": "pair-z", "mentor_id": "m-1", "mentee_id": "e-1"},
             {"pair_id": "pair-a", "mentor_id": "m-2", "mentee_id": "e-2"}]
    play_.answers = {p["pair_id"]: Answer(p, "accept", 1) for p in reversed(pairs)}
    assert play_.confirmed == ["pair-z", "pair-a"]


def test_each_cohort_speaks_its_units_language_first_and_each_person_their_own() -> None:
    plays = casting(Scenario(participants=200))
    assert [cohort_languages(p)[0] for p in plays] == ["de", "en"]
    for play_ in plays:
        assert {p.application()["locale"] for p in play_.people.values()} == {play_.unit.locale}
