"""Due-date jobs of the rest of the program: referral rewards once the friend's order
has outlived the return window, and membership reminders before the end.

Each reads only what is due, through the sparse ``by_due_day`` index, and commits
the customer's change with its e-mail (and the referral record) in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional

from chalicelib.domain.loyalty import membership
from chalicelib.domain.loyalty import referrals
from chalicelib.domain.shops.shop import Shop
from chalicelib.mail import outbox
from chalicelib.services.lifecycle.customer_changes import BUSY, COMMITTED, change_customer
from chalicelib.services.lifecycle.job_days import complete, days_to_scan
from chalicelib.services.loyalty.program_effects import message, share_link
from chalicelib.services.retries import retry_on_conflict
from chalicelib.store.loyalty import program_store
from chalicelib.store.loyalty.repository import Change, LoyaltyRepository

REFERRAL_JOB, MEMBERSHIP_JOB = "referral_rewards", "membership_reminders"
ATTEMPTS = 5


def _shop_created(shop: Shop) -> Optional[date]:
    """Referrals and reminders are never due before they are made (their due days are
    never in the past), so nothing is due before the shop existed."""
    try:
        return datetime.fromisoformat(shop.created_at.replace("Z", "+00:00")).date() if shop.created_at else None
    except ValueError:
        return None


@dataclass
class ReferralReport:
    rewarded: int = 0
    voided: int = 0
    skipped: list[str] = field(default_factory=list)


def reward_referrals(deps, shop: Shop, now: datetime) -> ReferralReport:
    report = ReferralReport()
    repo = deps.repos.loyalty(shop.shop_id)
    days = days_to_scan(deps, shop.shop_id, REFERRAL_JOB, now, _shop_created(shop))
    for due in list(program_store.referrals_due_on(shop.shop_id, days)):
        outcome = _settle(deps, shop, repo, due.referee_id, now)
        if outcome == referrals.REWARDED:
            report.rewarded += 1
        elif outcome == referrals.VOID:
            report.voided += 1
        elif outcome == BUSY:
            report.skipped.append(due.referee_id)
    if not report.skipped:
        complete(deps, shop.shop_id, REFERRAL_JOB, now)
    return report


def _settle(deps, shop: Shop, repo: LoyaltyRepository, referee_id: str, now: datetime) -> str:
    def attempt() -> str:
        referral = program_store.load_referral(shop.shop_id, referee_id)
        if referral is None or referral.status != referrals.PENDING:
            return "done"
        referrer = repo.load_profile(referral.referrer_id)
        if referrer is None:
            return "missing"
        order = repo.load_order(referral.order_id)
        data = referrals.settle(referral, order, referrer, shop.program, now.date(), now)
        if data is None:
            return "not_due"
        messages = []
        if referral.status == referrals.REWARDED and not referrer.redacted:
            referee = repo.load_profile(referee_id)
            mail = {"points": data["points"], "share_url": share_link(shop, referrer.referral_code)
                    if referrer.referral_code else shop.storefront_url}
            if data["cashback_minor"]:
                mail["cashback_minor"] = data["cashback_minor"]
            if referee is not None and referee.first_name and not referee.redacted:
                mail["friend_first_name"] = referee.first_name
            messages.append(message(shop.shop_id, referrer.customer_id, "referral_reward",
                                    f"referral_reward:{referee_id}", mail, now))
        repo.commit(Change(account=referrer if referral.status == referrals.REWARDED else None, outbox=messages,
                           items=[program_store.referral_write(shop.shop_id, referral)]), now)
        outbox.publish(deps, messages)
        return referral.status

    return retry_on_conflict(attempt, attempts=ATTEMPTS, exhausted=lambda: BUSY)


@dataclass
class MembershipReport:
    reminded: int = 0
    skipped: list[str] = field(default_factory=list)


def remind_members(deps, shop: Shop, now: datetime) -> MembershipReport:
    report = MembershipReport()
    if not shop.program.membership.all_plans():
        return report
    repo = deps.repos.loyalty(shop.shop_id)
    days = days_to_scan(deps, shop.shop_id, MEMBERSHIP_JOB, now, _shop_created(shop))
    due = sorted(set(program_store.members_to_remind_on(shop.shop_id, days)))
    for customer_id in due:
        def decide(account, customer_id=customer_id):
            data = membership.remind(account, shop.program, now)
            if data is None:
                return None
            return [message(shop.shop_id, customer_id, "membership_reminder",
                            f"membership_reminder:{customer_id}:{data['member_until'][:10]}", data, now)]

        change = change_customer(deps, repo, customer_id, now, decide, with_lots=False)
        if change.status == COMMITTED:
            report.reminded += 1
        elif change.status == BUSY:
            report.skipped.append(customer_id)
    if not report.skipped:
        complete(deps, shop.shop_id, MEMBERSHIP_JOB, now)
    return report
