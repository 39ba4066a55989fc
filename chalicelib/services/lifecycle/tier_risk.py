"""Telling customers their rolling-period tier will drop unless they spend a little more,
and lowering the tier on the day it drops.

Profiles carry ``tier_review_on`` (index by_due_day, ``TIERREVIEW#{shop}#{day}``),
set whenever the tier is refreshed: the job reads only the customers due today
(and yesterday, for a missed run), decides in the domain, and commits the
account with the e-mail's outbox message in one transaction, so a drop is
warned about once however often the job runs. After the warning the customer's review day
is the drop day itself: that day's run stores the lower tier (nothing else would until the
customer's next order) and looks for the next drop.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.domain.shops.shop import Shop
from chalicelib.domain.loyalty.tier_risk import due_warning, mark_warned, review_day, warning_message
from chalicelib.services.lifecycle.customer_changes import BUSY, COMMITTED, change_customer
from chalicelib.services.lifecycle.job_days import complete, days_to_scan, shop_made_on
from chalicelib.store.loyalty.repository import LoyaltyRepository

JOB = "tier_risk"


@dataclass
class TierRiskReport:
    customers_read: int = 0
    warnings_queued: int = 0
    rescheduled: int = 0
    tiers_changed: int = 0
    skipped: list[str] = field(default_factory=list)


def send_tier_risk_warnings(deps, shop: Shop, now: datetime) -> TierRiskReport:
    report = TierRiskReport()
    if shop.program.tier_period != "rolling_12_months":
        return report
    repo = deps.repos.loyalty(shop.shop_id)
    # Every review day since the last completed run (a run missed for a week catches up; the
    # domain skips a drop that is no longer ahead); the first run looks back to the shop's start.
    due = {customer_id for day in days_to_scan(deps, shop.shop_id, JOB, now, not_before=shop_made_on(shop, now))
           for customer_id in repo.customers_due_tier_review(day)}
    for customer_id in sorted(due):
        _review(deps, repo, shop, customer_id, now, report)
    if not report.skipped:
        complete(deps, shop.shop_id, JOB, now)
    return report


def _review(deps, repo: LoyaltyRepository, shop: Shop, customer_id: str, now: datetime, report: TierRiskReport) -> None:
    rules, exponent = shop.program, shop.currency_exponent

    tier_changed = False

    def review(account):
        nonlocal tier_changed
        tier_before = account.tier_name
        account.refresh_tier(rules, now, exponent)  # spend that left the window today takes its tier with it
        tier_changed = account.tier_name != tier_before
        drop = due_warning(account, rules, now, exponent)
        if drop is not None:
            mark_warned(account, drop)
            return [warning_message(shop.shop_id, customer_id, drop, now.isoformat())]
        review_on = review_day(account, rules, now, exponent)
        if review_on == account.tier_review_on and not tier_changed:
            return None
        account.tier_review_on = review_on  # moved on (or no drop ahead): index it on its new day
        return []

    change = change_customer(deps, repo, customer_id, now, review, with_lots=False)
    report.customers_read += change.reads
    if change.status == COMMITTED:
        report.tiers_changed += int(tier_changed)
        if change.messages:
            report.warnings_queued += 1
        else:
            report.rescheduled += 1
    elif change.status == BUSY:
        report.skipped.append(customer_id)
