"""The program's effect on the dashboard: plain arithmetic, each ratio with its denominator named."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from chalicelib.domain.loyalty.program_report import (DEFINITIONS, RewardCost, attributed_revenue,
                                                      liability_by_month, program_roi, redemption_rate)

KYIV_MIDNIGHT_1_FEB = datetime(2031, 2, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))  # 31 January in UTC


def test_redemption_rate_names_its_denominator_and_is_unknown_without_earning():
    assert redemption_rate(250, 1_000) == {"rate": 0.25, "numerator": "points_redeemed",
                                           "denominator": "points_earned", "points_redeemed": 250,
                                           "points_earned": 1_000}
    assert redemption_rate(40, 0)["rate"] is None
    assert redemption_rate(1, 3)["rate"] == 0.3333


def test_liability_groups_lots_by_their_utc_expiry_month_oldest_first():
    lots = [(datetime(2031, 3, 31, 23, 59, tzinfo=timezone.utc), 300), (KYIV_MIDNIGHT_1_FEB, 120),
            (datetime(2031, 3, 1, tzinfo=timezone.utc), 50), (datetime(2031, 4, 2, tzinfo=timezone.utc), 0)]
    months = liability_by_month(lots, lambda points: points * 5, exponent=2)  # a point is worth 0.05
    assert months == [{"month": "2031-01", "points": 120, "value": "6.00", "value_minor": 600},
                      {"month": "2031-03", "points": 350, "value": "17.50", "value_minor": 1_750}]


def test_liability_in_a_currency_without_minor_units():
    months = liability_by_month([(datetime(2031, 5, 5, tzinfo=timezone.utc), 1_000)], lambda p: p // 10, 0)
    assert months == [{"month": "2031-05", "points": 1_000, "value": "100", "value_minor": 100}]


def test_roi_sets_member_revenue_against_redeemed_value_and_cashback():
    answer = program_roi(1_200_000, RewardCost(redeemed_value_minor=30_000, cashback_minor=10_000), 2)
    assert answer["reward_cost"] == "400.00" and answer["reward_cost_minor"] == 40_000
    assert answer["member_revenue"] == "12000.00"
    assert answer["roi"] == 29.0  # (12,000 − 400) ÷ 400
    assert answer["codes_discount"] == "0.00"
    with_codes = program_roi(1_200_000, RewardCost(30_000, 10_000, codes_discount_minor=20_000), 2)
    assert with_codes["codes_discount"] == "200.00" and with_codes["reward_cost"] == "600.00"
    assert with_codes["roi"] == 19.0  # (12,000 − 600) ÷ 600: the codes' discounts are part of the cost
    assert program_roi(50_000, RewardCost(0, 0), 2)["roi"] is None
    assert program_roi(10_000, RewardCost(20_000, 0), 2)["roi"] == -0.5  # rewards cost more than members paid
    assert {"roi", "reward_cost", "member_revenue", "redeemed_value", "cashback_cost", "codes_discount",
            "redemption_rate", "liability_by_expiry_month", "attributed_revenue"} <= set(DEFINITIONS)


def test_attributed_revenue_lists_earners_by_revenue_and_leaves_out_the_rest():
    lines = attributed_revenue([
        ({"template": "winback"}, Counter(sent=400, orders=2, revenue_minor=9_950)),
        ({"template": "birthday"}, Counter(sent=30)),
        ({"template": "post_purchase"}, Counter(orders=5, revenue_minor=31_000, converters=4)),
    ], exponent=2)
    assert lines == [{"template": "post_purchase", "orders": 5, "revenue": "310.00", "revenue_minor": 31_000},
                     {"template": "winback", "orders": 2, "revenue": "99.50", "revenue_minor": 9_950}]
