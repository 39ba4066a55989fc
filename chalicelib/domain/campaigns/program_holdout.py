"""The program's holdout: a share of a shop's customers who never get marketing e-mail, so the
whole program's effect can be measured against them (campaign holdouts measure one campaign).

Membership is a hash of (shop, customer): stable for the customer's life, independent of what they
buy, and different from every campaign's own draw. The lift compares each group's revenue per
customer and share of buying customers over a period, with the methods of domain/campaigns/lift.py
(Welch's interval for the difference of means, Newcombe's for the difference of rates, the delta
method on the log ratio for the relative lift); the incremental revenue is the revenue-per-customer
lift times the customers who got the mail, its interval scaled alike (the group's size is fixed).
Too few customers or buyers in either group gives no number and a note, never a confident guess.
Pure: the caller passes each customer's revenue.
"""
from __future__ import annotations

import hashlib
from typing import Iterable

from chalicelib.domain.campaigns.lift import (HOLDOUT, SENT, GroupTotals, conversion_lift, mean_lift, shortage)

MAILED = "mailed"
_BUCKETS = 10_000


def in_program_holdout(shop_id: str, customer_id: str, percent: float) -> bool:
    if not percent:
        return False
    digest = hashlib.sha256(f"program-holdout:{shop_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _BUCKETS < round(percent * _BUCKETS / 100)


def totals(revenues: Iterable[int]) -> GroupTotals:
    """A group's totals from each customer's revenue (minor units) in the period."""
    recipients = converters = revenue = squares = 0
    for value in revenues:
        recipients += 1
        converters += value > 0
        revenue += value
        squares += value * value
    return GroupTotals(recipients=recipients, converters=converters, revenue_minor=revenue, revenue_sq=squares)


def _plain(note: str) -> str:
    """The shortage in the program's words: customers and buyers, the mailed group and the holdout."""
    return (note.replace(f"{SENT}:", f"{MAILED}:").replace(" recipients of", " customers of")
            .replace(" converters of", " buyers of").replace("not enough data", "too few customers to tell yet"))


def program_lift(mailed: GroupTotals, holdout: GroupTotals, exponent: int) -> dict:
    scale = 10 ** -exponent
    groups = {name: {"customers": group.recipients, "buyers": group.converters,
                     "revenue": round(group.revenue_minor * scale, exponent)}
              for name, group in ((MAILED, mailed), (HOLDOUT, holdout))}
    note = shortage(mailed, holdout)
    if note:
        empty = {"estimate": None, "low": None, "high": None}
        return {"groups": groups, "incremental_revenue": dict(empty), "revenue_per_customer": dict(empty),
                "buyer_rate": dict(empty), "note": _plain(note)}
    absolute, relative = mean_lift(mailed, holdout, "revenue_minor", "revenue_sq")
    rate, rate_relative = conversion_lift(mailed, holdout)
    return {
        "groups": groups,
        "incremental_revenue": absolute.as_dict(digits=exponent, scale=scale * mailed.recipients),
        "revenue_per_customer": {**absolute.as_dict(digits=4, scale=scale), "relative": relative.as_dict()},
        "buyer_rate": {**rate.as_dict(), "relative": rate_relative.as_dict()},
        "method": "95 % intervals: Welch (revenue per customer; incremental revenue = that × mailed customers), "
                  "Newcombe hybrid score (buyer rate), delta method on the log ratio (relative)",
    }
