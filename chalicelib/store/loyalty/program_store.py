"""Items of the rest of the program: referrals (and the monthly cap), review bonuses,
cashback withdrawals, membership reminders. Each write goes into a ``Change`` as an
(item, condition) pair, so it commits with the ledger entries it belongs to."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Optional

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.loyalty.referrals import PENDING, Referral
from chalicelib.domain.loyalty.reviews import ReviewBonus
from chalicelib.store import keys
from chalicelib.store.models import (
    MembershipItem,
    ReferralCountItem,
    ReferralItem,
    ReviewBonusItem,
    WithdrawalItem,
    over_version,
    stored_version,
)


# -- referrals ---------------------------------------------------------------------------
def load_referral(shop_id: str, referee_id: str) -> Optional[Referral]:
    try:
        item = ReferralItem.get(keys.referral_pk(shop_id, referee_id), keys.REFERRAL_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return _referral_from_item(item)


def referral_write(shop_id: str, referral: Referral) -> tuple:
    state = {"code": referral.code, "order_id": referral.order_id, "created_at": keys.iso(referral.created_at),
             "reason": referral.reason, "due_on": referral.due_on.isoformat() if referral.due_on else None,
             "reward_points": referral.reward_points, "reward_minor": referral.reward_minor,
             "settled_at": keys.iso(referral.settled_at) if referral.settled_at else None, "month": referral.month}
    item = ReferralItem(keys.referral_pk(shop_id, referral.referee_id), keys.REFERRAL_SK,
                        referrer_id=referral.referrer_id, status=referral.status, state=state)
    if referral.status == PENDING and referral.due_on:
        item.gsi1pk = keys.referral_due_pk(shop_id, referral.due_on.isoformat())
        item.gsi1sk = referral.referee_id
    return over_version(item, referral.version), None  # the version condition comes with the item


def referrals_due_on(shop_id: str, days: Iterable[str]) -> Iterable[Referral]:
    for day in days:
        for item in ReferralItem.by_due_day.query(keys.referral_due_pk(shop_id, day)):
            yield _referral_from_item(item)


def _referral_from_item(item: ReferralItem) -> Referral:
    state = item.state
    return Referral(
        referee_id=item.pk.split("#", 2)[2], referrer_id=item.referrer_id, code=state["code"],
        order_id=state["order_id"], status=item.status, created_at=keys.parse_iso(state["created_at"]),
        reason=state.get("reason"), due_on=date.fromisoformat(state["due_on"]) if state.get("due_on") else None,
        reward_points=int(state.get("reward_points") or 0), reward_minor=int(state.get("reward_minor") or 0),
        settled_at=keys.parse_iso(state["settled_at"]) if state.get("settled_at") else None,
        month=state.get("month", ""), version=stored_version(item))


@dataclass
class ReferralCount:
    referrer_id: str
    month: str
    n: int
    exists: bool


def load_referral_count(shop_id: str, referrer_id: str, month: str) -> ReferralCount:
    try:
        item = ReferralCountItem.get(keys.customer_pk(shop_id, referrer_id), keys.referral_count_sk(month),
                                     consistent_read=True)
    except DoesNotExist:
        return ReferralCount(referrer_id, month, 0, False)
    return ReferralCount(referrer_id, month, int(item.n), True)


def referral_count_write(shop_id: str, count: ReferralCount) -> tuple:
    """One more accepted referral, conditioned on the count read: two friends' orders
    racing for the referrer's last place this month cannot both take it."""
    item = ReferralCountItem(keys.customer_pk(shop_id, count.referrer_id), keys.referral_count_sk(count.month),
                             n=count.n + 1)
    condition = ReferralCountItem.n == count.n if count.exists else ReferralCountItem.pk.does_not_exist()
    return item, condition


# -- reviews -------------------------------------------------------------------------------
def load_review_bonus(shop_id: str, customer_id: str, product: str) -> Optional[ReviewBonus]:
    try:
        item = ReviewBonusItem.get(keys.customer_pk(shop_id, customer_id), keys.review_sk(product),
                                   consistent_read=True)
    except DoesNotExist:
        return None
    return ReviewBonus(product, item.review_id, int(item.points), item.status, stored_version(item))


def review_bonus_write(shop_id: str, customer_id: str, bonus: ReviewBonus) -> tuple:
    item = ReviewBonusItem(keys.customer_pk(shop_id, customer_id), keys.review_sk(bonus.product),
                           review_id=bonus.review_id, points=bonus.points, status=bonus.status)
    return over_version(item, bonus.version), None  # the version condition comes with the item


# -- membership reminders ---------------------------------------------------------------
def members_to_remind_on(shop_id: str, days: Iterable[str]) -> Iterable[str]:
    for day in days:
        for item in MembershipItem.by_due_day.query(keys.membership_due_pk(shop_id, day)):
            yield item.customer_id


# -- withdrawals --------------------------------------------------------------------------
@dataclass
class Withdrawal:
    withdrawal_id: str
    customer_id: str
    email: Optional[str]
    amount_minor: int
    status: str  # pending | confirmed | rejected
    created_at: datetime
    decided_at: Optional[datetime] = None
    note: Optional[str] = None
    version: int = 0


def load_withdrawal(shop_id: str, withdrawal_id: str) -> Optional[Withdrawal]:
    try:
        item = WithdrawalItem.get(keys.withdrawal_pk(shop_id, withdrawal_id), keys.WITHDRAWAL_SK,
                                  consistent_read=True)
    except DoesNotExist:
        return None
    return _withdrawal_from_item(item)


def withdrawal_write(shop_id: str, withdrawal: Withdrawal) -> tuple:
    item = WithdrawalItem(keys.withdrawal_pk(shop_id, withdrawal.withdrawal_id), keys.WITHDRAWAL_SK,
                          customer_id=withdrawal.customer_id, email=withdrawal.email,
                          amount_minor=withdrawal.amount_minor, status=withdrawal.status,
                          created_at=keys.iso(withdrawal.created_at),
                          decided_at=keys.iso(withdrawal.decided_at) if withdrawal.decided_at else None,
                          note=withdrawal.note,
                          gsi1pk=keys.withdrawals_pk(shop_id, withdrawal.status),
                          gsi1sk=f"{keys.iso(withdrawal.created_at)}#{withdrawal.withdrawal_id}")
    return over_version(item, withdrawal.version), None  # the version condition comes with the item


def withdrawals_page(shop_id: str, status: str, limit: int, after: Optional[str]) -> tuple[list[Withdrawal], Optional[str]]:
    """One page of a shop's withdrawals in ``status``, oldest first (index Query)."""
    start = None
    if after:
        withdrawal_id = after.split("#", 1)[1]
        start = {"gsi1pk": {"S": keys.withdrawals_pk(shop_id, status)}, "gsi1sk": {"S": after},
                 "pk": {"S": keys.withdrawal_pk(shop_id, withdrawal_id)}, "sk": {"S": keys.WITHDRAWAL_SK}}
    result = WithdrawalItem.by_due_day.query(keys.withdrawals_pk(shop_id, status), limit=limit, page_size=limit,
                                             last_evaluated_key=start)
    rows = [_withdrawal_from_item(item) for item in result]
    last = result.last_evaluated_key
    return rows, last["gsi1sk"]["S"] if last else None


def _withdrawal_from_item(item: WithdrawalItem) -> Withdrawal:
    return Withdrawal(item.pk.split("#", 2)[2], item.customer_id, item.email, int(item.amount_minor), item.status,
                      keys.parse_iso(item.created_at),
                      keys.parse_iso(item.decided_at) if item.decided_at else None, item.note, stored_version(item))
