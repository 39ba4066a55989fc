"""Warning customers before their points lapse (shop setting expiry_warning_days)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from chalicelib.domain.lifecycle.expiry_warnings import lots_to_warn, warning_message
from chalicelib.domain.shops.shop import Shop
from chalicelib.services.lifecycle.customer_changes import BUSY, COMMITTED, change_customer

from chalicelib.services.lifecycle.job_days import complete, days_to_scan, shop_made_on


def job_name(days_before: int) -> str:
    return f"expiry_warning_{days_before}"


@dataclass
class WarningReport:
    index_items_read: int = 0
    customers_read: int = 0
    warnings_queued: int = 0
    skipped: list[str] = field(default_factory=list)


def send_expiry_warnings(deps, shop: Shop, now: datetime) -> WarningReport:
    repo = deps.repos.loyalty(shop.shop_id)
    report = WarningReport()
    for days_before in shop.expiry_warning_days:
        # Every warning day since the last completed run, so a missed day is caught up (the first
        # run looks back to the shop's start). A warning that is no longer true is skipped: the lot has lapsed, or
        # a closer warning (7 days after a missed 30) now covers it.
        closer = [d for d in shop.expiry_warning_days if d < days_before]
        covered_after = now + timedelta(days=max(closer)) if closer else None
        skipped_before = len(report.skipped)
        for day in days_to_scan(deps, shop.shop_id, job_name(days_before), now,
                               not_before=shop_made_on(shop, now)):
            first_day = date.fromisoformat(day) + timedelta(days=days_before)
            due = set()
            for lot in repo.lots_expiring_on([first_day.isoformat()]):
                report.index_items_read += 1
                if days_before in lot.warned or lot.expires_at <= now:
                    continue
                if covered_after is not None and lot.expires_at <= covered_after:
                    continue
                due.add(lot.customer_id)
            for customer_id in sorted(due):
                _warn(deps, repo, shop, customer_id, days_before, first_day, now, report)
        if len(report.skipped) == skipped_before:
            complete(deps, shop.shop_id, job_name(days_before), now)
    return report


def _warn(deps, repo, shop: Shop, customer_id: str, days_before: int, first_day, now: datetime,
          report: WarningReport) -> None:
    def warn(account):
        lots = lots_to_warn(account.lots, days_before, first_day)
        if not lots:
            return None
        account.mark_expiry_warned([lot.lot_id for lot in lots], days_before)
        return [warning_message(shop.shop_id, customer_id, lots, days_before, now.isoformat())]

    change = change_customer(deps, repo, customer_id, now, warn)
    report.customers_read += change.reads
    if change.status == COMMITTED:
        report.warnings_queued += 1
    elif change.status == BUSY:
        report.skipped.append(customer_id)
