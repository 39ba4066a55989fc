"""The holdout statistics (domain/campaigns/lift.py): assignment, intervals against published
values, the counters' arithmetic, coverage, and no number from too little data."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.campaigns import lift
from chalicelib.domain.campaigns.lift import GroupTotals
from tests.support.examples import examples

AT = datetime(2025, 3, 4, 10, 0, tzinfo=timezone.utc)


def test_assignment_is_deterministic_and_keeps_the_share():
    customers = [f"c{i}" for i in range(20_000)]
    first = [lift.assign_group("camp1", c, 10) for c in customers]
    assert first == [lift.assign_group("camp1", c, 10) for c in customers]
    share = first.count(lift.HOLDOUT) / len(customers)
    assert 0.09 < share < 0.11
    other = [lift.assign_group("camp2", c, 10) for c in customers]
    # Another campaign draws another holdout: not the same customers left out every time.
    both = sum(1 for a, b in zip(first, other) if a == b == lift.HOLDOUT)
    assert both < 0.02 * len(customers)
    assert all(lift.assign_group("camp1", c, 0) == lift.SENT for c in customers[:100])


def test_newcombe_matches_his_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 against 48/80, method 10.
    interval = lift.newcombe_difference(56, 70, 48, 80)
    assert interval.estimate == pytest.approx(0.2)
    assert interval.low == pytest.approx(0.0524, abs=1e-4)
    assert interval.high == pytest.approx(0.3339, abs=1e-4)


def test_wilson_matches_a_published_value():
    # Newcombe (1998b) table: 81/263 → 0.2553 to 0.3662.
    low, high = lift.wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize("df,expected", [(10, 2.2281), (30, 2.0423), (100, 1.9840), (1000, 1.9623)])
def test_t_quantile_matches_the_tables(df, expected):
    assert lift.t_quantile(0.975, df) == pytest.approx(expected, abs=2e-4)


def test_welch_interval_by_hand():
    interval = lift.welch_difference(10.0, 4.0, 100, 9.0, 9.0, 50)
    se = (4 / 100 + 9 / 50) ** 0.5
    df = (4 / 100 + 9 / 50) ** 2 / ((4 / 100) ** 2 / 99 + (9 / 50) ** 2 / 49)
    half = lift.t_quantile(0.975, df) * se
    assert (interval.estimate, interval.low, interval.high) == pytest.approx((1.0, 1 - half, 1 + half))


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 500_000)), min_size=1, max_size=60))
def test_counters_on_write_give_the_sums_of_squares(orders):
    """Orders arrive one by one for customers 0..30; the increments kept on write add up to the
    per-customer sums and sums of squares a statistician would compute from the whole table."""
    totals, per_orders, per_revenue = Counter(), Counter(), Counter()
    for customer, revenue in orders:
        totals.update(lift.order_increments("sent", per_orders[customer], per_revenue[customer], revenue))
        per_orders[customer] += 1
        per_revenue[customer] += revenue
    assert totals["sent_converters"] == len(per_orders)
    assert totals["sent_orders"] == sum(per_orders.values())
    assert totals["sent_orders_sq"] == sum(n * n for n in per_orders.values())
    assert totals["sent_revenue_minor"] == sum(per_revenue.values())
    assert totals["sent_revenue_sq"] == sum(r * r for r in per_revenue.values())


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(1, 5000), st.integers(1, 5000), st.data())
def test_newcombe_interval_is_ordered_and_bounded(n1, n2, data):
    x1, x2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    interval = lift.newcombe_difference(x1, n1, x2, n2)
    assert -1 <= interval.low <= interval.estimate <= interval.high <= 1


def test_small_samples_give_no_number_and_say_what_is_missing():
    sent = GroupTotals(recipients=950, converters=110, orders=120, orders_sq=140, revenue_minor=600_000,
                       revenue_sq=5_000_000_000)
    holdout = GroupTotals(recipients=50, converters=4, orders=4, orders_sq=4, revenue_minor=20_000,
                          revenue_sq=100_000_000)
    answer = lift.lift(sent, holdout)
    for metric in ("conversion_rate", "revenue_per_recipient", "orders_per_recipient"):
        assert answer[metric]["estimate"] is None and answer[metric]["low"] is None
        assert answer[metric]["relative"]["estimate"] is None
        assert "not enough data" in answer[metric]["note"]
        assert "holdout: 50 recipients of the 100 needed" in answer[metric]["note"]


def _simulated_totals(rng, n, p, mean_order_minor):
    converters = sum(1 for _ in range(n) if rng.random() < p)
    revenue = [round(rng.expovariate(1 / mean_order_minor)) for _ in range(converters)]
    return GroupTotals(recipients=n, converters=converters, orders=converters, orders_sq=converters,
                       revenue_minor=sum(revenue), revenue_sq=sum(r * r for r in revenue))


def test_intervals_hold_the_planted_effect_about_95_percent_of_the_time():
    """12 % against 8 %, 2,000 sent and 500 kept back, 300 runs with a fixed seed: the conversion
    interval holds the true difference (0.04) and ratio (1.5) in about 95 % of the runs, the revenue
    interval the true difference of means."""
    rng = random.Random(18)
    runs, held = 300, Counter()
    for _ in range(runs):
        sent = _simulated_totals(rng, 2000, 0.12, 5000)
        holdout = _simulated_totals(rng, 500, 0.08, 5000)
        absolute, relative = lift.conversion_lift(sent, holdout)
        revenue, _ = lift.mean_lift(sent, holdout, "revenue_minor", "revenue_sq")
        held["absolute"] += absolute.holds(0.04)
        held["relative"] += relative.holds(0.5)
        held["revenue"] += revenue.holds((0.12 - 0.08) * 5000)
    for name in ("absolute", "relative", "revenue"):
        assert 0.91 <= held[name] / runs <= 0.99, (name, held[name])


def test_a_large_clear_effect_is_reported_with_an_interval_above_zero():
    rng = random.Random(7)
    sent, holdout = _simulated_totals(rng, 9000, 0.12, 5000), _simulated_totals(rng, 1000, 0.08, 5000)
    answer = lift.lift(sent, holdout, revenue_scale=0.01)
    assert answer["conversion_rate"]["low"] > 0
    assert answer["conversion_rate"]["low"] <= answer["conversion_rate"]["estimate"] <= answer["conversion_rate"]["high"]
    assert answer["revenue_per_recipient"]["estimate"] == pytest.approx(
        (sent.revenue_minor / 9000 - holdout.revenue_minor / 1000) / 100, abs=1e-4)


def test_the_attribution_window_counts_from_the_assignment():
    assert lift.counts_an_order(AT, AT + timedelta(days=5), 5)
    assert not lift.counts_an_order(AT, AT + timedelta(days=5, seconds=1), 5)
    assert not lift.counts_an_order(AT, AT - timedelta(seconds=1), 5)
