"""Warning customers before their points lapse (shop setting expiry_warning_days)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.domain.lifecycle.expiry_warnings import lots_to_warn, warning_message
from chalicelib.domain.shops.shop import Shop
from chalicelib.services.lifecycle.customer_changes import BUSY, COMMITTED, change_customer

# A missed run is caught up the next day (the warning then comes a day late).
CATCH_UP_DAYS = 1


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
        for late in range(CATCH_UP_DAYS, -1, -1):
            first_day = (now + timedelta(days=days_before - late)).date()
            due = set()
            for lot in repo.lots_expiring_on([first_day.isoformat()]):
                report.index_items_read += 1
                if days_before not in lot.warned and lot.expires_at > now:
                    due.add(lot.customer_id)
            for customer_id in sorted(due):
                _warn(deps, repo, shop, customer_id, days_before, first_day, now, report)
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
