"""The loyalty rules: what a paid order, a refund or a cancellation does.

Each function takes the current state (order record, account), changes it, and
reports what happened; the service layer commits the result atomically. No I/O,
no clock: ``now`` is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Optional

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.months import add_months
from chalicelib.domain.email_address import normalize_email
from chalicelib.domain.loyalty.order_record import CANCELLED, OPEN, PAID, EarnedLine, OrderRecord, Reversal, allocate
from chalicelib.domain.platform_events import CustomerFacts, Order, Place, Refund
from chalicelib.domain.places.zones import zone_for
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.loyalty import membership, tier_window
from chalicelib.domain.loyalty.lapse import has_lapsed, lapses_at
from chalicelib.domain.loyalty.tier_risk import review_day


@dataclass(frozen=True)
class Program:
    """The rules together with the money facts they are applied in."""

    rules: ProgramRules
    exponent: int  # minor-unit digits of the shop's currency
    zone: str  # the shop's time zone: points are honoured to the end of their last day there (lapse.py)


@dataclass
class Outcome:
    points_earned: int = 0
    points_reversed: int = 0
    cashback_minor: int = 0
    cashback_reversed_minor: int = 0
    tier_before: Optional[str] = None
    tier_after: Optional[str] = None
    newly_paid: bool = False
    spend_moved: bool = False  # the change added or took back spend (the tier may move with it)
    tier_noted: bool = False  # a change of tier was written into the ledger
    facts_changed: bool = False
    record_changed: bool = False
    # Codes the change creates (a membership period's free-shipping code).
    new_codes: list = field(default_factory=list)
    membership_ended: bool = False

    @property
    def ledger_changed(self) -> bool:
        return bool(self.points_earned or self.points_reversed or self.cashback_minor
                     or self.cashback_reversed_minor or self.newly_paid or self.membership_ended
                     or self.tier_noted)

    @property
    def anything_changed(self) -> bool:
        return self.ledger_changed or self.facts_changed or self.record_changed


def earning_lines(order: Order, program: Program, extra_cashback_percent: Decimal = Decimal(0)) -> list[EarnedLine]:
    """Spend, eligible spend, points and cashback of each line of a paid order (members
    earn ``extra_cashback_percent`` on top of the program's cashback)."""
    rules = program.rules
    spends, eligibles = [], []
    for line in order.lines:
        spend = max(line.paid_minor, 0)
        if line.gift_card and rules.exclude_gift_cards:
            spend = 0
        spends.append(spend)
        eligibles.append(spend if rules.line_is_eligible(line.sku, line.categories, line.gift_card) else 0)
    eligible_total = sum(eligibles)
    points_total = int((Decimal(eligible_total).scaleb(-program.exponent) * rules.earn_rate)
                       .to_integral_value(rounding=ROUND_FLOOR))
    cashback_total = int((Decimal(eligible_total) * (rules.cashback_percent + extra_cashback_percent) / 100)
                         .to_integral_value(rounding=ROUND_FLOOR))
    points = allocate(points_total, eligibles)
    cashback = allocate(cashback_total, eligibles)
    return [EarnedLine(line.line_id, line.quantity, spend, eligible, p, c)
            for line, spend, eligible, p, c in zip(order.lines, spends, eligibles, points, cashback)]


def apply_order(order: Order, record: OrderRecord, account: Account, program: Program, now: datetime) -> Outcome:
    outcome = Outcome(tier_before=account.tier_name)
    outcome.facts_changed = update_facts(account, order.customer)
    if record.name != order.name:
        record.name = order.name
        outcome.record_changed = True

    if record.status == OPEN and order.paid and not order.cancelled:
        _earn(order, record, account, program, now, outcome)
        for pending in list(record.pending_refunds):
            _reverse(record.record_refund(pending), f"refund:{pending.refund_id}", record, account, now, outcome)
        record.pending_refunds = []

    for refund in order.refunds:
        outcome.record_changed |= _apply_refund(refund, record, account, now, outcome)

    if record.status == PAID and order.fully_refunded:
        _reverse(record.refund_everything(), f"order-refunded:{order.order_id}", record, account, now, outcome)
    if order.cancelled and record.status != CANCELLED:
        _cancel(record, account, f"cancel:{order.order_id}", now, outcome)

    _finish(account, program, now, outcome)
    return outcome


def apply_refund(refund: Refund, record: OrderRecord, account: Optional[Account], program: Program,
                 now: datetime) -> Outcome:
    """A refund on its own (Shopify refunds/create, generic refund).

    Before the order is paid (or before it is seen at all) the refund waits on
    the order record and is applied the moment the order earns.
    """
    outcome = Outcome(tier_before=account.tier_name if account else None)
    outcome.record_changed = _apply_refund(refund, record, account, now, outcome)
    if account is not None:
        _finish(account, program, now, outcome)
    return outcome


def apply_deletion(record: OrderRecord, account: Optional[Account], program: Program, now: datetime) -> Outcome:
    outcome = Outcome(tier_before=account.tier_name if account else None)
    if record.status != CANCELLED:
        _cancel(record, account, f"deleted:{record.order_id}", now, outcome)
    if account is not None:
        _finish(account, program, now, outcome)
    return outcome


def note_time_zone(account: Account, place: Optional[Place], shop_zone: str) -> bool:
    """The customer's clock from the order's address (the latest address wins: people move);
    True when it changed. Without an address the stored zone (or the shop's) stays."""
    if place is None or account.redacted:
        return False
    zone = zone_for(place.country, place.province, shop_zone)
    if zone == account.timezone:
        return False
    account.timezone = zone
    return True


def update_facts(account: Account, facts: CustomerFacts) -> bool:
    """Keep what the shop says about the customer, never letting an older
    payload overwrite a newer one (platforms do not deliver in order)."""
    if account.redacted:
        return False
    if facts.updated_at and account.facts_updated_at and facts.updated_at < account.facts_updated_at:
        return False
    changed = False
    for name in ("first_name", "last_name", "locale", "marketing_consent", "birthday"):
        value = getattr(facts, name)
        if value is not None and getattr(account, name) != value:
            setattr(account, name, value)
            changed = True
    if facts.email and account.email != normalize_email(facts.email):
        account.email = normalize_email(facts.email)
        changed = True
    if facts.platform_customer_id and facts.platform_customer_id not in account.platform_customer_ids:
        account.platform_customer_ids.add(facts.platform_customer_id)
        account.new_platform_customer_ids.add(facts.platform_customer_id)
        changed = True
    if facts.updated_at and (account.facts_updated_at is None or facts.updated_at > account.facts_updated_at):
        # Even when it repeats what we know: a newer payload must still beat an
        # older one that arrives after it.
        account.facts_updated_at = facts.updated_at
        changed = True
    return changed


def _earn(order: Order, record: OrderRecord, account: Account, program: Program, now: datetime,
          outcome: Outcome) -> None:
    paid_at = min(order.paid_at or now, now)
    record.lines = earning_lines(order, program, membership.extra_cashback_percent(account, program.rules, paid_at))
    record.goods_net_minor = sum(max(line.paid_minor, 0) for line in order.lines)
    record.goods_tax_minor = order.goods_tax_minor
    expires_at = add_months(paid_at, program.rules.points_validity_months)
    lapsed_points = 0
    if has_lapsed(expires_at, program.zone, now):
        # Paid so long ago (an import, a very late webhook) that its points have lapsed already:
        # the spend counts (tiers, history), the points are never credited, and a later refund
        # has none to take back.
        lapsed_points = sum(line.points for line in record.lines)
        record.lines = [replace(line, points=0) for line in record.lines]
    record.status = PAID
    record.paid_at = paid_at
    record.spend_day = tier_window.paid_day(paid_at)
    record.lot_id = f"order-{order.order_id}"
    record.customer_id = account.customer_id
    record.counted = True
    cause = f"order:{order.order_id}"
    account.earn(record.earned_points, lot_id=record.lot_id, cause=cause, now=now,
                 expires_at=expires_at, spend_minor=record.spend_minor,
                 detail={"order_name": order.name, "paid_at": paid_at.isoformat(), **({"lapsed_points": lapsed_points,
                                                         "lapsed_at": lapses_at(expires_at, program.zone).isoformat()} if lapsed_points else {})})
    cashback = sum(line.cashback_minor for line in record.lines)
    account.credit_cashback(cashback, cause=cause, now=now)
    account.add_spend(record.spend_day, record.spend_minor, now)
    account.orders_count += 1
    account.record_bought([line.sku for line in order.lines],
                          [category for line in order.lines for category in line.categories])
    account.last_order_at = max(account.last_order_at or paid_at, paid_at)
    shipping_code = membership.extend(account, order, program.rules, paid_at, now)
    if shipping_code is not None:
        outcome.new_codes.append(shipping_code)
    outcome.newly_paid = True
    outcome.points_earned += record.earned_points
    outcome.cashback_minor += cashback
    outcome.record_changed = True


def note_code_discounts(account: Account, order_id: str, discounts: dict[str, int], paid_at: datetime,
                        now: datetime) -> None:
    """Write down, in the ledger, the money the order's codes took off it (code → minor units):
    on the entry the newly paid order wrote (its ``detail.code_discounts``), or, for an order that
    earned nothing and spent nothing (a free order), on an entry of its own. The dashboard counts it
    on the order's paid day from that entry (domain/loyalty/dashboard.py), in the same transaction."""
    discounts = {code: minor for code, minor in discounts.items() if minor > 0}
    if not discounts:
        return
    cause = f"order:{order_id}"
    for entry in account.new_entries:
        if entry.cause == cause and entry.kind == "earn":
            entry.detail["code_discounts"] = discounts
            return
    account.note("code_discount", cause, now, detail={"code_discounts": discounts, "paid_at": paid_at.isoformat()})


def _apply_refund(refund: Refund, record: OrderRecord, account: Optional[Account], now: datetime,
                  outcome: Outcome) -> bool:
    if record.knows_refund(refund.refund_id):
        return False
    if record.status == PAID and account is not None:
        _reverse(record.record_refund(refund), f"refund:{refund.refund_id}", record, account, now, outcome)
    elif record.status == OPEN:
        record.pending_refunds.append(refund)
    else:  # cancelled: everything was already taken back
        record.applied_refunds.add(refund.refund_id)
    return True


def _cancel(record: OrderRecord, account: Optional[Account], cause: str, now: datetime, outcome: Outcome) -> None:
    if record.status == PAID and account is not None:
        _reverse(record.refund_everything(), cause, record, account, now, outcome)
    record.status = CANCELLED
    record.pending_refunds = []
    outcome.record_changed = True


def _reverse(reversal: Reversal, cause: str, record: OrderRecord, account: Account, now: datetime,
             outcome: Outcome) -> None:
    account.reverse(reversal.points, cause=cause, now=now, prefer_lot_id=record.lot_id,
                    cashback_minor=reversal.cashback_minor, spend_minor=reversal.spend_minor,
                    detail={"order_id": record.order_id})
    if reversal.spend_minor:
        account.add_spend(record.spend_day, -reversal.spend_minor, now)
        outcome.spend_moved = True
    if record.counted and record.fully_refunded:
        record.counted = False
        account.orders_count -= 1
    outcome.points_reversed += reversal.points
    outcome.cashback_reversed_minor += reversal.cashback_minor
    if membership.end_if_refunded(account, record, now):
        account.note("membership_end", f"membership-refunded:{record.order_id}", now,
                     detail={"order_id": record.order_id})
        outcome.membership_ended = True


def _finish(account: Account, program: Program, now: datetime, outcome: Outcome) -> None:
    account.prune_spend_days(now)
    outcome.tier_noted = account.refresh_tier(program.rules, now, program.exponent,
                                              note=outcome.newly_paid or outcome.spend_moved)
    account.tier_review_on = review_day(account, program.rules, now, program.exponent)
    outcome.tier_after = account.tier_name
