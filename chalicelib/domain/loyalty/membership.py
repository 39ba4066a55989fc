"""Paid membership: a membership product in a paid order starts or extends it.

A shop sells one or several plans (``MembershipRules.all_plans``: monthly or yearly, each with
its own terms). Members get their plan's terms (free shipping: a flag and one free-shipping code
per period; an extra cashback percent; member-only offers), their own segment, and a reminder
before the membership ends, stating the plan's terms. Refunding or cancelling the membership order takes back the
period it bought (ending the membership if nothing else is left).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Optional

from chalicelib.domain.loyalty.account import Account, add_months
from chalicelib.domain.loyalty.codes import MEMBERSHIP, MEMBERSHIP_PREFIX, RewardCode, new_code
from chalicelib.domain.loyalty.order_record import CANCELLED, OrderRecord
from chalicelib.domain.platform_events import Order
from chalicelib.domain.loyalty.program import MembershipPlan, ProgramRules


def membership_months(order: Order, rules: ProgramRules) -> tuple[Optional[str], int]:
    """The membership line of an order and the months it buys (quantity × period)."""
    line_id, months, _ = bought_plan(order, rules)
    return line_id, months


def bought_plan(order: Order, rules: ProgramRules) -> tuple[Optional[str], int, Optional[MembershipPlan]]:
    """The order's first membership line, the months it buys and its plan (the order's last word:
    a customer buys one plan at a time)."""
    plans = {plan.sku: plan for plan in rules.membership.all_plans()}
    for line in order.lines:
        if line.sku in plans and line.quantity > 0:
            plan = plans[line.sku]
            return line.line_id, line.quantity * plan.months, plan
    return None, 0, None


def plan_of(account: Account, rules: ProgramRules) -> Optional[MembershipPlan]:
    """The member's plan and its terms (None: not a member). A plan the shop no longer sells keeps
    the plain terms: free shipping, no extra cashback, no member-only offers."""
    if account.member_until is None:
        return None
    return rules.membership.plan(account.member_plan) or MembershipPlan(account.member_plan or "", "")


def extend(account: Account, order: Order, rules: ProgramRules, paid_at: datetime, now: datetime) -> Optional[RewardCode]:
    """Start or extend the membership from max(now, member_until); returns the new
    period's free-shipping code (None when the order buys no membership)."""
    line_id, months, plan = bought_plan(order, rules)
    if not months or order.order_id in account.member_orders:
        return None
    start = max(paid_at, account.member_until) if account.member_until else paid_at
    account.member_until = add_months(start, months)
    account.member_orders[order.order_id] = {"line_id": line_id, "months": months, "plan": plan.sku}
    # The plan just bought is the member's terms from now on (a yearly plan replacing a monthly one).
    account.member_plan = plan.sku
    account.member_reminded_for = None
    # Never in the past: the reminder job has moved on from those days.
    account.member_remind_on = max(reminder_day(account, rules), now.date())
    account.membership_changed = True
    if not plan.free_shipping:
        account.member_shipping_code = None
        return None
    code = RewardCode(code=new_code(MEMBERSHIP_PREFIX), shop_id=account.shop_id, kind=MEMBERSHIP,
                      customer_id=account.customer_id, value_minor=0, points=0, created_at=now,
                      expires_at=account.member_until, starts_at=now, free_shipping=True, max_uses=None)
    account.member_shipping_code = code.code
    return code


def end_if_refunded(account: Account, record: OrderRecord, now: datetime) -> bool:
    """A cancelled membership order, or its membership line refunded in full, takes
    back the months it bought; the membership ends when none are left."""
    bought = account.member_orders.get(record.order_id)
    if not bought:
        return False
    line = next((line for line in record.lines if line.line_id == bought["line_id"]), None)
    if record.status != CANCELLED and not (line is not None and line.fully_refunded):
        return False
    del account.member_orders[record.order_id]
    if account.member_plan == bought.get("plan") and account.member_orders:  # back to the plan still paid for
        account.member_plan = list(account.member_orders.values())[-1].get("plan", account.member_plan)
    lead = (account.member_until.date() - account.member_remind_on).days \
        if account.member_until and account.member_remind_on else None
    shortened = add_months(account.member_until, -int(bought["months"])) if account.member_until else now
    account.member_until = shortened if shortened > now and account.member_orders else now
    account.membership_changed = True
    if account.member_until <= now:
        account.member_shipping_code = None
        account.member_remind_on = None
    elif lead is not None:  # the same reminder lead before the earlier end
        account.member_remind_on = max(account.member_until.date() - timedelta(days=lead), now.date())
    return True


def extra_cashback_percent(account: Account, rules: ProgramRules, at: datetime) -> Decimal:
    plan = plan_of(account, rules) if account.is_member(at) else None
    return plan.extra_cashback_percent if plan else Decimal(0)


def plan_terms(plan: MembershipPlan) -> dict:
    """What an e-mail and the storefront state about a plan."""
    return {"plan_sku": plan.sku, "plan_name": plan.name, "period": plan.period, "free_shipping": plan.free_shipping,
            "extra_cashback_percent": str(plan.extra_cashback_percent), "exclusive_offers": plan.exclusive_offers}


def reminder_day(account: Account, rules: ProgramRules) -> Optional[date]:
    """The day the reminder is due (None: not a member, or already reminded for this end)."""
    if account.member_until is None or account.member_reminded_for == _stamp(account.member_until):
        return None
    return (account.member_until - timedelta(days=rules.membership.reminder_days)).date()


def remind(account: Account, rules: ProgramRules, now: datetime) -> Optional[dict]:
    """The reminder's e-mail data, once per membership end, while it is still ahead."""
    due = reminder_day(account, rules)
    if account.redacted or due is None or due > now.date() or account.member_until <= now:
        return None
    account.member_reminded_for = _stamp(account.member_until)
    account.member_remind_on = None
    account.membership_changed = True
    return {"member_until": account.member_until.isoformat(), **plan_terms(plan_of(account, rules))}


def _stamp(moment: datetime) -> str:
    return moment.isoformat()
