"""Referrals: customer A shares a code, customer B's first order uses it.

B gets the friend's discount at the checkout (the code gives it). When B's paid
order arrives, the referral is judged (fraud checks) and, if accepted, waits as
*pending* until the order has outlived the return window; then A gets the reward,
unless B's order was cancelled or fully refunded by then. Every decision, a
rejection too, is kept with its reason.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Optional

from chalicelib.domain.email_address import normalize_email
from chalicelib.domain.loyalty.account import Account, add_months
from chalicelib.domain.loyalty.codes import REFERRAL_PREFIX
from chalicelib.domain.loyalty.order_record import CANCELLED, PAID, OrderRecord
from chalicelib.domain.platform_events import Order, ShippingAddress
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.money import to_minor

PENDING, REJECTED, REWARDED, VOID = "pending", "rejected", "rewarded", "void"

# Rejection reasons (kept on the referral record, and in the webhook's answer).
SELF_REFERRAL = "self_referral"
SAME_ADDRESS = "same_shipping_address"
EXISTING_CUSTOMER = "existing_customer"
ALREADY_REFERRED = "already_referred"
MONTHLY_CAP = "monthly_cap"
PROGRAM_OFF = "referrals_disabled"

_GMAIL = {"gmail.com", "googlemail.com"}


def fold_email(email: str) -> str:
    """One spelling per mailbox: lowercased, ``+tag`` dropped; Gmail's dots dropped and
    googlemail.com read as gmail.com (both deliver to the same mailbox)."""
    local, _, domain = normalize_email(email).rpartition("@")
    if not local:
        return email.strip().lower()
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def address_key(address: Optional[ShippingAddress]) -> Optional[str]:
    """A hash of the normalized shipping address (street, city, zip, country; case and
    spacing ignored), so two orders to one door match without storing the address."""
    if address is None:
        return None
    # str.split() and the regex's \s know the same whitespace (Py_UNICODE_ISSPACE): runs of it as one space
    parts = [" ".join((part or "").split()).casefold()
             for part in (address.address1, address.city, address.zip, address.country)]
    if not parts[0]:
        return None
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def referral_code_of(order: Order) -> Optional[str]:
    """The referral code an order arrived with: among its discount codes, else from the
    platform's other places (note attributes, landing page, order meta)."""
    for code in order.discount_codes:
        if code.strip().upper().startswith(REFERRAL_PREFIX + "-"):
            return code.strip().upper()
    if order.referral_code and order.referral_code.strip().upper().startswith(REFERRAL_PREFIX + "-"):
        return order.referral_code.strip().upper()
    return None


@dataclass
class Referral:
    """One referee's referral (at most one per referee)."""

    referee_id: str
    referrer_id: str
    code: str
    order_id: str
    status: str
    created_at: datetime
    reason: Optional[str] = None
    due_on: Optional[date] = None
    reward_points: int = 0
    reward_minor: int = 0
    settled_at: Optional[datetime] = None
    month: str = ""
    version: int = 0


def judge(*, referee: Account, referee_email: str, referee_address: Optional[str], was_customer: bool,
          referrer: Optional[Account], accepted_this_month: int, rules: ProgramRules) -> Optional[str]:
    """Why this referral is refused, or None when it stands."""
    if not rules.referral.enabled:
        return PROGRAM_OFF
    if referrer is None or referrer.customer_id == referee.customer_id:
        return SELF_REFERRAL
    if referrer.email and fold_email(referrer.email) == fold_email(referee_email):
        return SELF_REFERRAL
    if referee_address and referee_address in referrer.address_keys:
        return SAME_ADDRESS
    if referee.referred_by:
        return ALREADY_REFERRED
    if was_customer:
        return EXISTING_CUSTOMER
    if accepted_this_month >= rules.referral.monthly_cap:
        return MONTHLY_CAP
    return None


def open_referral(*, referee: Account, referrer_id: str, code: str, order_id: str, reason: Optional[str],
                  paid_at: datetime, now: datetime, rules: ProgramRules, exponent: int) -> Referral:
    """The referral record of a referee's first paid order: pending until the return
    window has passed, or rejected with its reason."""
    month = f"{now.year:04d}-{now.month:02d}"
    if reason:
        return Referral(referee.customer_id, referrer_id, code, order_id, REJECTED, now, reason=reason, month=month)
    referee.referred_by = referrer_id
    reward = rules.referral
    return Referral(referee.customer_id, referrer_id, code, order_id, PENDING, now,
                    # An order delivered late is never due in the past (the job has moved on).
                    due_on=max((paid_at + timedelta(days=reward.return_window_days)).date(), now.date()),
                    reward_points=reward.reward_points,
                    reward_minor=to_minor(reward.reward_money, exponent), month=month)


def settle(referral: Referral, order: Optional[OrderRecord], referrer: Account, rules: ProgramRules,
           today: date, now: datetime) -> Optional[dict]:
    """Reward the referrer once the return window has passed; a cancelled or fully
    refunded order voids the referral. Returns the e-mail's data when rewarded, an empty
    dict when voided (no e-mail), None when nothing is due yet."""
    if referral.status != PENDING or referral.due_on is None or referral.due_on > today:
        return None
    referral.settled_at = now
    if order is None or order.status == CANCELLED or (order.status == PAID and order.fully_refunded) \
            or order.status != PAID:
        referral.status, referral.reason = VOID, "order_refunded_or_cancelled"
        return {}
    referral.status = REWARDED
    cause = f"referral:{referral.referee_id}"
    if referral.reward_points:
        referrer.earn(referral.reward_points, lot_id=f"referral-{referral.referee_id}", cause=cause, now=now,
                      expires_at=add_months(now, rules.points_validity_months), kind="bonus",
                      detail={"referee_order": referral.order_id})
    if referral.reward_minor:
        referrer.return_cashback(referral.reward_minor, kind="cashback", cause=cause, now=now,
                                 detail={"referee_order": referral.order_id})
    return {"points": referral.reward_points, "cashback_minor": referral.reward_minor}
