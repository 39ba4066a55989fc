"""The daily occasions, per shop in its own time zone: birthdays and win-back.

Each reads only the customers concerned, through the sparse profile indexes
(birthday month-day, last-order day), and commits the customer's change with
the e-mail's outbox message in one transaction, so nothing is given or sent
twice however often the job runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Optional
from zoneinfo import ZoneInfo

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.lifecycle.occasions import birthday_keys, grant_birthday, winback_due
from chalicelib.domain.shops.shop import Shop
from chalicelib.services.lifecycle.customer_changes import BUSY, COMMITTED, change_customer
from chalicelib.store.loyalty.repository import LoyaltyRepository



@dataclass
class OccasionReport:
    customers_read: int = 0
    birthdays: int = 0
    winbacks: int = 0
    skipped: list[str] = field(default_factory=list)


def run_occasions(deps, shop: Shop, now: datetime) -> OccasionReport:
    repo = deps.repos.loyalty(shop.shop_id)
    zone = ZoneInfo(shop.timezone)
    today = now.astimezone(zone).date()
    report = OccasionReport()
    rules = shop.program

    # Yesterday too: a missed run still gives the bonus (a day late), never twice.
    birthday_customers = {cid for day in (today - timedelta(days=1), today)
                          for key in birthday_keys(day) for cid in repo.customers_with_birthday(key)}
    for customer_id in sorted(birthday_customers):
        if _act(deps, repo, shop, customer_id, now, report,
                lambda account: grant_birthday(account, rules, _celebrated_on(account, today), now),
                "birthday", f"birthday:{customer_id}:{today.year}"):
            report.birthdays += 1

    lapsed_days = (today - timedelta(days=rules.winback_after_days + late) for late in (1, 0))
    lapsed = {cid for day in lapsed_days for cid in repo.customers_with_last_order_on(day.isoformat())}
    for customer_id in sorted(lapsed):
        if _act(deps, repo, shop, customer_id, now, report, lambda account: winback_due(account, rules, today, zone),
                "winback", None):
            report.winbacks += 1
    return report


def _celebrated_on(account: Account, today: date) -> date:
    """Yesterday's birthday (missed run) is still given, dated today for the yearly check."""
    if account.birthday and account.birthday.strftime("%m-%d") in birthday_keys(today - timedelta(days=1)):
        return today - timedelta(days=1)
    return today


def _act(deps, repo: LoyaltyRepository, shop: Shop, customer_id: str, now: datetime, report: OccasionReport,
         decide: Callable[[Account], Optional[dict]], template: str, key: Optional[str]) -> bool:
    def occasion(account):
        data = decide(account)
        if data is None:
            return None
        idempotency_key = key or f"{template}:{customer_id}:{account.last_order_at.date().isoformat()}"
        return [{"idempotency_key": idempotency_key, "shop_id": shop.shop_id, "customer_id": customer_id,
                 "template": template, "category": "marketing", "campaign_id": None,
                 "created_at": now.isoformat(), "data": data}]

    change = change_customer(deps, repo, customer_id, now, occasion)
    report.customers_read += change.reads
    if change.status == BUSY:
        report.skipped.append(customer_id)
    return change.status == COMMITTED
