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
from chalicelib.services.lifecycle.job_days import complete, days_to_scan
from chalicelib.services.products.recommendations import recommendations_for
from chalicelib.store.loyalty.repository import LoyaltyRepository



BIRTHDAY_JOB, WINBACK_JOB = "birthday", "winback"
BIRTHDAY_LATE_DAYS = 7
# Win-backs one run queues at most (the marketing cap still applies per customer at sending).
WINBACK_BACKLOG_PER_RUN = 500


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

    local_now = now.astimezone(zone)  # the jobs' days are the shop's days

    # Every birthday since the last completed run (the first run: today), a week late at most:
    # a gift for a birthday long past is no longer a birthday gift. Once a year, whatever the runs.
    skipped = len(report.skipped)
    days = [date.fromisoformat(day) for day in days_to_scan(deps, shop.shop_id, BIRTHDAY_JOB, local_now,
                                                            not_before=today)]
    for day in [day for day in days if day >= today - timedelta(days=BIRTHDAY_LATE_DAYS)]:
        for customer_id in sorted({cid for key in birthday_keys(day) for cid in repo.customers_with_birthday(key)}):
            if _act(deps, repo, shop, customer_id, now, report,
                    lambda account, day=day: grant_birthday(account, rules, day, now),
                    "birthday", f"birthday:{customer_id}:{day.year}"):
                report.birthdays += 1
    if len(report.skipped) == skipped:
        complete(deps, shop.shop_id, BIRTHDAY_JOB, local_now)

    # Win-back: every last-order day that reached its lapse since the last completed run. The first
    # run starts today, unless the shop opts in to write to customers already lapsed when it starts
    # (then the look back of job_days), at most WINBACK_BACKLOG_PER_RUN a run: the rest the next runs.
    skipped = len(report.skipped)
    if not shop.sends_flow(WINBACK_JOB):  # switched off: none queued, and no backlog when it is switched on again
        complete(deps, shop.shop_id, WINBACK_JOB, local_now)
        return report
    backlog = shop.winback_already_lapsed
    scan = days_to_scan(deps, shop.shop_id, WINBACK_JOB, local_now, not_before=None if backlog else today)
    lapse = timedelta(days=rules.winback_after_days)
    # The index keys last orders by their UTC day; a shop's day spans two of them.
    index_days = sorted({(date.fromisoformat(day) - lapse + timedelta(days=shift)).isoformat()
                         for day in scan for shift in (-1, 0, 1)})
    lapsed = [cid for day in index_days for cid in repo.customers_with_last_order_on(day)]
    sent_now, paused = 0, False
    for customer_id in dict.fromkeys(lapsed):
        if sent_now >= WINBACK_BACKLOG_PER_RUN:
            paused = True
            break
        if _act(deps, repo, shop, customer_id, now, report,
                lambda account: _with_recommendations(deps, shop, account, now, winback_due(account, rules, today, zone)),
                "winback", None):
            report.winbacks += 1
            sent_now += 1
    if len(report.skipped) == skipped and not paused:
        complete(deps, shop.shop_id, WINBACK_JOB, local_now)
    return report


def _with_recommendations(deps, shop: Shop, account: Account, now: datetime, data: Optional[dict]) -> Optional[dict]:
    """A win-back shows what the customer may reorder and what goes with what they bought."""
    if data is None:
        return None
    found = recommendations_for(deps, shop, account.customer_id, now)
    return {**data, "recommendations": found} if found else data


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
