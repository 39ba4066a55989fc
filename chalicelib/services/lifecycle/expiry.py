"""Expiring points whose validity has ended.

Reads only what is due: the lots index by expiry day gives the customers with
lots ending on the days in question, and only those accounts are loaded. Each
customer's expiry commits like any other change (one conditional transaction),
so a run that is repeated, or races an order, never expires a lot twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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


def expire_points(deps, shop_id: str, now: datetime) -> ExpiryReport:
    repo = deps.repos.loyalty(shop_id)
    report = ExpiryReport()
    # From the last completed day: expired lots are deleted and leave the index, so
    # days already done cost one empty Query each.
    days = days_to_scan(deps, shop_id, JOB, now)
    due: set[str] = set()
    for lot in repo.lots_expiring_on(days):
        report.index_items_read += 1
        if lot.expires_at <= now:
            due.add(lot.customer_id)
    for customer_id in sorted(due):
        expired = []

        def expire(account):
            expired.append(account.expire_due(now))
            return [] if expired[-1] else None

        change = change_customer(deps, repo, customer_id, now, expire)
        report.customers_read += change.reads
        if change.status == COMMITTED:
            report.customers_expired += 1
            report.points_expired += expired[-1]
        elif change.status == BUSY:
            report.skipped.append(customer_id)  # the next run takes it
    if not report.skipped:
        complete(deps, shop_id, JOB, now)
    return report
