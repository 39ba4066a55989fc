"""The program's holdout: who is in it (stable, the share asked for, per shop) and the program's
incremental revenue with its interval, on generated customers with a planted effect."""
from __future__ import annotations

import random

from chalicelib.domain.campaigns.program_holdout import in_program_holdout, program_lift, totals


def test_the_holdout_is_the_share_asked_for_stable_and_drawn_per_shop():
    ids = [f"c_{n:05d}" for n in range(20_000)]
    held = [c for c in ids if in_program_holdout("shop-a", c, 10)]
    assert 0.09 < len(held) / len(ids) < 0.11
    assert held == [c for c in ids if in_program_holdout("shop-a", c, 10)]  # the same every time
    other = {c for c in ids if in_program_holdout("shop-b", c, 10)}
    assert len(other & set(held)) < len(held) * 0.2  # another shop draws other customers
    assert not any(in_program_holdout("shop-a", c, 0) for c in ids[:1000])
    assert set(c for c in ids if in_program_holdout("shop-a", c, 5)) <= set(held)  # a larger share only adds


def _revenues(rng, customers: int, buy_rate: float) -> list[int]:
    return [rng.randint(2_000, 8_000) if rng.random() < buy_rate else 0 for _ in range(customers)]


def test_the_programs_incremental_revenue_interval_holds_the_planted_effect():
    rng = random.Random(18)
    held, runs = 0, 200
    for _ in range(runs):
        mailed, holdout = _revenues(rng, 9_000, 0.12), _revenues(rng, 1_000, 0.08)
        answer = program_lift(totals(mailed), totals(holdout), exponent=2)
        true_increment = (0.12 - 0.08) * 5_000 / 100 * 9_000  # per customer 2.00 × 9,000 mailed customers
        revenue = answer["incremental_revenue"]
        held += revenue["low"] <= true_increment <= revenue["high"]
    assert 0.90 <= held / runs <= 0.99  # a 95 % interval, on 200 runs


def test_a_small_program_gives_no_number_but_says_why():
    answer = program_lift(totals([0, 500, 0] * 10), totals([0, 0, 900]), exponent=2)
    assert answer["incremental_revenue"] == {"estimate": None, "low": None, "high": None}
    assert "too few customers to tell yet" in answer["note"] and "mailed" in answer["note"]
    assert "recipients" not in answer["note"] and "converters" not in answer["note"]
    assert answer["groups"]["holdout"] == {"customers": 3, "buyers": 1, "revenue": 9.0}
