"""The rolling tier window: spend paid in the last 12 months, counted to the day.

An order's spend counts from the day it was paid (its UTC date) and leaves the window on the
same day ``ROLLING_MONTHS`` months later (``leaves_window``; 29 February leaves on 28 February).
A refund takes spend back from the order's paid day, never from the day it arrives, so the
window always holds exactly what the customer's orders minus their refunds add up to.

The account keeps one bucket per paid day (``{day: minor units}``). Buckets are dropped once
they leave the window, so a customer buying every day for years holds at most about 366 of
them. Spend paid before the window (an import, a very late webhook) never gets a bucket, and a
refund of it takes nothing from the window; both still count in lifetime spend.

Accounts written before the window was counted by day kept one bucket per calendar month;
``days_from_months`` puts each month's spend on the month's first day, which leaves the window
on the first day of the same month a year later: exactly when the month buckets let it go. So
an existing account keeps its tier and its coming drop date; only orders paid from then on are
counted to their day. The order records of those months say the same (``legacy_month_day``),
so a later refund of such an order takes its spend from the bucket that holds it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Mapping

from chalicelib.domain.months import add_months

ROLLING_MONTHS = 12


def paid_day(paid_at: datetime) -> date:
    """The day an order was paid on, in UTC like every day the jobs work on (platforms send
    shop-local offsets: 23:30 at +03:00 is the same UTC day as 20:30Z)."""
    return paid_at.astimezone(timezone.utc).date()


@lru_cache(maxsize=4096)  # every webhook and review asks about the same ~366 days
def leaves_window(paid_day: date) -> date:
    """The first day on which spend paid on ``paid_day`` no longer counts."""
    return add_months(paid_day, ROLLING_MONTHS)


@lru_cache(maxsize=1024)
def first_counted_day(today: date) -> date:
    """The oldest paid day still counted ``today``. ``leaves_window`` never decreases with the
    paid day, so the window is the days from here to today."""
    day = add_months(today, -ROLLING_MONTHS)
    while leaves_window(day) <= today:
        day += timedelta(days=1)
    return day


def counts_on(paid_day: date, today: date) -> bool:
    return first_counted_day(today) <= paid_day <= today


def window_spend(buckets: Mapping[date, int], today: date) -> int:
    start = first_counted_day(today)
    return sum(minor for day, minor in buckets.items() if start <= day <= today)


def add_to_bucket(buckets: dict[date, int], paid_day: date, minor: int, today: date) -> None:
    """Add (or, negative, take back) spend on its paid day, if that day is still in the window."""
    if today >= leaves_window(paid_day):
        return  # before the window: counts toward lifetime spend only
    if minor < 0 and paid_day not in buckets:
        return  # its bucket already left the window (a run just past midnight pruned it)
    total = buckets.get(paid_day, 0) + minor
    if total > 0:
        buckets[paid_day] = total
    else:
        buckets.pop(paid_day, None)


def prune(buckets: dict[date, int], today: date) -> None:
    for day in [day for day in buckets if today >= leaves_window(day)]:
        del buckets[day]


def exits(buckets: Mapping[date, int], today: date) -> list[tuple[date, int]]:
    """The coming days on which counted spend leaves the window, with how much leaves, in order."""
    leaving: dict[date, int] = {}
    for day, minor in buckets.items():
        if counts_on(day, today):
            leaving[leaves_window(day)] = leaving.get(leaves_window(day), 0) + minor
    return sorted(leaving.items())


def legacy_month_day(month: str) -> date:
    """The day a calendar-month bucket (``"2025-03"``) of an older account stands for."""
    year, month_number = month.split("-")
    return date(int(year), int(month_number), 1)


def days_from_months(spend_by_month: Mapping[str, int]) -> dict[date, int]:
    return {legacy_month_day(month): int(minor) for month, minor in spend_by_month.items() if int(minor) > 0}


def merged(*bucket_sets: Iterable[tuple[date, int]]) -> dict[date, int]:
    total: dict[date, int] = {}
    for buckets in bucket_sets:
        for day, minor in buckets:
            total[day] = total.get(day, 0) + int(minor)
    return {day: minor for day, minor in total.items() if minor > 0}
