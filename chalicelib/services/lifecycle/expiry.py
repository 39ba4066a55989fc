"""Expiring points whose validity has ended: at the end of their last day on the shop's clock
(domain/loyalty/lapse.py).

Reads only what is due: the lots index by expiry day gives the customers with
lots ending on the days in question, and only those accounts are loaded. Each
customer's expiry commits like any other change (one conditional transaction),
so a run that is repeated, or races an order, never expires a lot twice.

The index day is the UTC day of a lot's stored expiry instant; the lot lapses when the shop's
day of that instant ends, up to a day and a half later (UTC+14). So a day counts as done only
once every lot on it has lapsed in any zone (``SETTLED_AFTER``): each run looks again at the
last two days, whose lots that already lapsed are gone from the index (an empty Query each).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.loyalty.lapse import SETTLED_AFTER, has_lapsed
from chalicelib.services.lifecycle.job_days import complete, days_to_scan
from chalicelib.services.lifecycle.customer_changes import BUSY, COMMITTED, change_customer

JOB = "expiry"


@dataclass
class ExpiryReport:
    customers_read: int = 0
    index_items_read: int = 0
    customers_expired: int = 0
    points_expired: int = 0
    skipped: list[str] = field(default_factory=list)


def expire_points(deps, shop_id: str, now: datetime, zone: str) -> ExpiryReport:
    """``zone``: the shop's time zone, whose days the lots are honoured through."""
    repo = deps.repos.loyalty(shop_id)
    report = ExpiryReport()
    # From the last completed day: expired lots are deleted and leave the index, so
    # days already done cost one empty Query each.
    days = days_to_scan(deps, shop_id, JOB, now)
    due: set[str] = set()
    for lot in repo.lots_expiring_on(days):
        report.index_items_read += 1
        if has_lapsed(lot.expires_at, zone, now):
            due.add(lot.customer_id)
    for customer_id in sorted(due):
        expired = []

        def expire(account):
            expired.append(account.expire_due(now, zone))
            return [] if expired[-1] else None

        change = change_customer(deps, repo, customer_id, now, expire)
        report.customers_read += change.reads
        if change.status == COMMITTED:
            report.customers_expired += 1
            report.points_expired += expired[-1]
        elif change.status == BUSY:
            report.skipped.append(customer_id)  # the next run takes it
    if not report.skipped:
        complete(deps, shop_id, JOB, now - SETTLED_AFTER)
    return report
