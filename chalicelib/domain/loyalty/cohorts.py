"""Cohort retention: customers grouped by the month of their first order, and the share of each
group that ordered again in each later month, members and non-members apart.

Plain rules over each customer's paid days (the spend the account keeps per paid day for the
rolling tier window, so at most the last 12 months). A customer is counted only when their whole
lifetime spend lies in those days (``whole_history_in``): then the earliest paid day is their
first order; an older customer's first order is not known and they are left out, not guessed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

SIDES = ("members", "non_members")


@dataclass(frozen=True)
class OrderHistory:
    paid_days: frozenset[date]  # days with spend (refunded days left out)
    member: bool  # in a tier now


def whole_history_in(spend_by_day: Mapping[date, int], lifetime_spend_minor: int) -> bool:
    """True when the day buckets hold every unit the customer ever spent (their first order too)."""
    return lifetime_spend_minor > 0 and sum(spend_by_day.values()) == lifetime_spend_minor


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def retention_table(histories: Iterable[OrderHistory], today: date) -> list[dict]:
    """One row per first-order month, oldest first: per side, the cohort's size and, for each
    month after it up to ``today``'s, the share (0..1, 4 digits) that ordered in that month."""
    cohorts: dict[str, dict[str, list[set[int]]]] = {}
    starts: dict[str, date] = {}
    for history in histories:
        days = sorted(history.paid_days)
        if not days:
            continue
        first = days[0]
        month = month_of(first)
        starts[month] = first.replace(day=1)
        side = "members" if history.member else "non_members"
        cohorts.setdefault(month, {s: [] for s in SIDES})[side].append(
            {months_between(first, day) for day in days[1:] if months_between(first, day) > 0})
    rows = []
    for month in sorted(cohorts):
        later = months_between(starts[month], today)
        row = {"cohort": month}
        for side in SIDES:
            members = cohorts[month][side]
            row[side] = {"customers": len(members),
                         "ordered_again": [round(sum(1 for m in members if k in m) / len(members), 4)
                                           if members else None for k in range(1, later + 1)]}
        rows.append(row)
    return rows
