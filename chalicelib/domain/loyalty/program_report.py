"""The program's effect as the dashboard reports it: redemption rate, liability by expiry month,
return on the rewards' cost and the revenue owed to each campaign and flow.

Plain arithmetic over figures the services read (the dashboard's day counters, the customers'
lots, the results counters): money in integer minor units, formatted only in the answer. Every
ratio names its numerator and denominator, and is None when the denominator is zero (a rate of
an empty period is unknown, not 0).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable, Mapping, Optional

from chalicelib.domain.money import format_minor

RATE_DIGITS = 4

DEFINITIONS = {
    "redemption_rate": "points redeemed ÷ points earned over the period (points redeemed: spent on "
                       "rewards, less those given back by unused codes; points earned: from orders and "
                       "bonuses, adjustments excluded)",
    "liability_by_expiry_month": "points still held in the customers' lots, grouped by the UTC month they "
                                 "expire in, valued at today's point value",
    "member_revenue": "revenue of orders paid in the period by customers who were in a tier before "
                      "the order, less refunds booked in the period",
    "redeemed_value": "points redeemed in the period × today's point value",
    "cashback_cost": "cashback credited to customers' wallets in the period",
    "codes_discount": "money the program's codes took off orders paid in the period, as the platform "
                      "reported it on the order (Shopify discount_codes amount, WooCommerce coupon discount "
                      "and its tax, the generic discounts): special-day, reward, membership and referral "
                      "codes; redemption and cashback codes are not counted again (their value is the "
                      "redeemed value and the cashback cost); written in the order's ledger entry when it "
                      "was paid and kept if the order is refunded later",
    "reward_cost": "redeemed_value + cashback_cost + codes_discount",
    "roi": "(member_revenue − reward_cost) ÷ reward_cost: what members paid per unit of reward "
           "cost, not incremental revenue (the program holdout's `program` answers that)",
    "cohort_retention": "customers by the month of their first order (only those whose whole history lies "
                        "in the last 12 months' paid days the accounts keep; older customers' first order is "
                        "not known), members (in a tier now) and non-members apart: the share of each cohort "
                        "that ordered again in each later month",
    "attributed_revenue": "orders and revenue owed to a campaign or flow: paid within the shop's "
                          "attribution window after a click on its e-mail (last click), all time, "
                          "not limited to the period",
}


def ratio(numerator: int, denominator: int) -> Optional[float]:
    return round(numerator / denominator, RATE_DIGITS) if denominator else None


def redemption_rate(points_redeemed: int, points_earned: int) -> dict:
    return {"rate": ratio(points_redeemed, points_earned), "numerator": "points_redeemed",
            "denominator": "points_earned", "points_redeemed": points_redeemed, "points_earned": points_earned}


def expiry_month(expires_at: datetime) -> str:
    return expires_at.astimezone(timezone.utc).strftime("%Y-%m")


def liability_by_month(lots: Iterable[tuple[datetime, int]], value_of: Callable[[int], int],
                       exponent: int) -> list[dict]:
    """Points held per expiry month (``lots``: each lot's expiry and points) and their value
    (``value_of``: points → minor units), oldest month first; months without points are left out."""
    points: dict[str, int] = defaultdict(int)
    for expires_at, held in lots:
        if held > 0:
            points[expiry_month(expires_at)] += held
    return [{"month": month, "points": points[month], "value": format_minor(value_of(points[month]), exponent),
             "value_minor": value_of(points[month])} for month in sorted(points)]


@dataclass(frozen=True)
class RewardCost:
    redeemed_value_minor: int
    cashback_minor: int
    codes_discount_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.redeemed_value_minor + self.cashback_minor + self.codes_discount_minor


def program_roi(member_revenue_minor: int, cost: RewardCost, exponent: int) -> dict:
    def money(minor: int) -> str:
        return format_minor(minor, exponent)

    return {"member_revenue": money(member_revenue_minor), "member_revenue_minor": member_revenue_minor,
            "redeemed_value": money(cost.redeemed_value_minor), "cashback_cost": money(cost.cashback_minor),
            "codes_discount": money(cost.codes_discount_minor), "codes_discount_minor": cost.codes_discount_minor,
            "reward_cost": money(cost.total_minor), "reward_cost_minor": cost.total_minor,
            "roi": ratio(member_revenue_minor - cost.total_minor, cost.total_minor)}


def attributed_revenue(subjects: Iterable[tuple[dict, Mapping[str, int]]], exponent: int) -> list[dict]:
    """Each campaign or flow (``subjects``: who it is, its results counters) with the orders and
    revenue owed to it, most revenue first; those that never earned an order are left out."""
    lines = []
    for who, counts in subjects:
        revenue = int(counts.get("revenue_minor", 0))
        orders = int(counts.get("orders", 0))
        if orders or revenue:
            lines.append({**who, "orders": orders, "revenue": format_minor(revenue, exponent),
                          "revenue_minor": revenue})
    return sorted(lines, key=lambda line: (-line["revenue_minor"], line.get("name") or ""))
