"""Warning customers before their points lapse (shop setting expiry_warning_days).

Days here are the shop's: the job's days, a lot's last day (which the e-mail names and the ledger
honours to its end: domain/loyalty/lapse.py) and the days in between."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.lifecycle.expiry_warnings import lots_to_warn, warning_message
from chalicelib.domain.loyalty.lapse import has_lapsed, last_day, utc_days_of
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
    zone = ZoneInfo(shop.timezone)
    local_now = now.astimezone(zone)  # the job's days are the shop's
    for days_before in shop.expiry_warning_days:
        # Every warning day since the last completed run, so a missed day is caught up (the first
        # run looks back to the shop's start). A warning that is no longer true is skipped: the lot has lapsed, or
        # a closer warning (7 days after a missed 30) now covers it.
        closer = [d for d in shop.expiry_warning_days if d < days_before]
        covered_through = local_now.date() + timedelta(days=max(closer)) if closer else None
        skipped_before = len(report.skipped)
        first_days = [date.fromisoformat(day) + timedelta(days=days_before)
                      for day in days_to_scan(deps, shop.shop_id, job_name(days_before), local_now,
                                              not_before=shop_made_on(shop, local_now))]
        # The index is by the UTC day of the expiry instant: a shop's day spans one or two of those.
        index_days = sorted({utc_day.isoformat() for day in first_days for utc_day in utc_days_of(day, zone)})
        due: dict[date, set[str]] = {}
        for lot in repo.lots_expiring_on(index_days):
            report.index_items_read += 1
            day = last_day(lot.expires_at, zone)
            if day not in first_days or days_before in lot.warned or has_lapsed(lot.expires_at, zone, now):
                continue
            if covered_through is not None and day <= covered_through:
                continue
            due.setdefault(day, set()).add(lot.customer_id)
        for first_day in sorted(due):
            for customer_id in sorted(due[first_day]):
                _warn(deps, repo, shop, customer_id, days_before, first_day, now, report)
        if len(report.skipped) == skipped_before:
            complete(deps, shop.shop_id, job_name(days_before), local_now)
    return report


def _warn(deps, repo, shop: Shop, customer_id: str, days_before: int, first_day, now: datetime,
          report: WarningReport) -> None:
    def warn(account):
        lots = lots_to_warn(account.lots, days_before, first_day, shop.timezone)
        if not lots:
            return None
        account.mark_expiry_warned([lot.lot_id for lot in lots], days_before)
        return [warning_message(shop.shop_id, customer_id, lots, days_before, now.isoformat(), shop.timezone)]

    change = change_customer(deps, repo, customer_id, now, warn)
    report.customers_read += change.reads
    if change.status == COMMITTED:
        report.warnings_queued += 1
    elif change.status == BUSY:
        report.skipped.append(customer_id)
