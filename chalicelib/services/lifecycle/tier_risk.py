"""Telling customers their rolling-period tier will drop unless they spend a little more.

Profiles carry ``tier_review_on`` (index by_due_day, ``TIERREVIEW#{shop}#{day}``),
set whenever the tier is refreshed: the job reads only the customers due today
(and yesterday, for a missed run), decides in the domain, and commits the
account with the e-mail's outbox message in one transaction, so a drop is
warned about once however often the job runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.domain.shops.shop import Shop
from chalicelib.domain.loyalty.tier_risk import due_warning, mark_warned, review_day, warning_message
from chalicelib.services.lifecycle.customer_changes import BUSY, COMMITTED, change_customer
from chalicelib.store.loyalty.repository import LoyaltyRepository

CATCH_UP_DAYS = 1


@dataclass
class TierRiskReport:
    customers_read: int = 0
    warnings_queued: int = 0
    rescheduled: int = 0
    skipped: list[str] = field(default_factory=list)


def send_tier_risk_warnings(deps, shop: Shop, now: datetime) -> TierRiskReport:
    report = TierRiskReport()
    if shop.program.tier_period != "rolling_12_months":
        return report
    repo = deps.repos.loyalty(shop.shop_id)
    today = now.date()
    due = {customer_id for late in range(CATCH_UP_DAYS, -1, -1)
           for customer_id in repo.customers_due_tier_review((today - timedelta(days=late)).isoformat())}
    for customer_id in sorted(due):
        _review(deps, repo, shop, customer_id, now, report)
    return report


def _review(deps, repo: LoyaltyRepository, shop: Shop, customer_id: str, now: datetime, report: TierRiskReport) -> None:
    rules, exponent = shop.program, shop.currency_exponent

    def review(account):
        drop = due_warning(account, rules, now, exponent)
        if drop is not None:
            mark_warned(account, drop)
            return [warning_message(shop.shop_id, customer_id, drop, now.isoformat())]
        review_on = review_day(account, rules, now, exponent)
        if review_on == account.tier_review_on:
            return None
        account.tier_review_on = review_on  # moved on (or no drop ahead): index it on its new day
        return []

    change = change_customer(deps, repo, customer_id, now, review, with_lots=False)
    report.customers_read += change.reads
    if change.status == COMMITTED:
        if change.messages:
            report.warnings_queued += 1
        else:
            report.rescheduled += 1
    elif change.status == BUSY:
        report.skipped.append(customer_id)
