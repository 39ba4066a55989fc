"""Property tests of the pure loyalty rules (chalicelib/domain), with hypothesis."""
from __future__ import annotations

import pathlib
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from chalicelib.domain.loyalty.account import Account, InsufficientPoints  # noqa: E402
from chalicelib.domain.loyalty.lapse import has_lapsed  # noqa: E402
from chalicelib.domain.loyalty.rules import Program, apply_deletion, apply_order, apply_refund  # noqa: E402
from chalicelib.domain.loyalty.order_record import CANCELLED, OPEN, PAID, OrderRecord, allocate  # noqa: E402
from chalicelib.domain.platform_events import CustomerFacts, Order, OrderLine, Refund, RefundLine  # noqa: E402
from chalicelib.domain.loyalty.program import ProgramRules  # noqa: E402
from tests.support.examples import examples

UTC = timezone.utc
START = datetime(2023, 1, 15, 8, 0, tzinfo=UTC)
# Shop zones: Kyiv (DST), the furthest ahead of UTC and one a half hour off it (DST too).
ZONES = ("Europe/Kyiv", "Pacific/Kiritimati", "America/St_Johns", "UTC")
SKUS = ("SKU-A", "SKU-B", "SKU-C", "SKU-D")
CATEGORIES = ("shoes", "sale", "food")

# database=None: no .hypothesis directory is written next to the project.
SETTINGS = settings(max_examples=examples(100), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(SETTINGS, max_examples=examples(60))


# -- strategies ------------------------------------------------------------------
@st.composite
def programs(draw) -> Program:
    rules = ProgramRules(
        earn_rate=draw(st.decimals(min_value=0, max_value=Decimal("0.5"), places=3)),
        min_redeem_points=draw(st.integers(1, 200)),
        points_validity_months=draw(st.integers(1, 12)),
        tier_period=draw(st.sampled_from(["lifetime", "rolling_12_months"])),
        cashback_percent=draw(st.decimals(min_value=0, max_value=10, places=2)),
        excluded_skus=draw(st.frozensets(st.sampled_from(SKUS), max_size=2)),
        excluded_categories=draw(st.frozensets(st.sampled_from(CATEGORIES), max_size=1)),
        exclude_gift_cards=draw(st.booleans()),
    )
    return Program(rules, draw(st.sampled_from([2, 2, 0, 3])), draw(st.sampled_from(ZONES)))


order_line_fields = st.tuples(
    st.integers(1, 5),                                    # quantity
    st.integers(0, 500000),                               # paid_minor
    st.one_of(st.none(), st.sampled_from(SKUS)),          # sku
    st.lists(st.sampled_from(CATEGORIES), max_size=2),   # categories
    st.integers(0, 9).map(lambda n: n == 0),             # gift card, 1 in 10
)


@st.composite
def orders(draw, order_id: str, paid: bool = True) -> Order:
    fields = draw(st.lists(order_line_fields, min_size=1, max_size=6))
    lines = tuple(OrderLine(f"{order_id}-L{i}", q, paid_minor, sku=sku, categories=tuple(cats), gift_card=gift)
                  for i, (q, paid_minor, sku, cats, gift) in enumerate(fields))
    return Order(order_id=order_id, customer=CustomerFacts(email="c@example.com"), currency="UAH",
                 lines=lines, paid=paid, name=f"#{order_id}",
                 shipping_minor=draw(st.integers(0, 10000)))


def draw_refund(data, order: Order, refund_id: str) -> Refund:
    """Some lines (units and/or money), an amount-only refund, or both."""
    kind = data.draw(st.sampled_from(["lines", "lines", "amount", "mixed"]))
    lines = []
    if kind != "amount":
        for line in order.lines:
            if data.draw(st.booleans()):
                qty = data.draw(st.integers(0, line.quantity))
                amount = data.draw(st.one_of(st.just(0), st.integers(0, line.paid_minor)))
                if qty or amount:
                    lines.append(RefundLine(line.line_id, qty, amount))
        if data.draw(st.integers(0, 9)) == 0:
            lines.append(RefundLine("shipping", 1, 500))  # no goods line: earns and reverses nothing
    amount = data.draw(st.integers(0, sum(line.paid_minor for line in order.lines))) if kind != "lines" else 0
    return Refund(refund_id, order.order_id, tuple(lines), amount_minor=amount)


# -- the invariants -------------------------------------------------------------------
def check_account(account: Account) -> None:
    entries = account.new_entries
    assert account.points_balance == sum(e.points for e in entries)
    assert account.points_balance == sum(lot.points for lot in account.lots) - account.points_debt
    assert account.points_debt >= 0
    assert all(lot.points > 0 for lot in account.lots)
    assert not (account.points_debt and account.lots), "debt with points left in lots"
    assert account.cashback_minor == sum(e.cashback_minor for e in entries)
    assert account.lifetime_spend_minor == sum(e.spend_minor for e in entries)
    ids = [e.entry_id for e in entries]
    assert len(ids) == len(set(ids)), "repeated entry id"
    lot_ids = [lot.lot_id for lot in account.lots]
    assert len(lot_ids) == len(set(lot_ids))


def reversed_points(record: OrderRecord) -> int:
    return sum(line.reversed_so_far()[0] for line in record.lines)


class Sim:
    """One account and the orders of one customer, driven by random operations."""

    def __init__(self, program: Program, now: datetime = START):
        self.program = program
        self.rules = program.rules
        self.now = now
        self.account = Account(shop_id="shop", customer_id="c1", created_at=now, lots=[])
        self.orders: dict[str, list] = {}  # order id -> [latest payload, record]
        self.refunds: dict[str, Refund] = {}
        self.redemptions: list[list] = []  # [cause, portions, released]
        self.cancelled_unpaid: set[str] = set()
        self.counter = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- operations --
    def new_order(self, data) -> None:
        paid = data.draw(st.integers(0, 3)) > 0
        order = data.draw(orders(self.next_id("O"), paid))
        record = OrderRecord("shop", order.order_id)
        self.orders[order.order_id] = [order, record]
        outcome = apply_order(order, record, self.account, self.program, self.now)
        assert record.status == (PAID if paid else OPEN)
        assert outcome.points_earned == record.earned_points
        self.check_tier()

    def pay(self, data) -> None:
        open_ids = [oid for oid, (_, rec) in self.orders.items() if rec.status == OPEN]
        if not open_ids:
            return self.new_order(data)
        oid = data.draw(st.sampled_from(open_ids))
        order, record = self.orders[oid]
        paid_at = data.draw(st.one_of(st.none(), st.just(self.now - timedelta(days=1))))
        order = replace(order, paid=True, paid_at=paid_at)
        self.orders[oid][0] = order
        pending = list(record.pending_refunds)
        outcome = apply_order(order, record, self.account, self.program, self.now)
        assert record.status == PAID and record.pending_refunds == []
        assert all(r.refund_id in record.applied_refunds for r in pending)
        assert outcome.points_earned == record.earned_points
        assert outcome.points_reversed == reversed_points(record)
        self.check_tier()

    def refund(self, data) -> None:
        if not self.orders:
            return self.new_order(data)
        oid = data.draw(st.sampled_from(sorted(self.orders)))
        order, record = self.orders[oid]
        known = [r for r in self.refunds.values() if r.order_id == oid]
        before = (list(self.account.new_entries), reversed_points(record))
        if known and data.draw(st.integers(0, 4)) == 0:  # a platform retry of a refund we know
            refund = data.draw(st.sampled_from(known))
            apply_refund(refund, record, self.account, self.program, self.now)
            assert self.account.new_entries == before[0]
            assert reversed_points(record) == before[1]
            return None
        refund = draw_refund(data, order, self.next_id("R"))
        self.refunds[refund.refund_id] = refund
        if record.status == PAID and data.draw(st.booleans()):
            # listed inside an order payload (Shopify orders/updated)
            order = replace(order, refunds=order.refunds + (refund,))
            self.orders[oid][0] = order
            outcome = apply_order(order, record, self.account, self.program, self.now)
        else:
            outcome = apply_refund(refund, record, self.account, self.program, self.now)
        if record.status == OPEN:
            assert refund in record.pending_refunds
            assert self.account.new_entries == before[0]
        else:
            assert record.knows_refund(refund.refund_id)
            assert outcome.points_reversed == reversed_points(record) - before[1]
        self.check_tier()

    def cancel(self, data) -> None:
        if not self.orders:
            return self.new_order(data)
        oid = data.draw(st.sampled_from(sorted(self.orders)))
        order, record = self.orders[oid]
        was = record.status
        how = data.draw(st.sampled_from(["cancel", "delete", "refunded"]))
        if how == "cancel":
            order = replace(order, cancelled=True)
            self.orders[oid][0] = order
            apply_order(order, record, self.account, self.program, self.now)
        elif how == "delete":
            apply_deletion(record, self.account, self.program, self.now)
        else:  # WooCommerce status "refunded": only meaningful once paid
            order = replace(order, fully_refunded=True)
            self.orders[oid][0] = order
            apply_order(order, record, self.account, self.program, self.now)
        if how == "refunded" and was == OPEN:
            # the payload above was not paid: nothing happens but the wait goes on
            assert record.status == OPEN
        elif how != "refunded":
            assert record.status == CANCELLED and record.pending_refunds == []
            if was == OPEN:
                self.cancelled_unpaid.add(oid)
        if was == PAID or (was == CANCELLED and record.lines):  # it earned: all of it is taken back
            assert record.fully_refunded
            assert reversed_points(record) == record.earned_points
        self.check_tier()

    def redeem(self, data) -> None:
        account = self.account
        if account.points_balance >= self.rules.min_redeem_points and data.draw(st.booleans()):
            n = data.draw(st.integers(self.rules.min_redeem_points, account.points_balance))
        else:
            n = data.draw(st.integers(0, max(account.points_balance, 0) + 300))
        # Lots past their last day do not count, though the sweep has not removed them yet.
        spendable = account.points_balance - sum(lot.points for lot in account.lots if self.lapsed(lot))
        refused = (account.points_debt > 0 or spendable <= 0
                   or n < self.rules.min_redeem_points or n > spendable)
        balance, entries = account.points_balance, len(account.new_entries)
        cause = self.next_id("code:")
        try:
            taken = account.redeem(n, cause=cause, now=self.now, rules=self.rules, zone=self.program.zone)
        except InsufficientPoints as err:
            assert refused, f"refused without reason: {err.reason}"
            assert err.reason
            assert account.points_balance == balance and len(account.new_entries) == entries
            return
        assert not refused
        assert sum(lot.points for lot in taken) == n
        assert account.points_balance == spendable - n
        assert not any(self.lapsed(lot) for lot in taken + account.lots)
        check_fifo(account.new_entries[-1].detail["lots"])
        self.redemptions.append([cause, taken, False])

    def release(self, data) -> None:
        unreleased = [r for r in self.redemptions if not r[2]]
        if not unreleased:
            return self.redeem(data)
        redemption = data.draw(st.sampled_from(unreleased))
        cause, taken, _ = redemption
        balance, debt = self.account.points_balance, self.account.points_debt
        self.account.release(taken, cause=f"release:{cause}", now=self.now, zone=self.program.zone)
        redemption[2] = True
        # What lapsed while the code waited lapses on release (issue 16: points that lapse, lapse).
        assert self.account.points_balance == balance + sum(lot.points for lot in taken if not self.lapsed(lot))
        if debt == 0:  # the exact portions still valid come back, with their expiry
            lots = {lot.lot_id: lot for lot in self.account.lots}
            for i, portion in enumerate(taken):
                if self.lapsed(portion):
                    assert f"{portion.lot_id}~release:{cause}~{i}" not in lots
                    continue
                back = lots[f"{portion.lot_id}~release:{cause}~{i}"]
                assert (back.points, back.expires_at, back.earned_at) == (
                    portion.points, portion.expires_at, portion.earned_at)

    def expire(self, data) -> None:
        due = [lot for lot in self.account.lots if self.lapsed(lot)]
        entries = len(self.account.new_entries)
        expired = self.account.expire_due(self.now, self.program.zone)
        assert expired == sum(lot.points for lot in due)
        new = self.account.new_entries[entries:]
        assert len(new) == len(due) and all(e.kind == "expire" for e in new)
        assert not any(self.lapsed(lot) for lot in self.account.lots)

    def lapsed(self, lot) -> bool:
        """Past the end of the lot's last day on the shop's clock (not merely its stored instant)."""
        return has_lapsed(lot.expires_at, self.program.zone, self.now)

    OPERATIONS = ("new_order", "new_order", "pay", "refund", "refund", "cancel", "redeem", "redeem",
                  "release", "expire")

    def step(self, data) -> None:
        self.now += data.draw(st.sampled_from([timedelta(0), timedelta(minutes=5), timedelta(hours=7),
                                               timedelta(days=3), timedelta(days=40), timedelta(days=200)]))
        getattr(self, data.draw(st.sampled_from(self.OPERATIONS)))(data)
        self.check()

    # -- checks --
    def check_tier(self) -> None:
        standing = self.rules.standing(self.account.tier_spend(self.rules, self.now), self.program.exponent)
        assert self.account.tier_name == (standing.tier.name if standing.tier else None)

    def check(self) -> None:
        account = self.account
        check_account(account)
        assert account.orders_count == sum(1 for _, rec in self.orders.values() if rec.counted)
        for oid, (_, record) in self.orders.items():
            earns = [e for e in account.new_entries if e.kind == "earn" and e.cause == f"order:{oid}"]
            reversed_here = -sum(e.points for e in account.new_entries
                                 if e.kind == "reverse" and e.detail.get("order_id") == oid)
            assert len(earns) <= 1
            assert 0 <= reversed_here <= record.earned_points
            assert reversed_here == reversed_points(record)
            if oid in self.cancelled_unpaid or record.status == OPEN:
                assert not earns and reversed_here == 0
            if record.status == CANCELLED or record.fully_refunded:
                assert reversed_here == record.earned_points


def check_fifo(portions: list[dict]) -> None:
    expiries = [p["expires_at"] for p in portions]
    assert expiries == sorted(expiries, key=datetime.fromisoformat)
    assert all(p["points"] > 0 for p in portions)


# -- properties ----------------------------------------------------------------------
@pytest.mark.slow
@SETTINGS
@given(program=programs(), data=st.data())
def test_ledger_invariants_hold_after_every_operation(program, data):
    sim = Sim(program)
    for _ in range(data.draw(st.integers(1, 25), label="steps")):
        sim.step(data)


def snapshot(account: Account):
    return (account.points_balance, account.points_debt, account.cashback_minor, account.lifetime_spend_minor,
            account.orders_count, account.tier_name, account.discount_percent,
            sorted((lot.lot_id, lot.points, lot.expires_at) for lot in account.lots))


@SETTINGS
@given(program=programs(), data=st.data())
def test_refunding_everything_returns_the_customer_to_where_they_were(program, data):
    sim = Sim(program)
    for _ in range(data.draw(st.integers(0, 8), label="history")):
        sim.step(data)
    account, now = sim.account, sim.now
    account.prune_spend_days(now)
    account.refresh_tier(program.rules, now, program.exponent)
    start = snapshot(account)

    order = data.draw(orders("NEW"))
    record = OrderRecord("shop", "NEW")
    apply_order(order, record, account, program, now)

    # partial refunds of units, in any order, then maybe an amount-only one
    pieces = [(line.line_id, 1) for line in order.lines for _ in range(line.quantity)]
    pieces = data.draw(st.permutations(pieces))
    pieces = pieces[:data.draw(st.integers(0, len(pieces)))]
    for i, (line_id, qty) in enumerate(pieces):
        apply_refund(Refund(f"NEW-R{i}", "NEW", lines=(RefundLine(line_id, qty),)), record, account, program, now)
        check_account(account)
    if data.draw(st.booleans()):
        apply_refund(Refund("NEW-W", "NEW", amount_minor=data.draw(st.integers(0, 600000))),
                     record, account, program, now)
        check_account(account)
    ending = data.draw(st.sampled_from(["cancel", "delete", "refunded"]))
    if ending == "cancel":
        apply_order(replace(order, cancelled=True), record, account, program, now)
    elif ending == "delete":
        apply_deletion(record, account, program, now)
    else:
        apply_order(replace(order, fully_refunded=True), record, account, program, now)
    check_account(account)

    assert snapshot(account) == start
    assert record.fully_refunded


@SETTINGS
@given(program=programs(), data=st.data())
def test_partial_refunds_never_reverse_more_than_earned_and_all_of_it_at_the_end(program, data):
    account = Account(shop_id="shop", customer_id="c1", created_at=START, lots=[])
    order = data.draw(orders("O"))
    record = OrderRecord("shop", "O")
    apply_order(order, record, account, program, START)
    earned = record.earned_points
    cashback = sum(line.cashback_minor for line in record.lines)
    spend = record.spend_minor
    reversed_total = 0
    for i in range(data.draw(st.integers(0, 6))):
        outcome = apply_refund(draw_refund(data, order, f"R{i}"), record, account, program, START)
        assert outcome.points_reversed >= 0
        reversed_total += outcome.points_reversed
        assert reversed_total <= earned
        assert -sum(e.cashback_minor for e in account.new_entries if e.kind == "reverse") <= cashback
        assert -sum(e.spend_minor for e in account.new_entries if e.kind == "reverse") <= spend
        check_account(account)
    # now refund every unit of every line
    outcome = apply_refund(Refund("ALL", "O", lines=tuple(RefundLine(line.line_id, line.quantity)
                                                          for line in order.lines)),
                           record, account, program, START)
    reversed_total += outcome.points_reversed
    assert record.fully_refunded
    assert reversed_total == earned
    assert account.points_balance == 0 and account.points_debt == 0
    assert account.cashback_minor == 0 and account.lifetime_spend_minor == 0
    assert account.orders_count == 0
    check_account(account)


@st.composite
def lot_specs(draw):
    n = draw(st.integers(1, 8))
    return [(f"lot{i}", draw(st.integers(1, 500)), draw(st.integers(0, 400))) for i in range(n)]


@SETTINGS
@given(specs=lot_specs(), zone=st.sampled_from(ZONES), data=st.data())
def test_redemption_takes_earliest_expiring_lots_first_and_release_gives_them_back(specs, zone, data):
    rules = ProgramRules(min_redeem_points=1)
    account = Account(shop_id="shop", customer_id="c1", created_at=START, lots=[])
    for lot_id, points, days in specs:
        account.earn(points, lot_id=lot_id, cause=f"bonus:{lot_id}", now=START,
                     expires_at=START + timedelta(days=days))
    before = {lot.lot_id: lot for lot in account.lots}
    n = data.draw(st.integers(1, account.points_balance))
    taken = account.redeem(n, cause="code:1", now=START, rules=rules, zone=zone)
    portions = account.new_entries[-1].detail["lots"]

    assert [p["lot_id"] for p in portions] == [lot.lot_id for lot in taken]
    assert sum(p["points"] for p in portions) == n
    check_fifo(portions)
    for p in portions[:-1]:  # only the last portion can be partial
        assert p["points"] == before[p["lot_id"]].points
    last = taken[-1]
    assert 0 < last.points <= before[last.lot_id].points
    taken_ids = {lot.lot_id for lot in taken}
    for lot in before.values():  # nothing expiring earlier was left behind
        if lot.lot_id not in taken_ids:
            assert lot.expires_at >= last.expires_at
    check_account(account)

    def by_expiry():
        totals: dict[datetime, int] = {}
        for lot in account.lots:
            totals[lot.expires_at] = totals.get(lot.expires_at, 0) + lot.points
        return totals

    released_at = START + timedelta(days=1)
    expected = {}
    for lot in before.values():
        expected[lot.expires_at] = expected.get(lot.expires_at, 0) + lot.points
    for portion in taken:  # what lapsed while the code waited lapses on release
        if has_lapsed(portion.expires_at, zone, released_at):
            expected[portion.expires_at] -= portion.points
    expected = {expiry: points for expiry, points in expected.items() if points}
    account.release(taken, cause="release:1", now=released_at, zone=zone)
    assert by_expiry() == expected
    assert account.points_balance == sum(expected.values())
    check_account(account)


@SETTINGS
@given(total=st.integers(-10**6, 10**9),
       weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=10).filter(lambda w: sum(w) > 0))
def test_allocate_sums_exactly_and_each_part_is_within_one_of_its_share(total, weights):
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights):
        exact = Fraction(total * weight, weight_sum)
        assert abs(part - exact) < 1
        if weight == 0:
            assert part == 0


@FEW
@given(total=st.integers(-100, 100), n=st.integers(0, 5))
def test_allocate_with_nothing_to_weigh_gives_zeros(total, n):
    assert allocate(total, [0] * n) == [0] * n


@SETTINGS
@given(program=programs(), data=st.data())
def test_earning_matches_the_formula(program, data):
    order = data.draw(orders("O"))
    account = Account(shop_id="shop", customer_id="c1", created_at=START, lots=[])
    record = OrderRecord("shop", "O")
    outcome = apply_order(order, record, account, program, START)
    rules = program.rules
    eligible = sum(line.paid_minor for line in order.lines
                   if rules.line_is_eligible(line.sku, line.categories, line.gift_card))
    spend = sum(line.paid_minor for line in order.lines if not (line.gift_card and rules.exclude_gift_cards))
    expected_points = int(Fraction(eligible) / 10 ** program.exponent * Fraction(rules.earn_rate) // 1)
    expected_cashback = int(Fraction(eligible) * Fraction(rules.cashback_percent) / 100 // 1)
    assert outcome.points_earned == record.earned_points == account.points_balance == expected_points
    assert outcome.cashback_minor == account.cashback_minor == expected_cashback
    assert account.lifetime_spend_minor == record.spend_minor == spend
    for earned, line in zip(record.lines, order.lines):
        if not rules.line_is_eligible(line.sku, line.categories, line.gift_card):
            assert earned.points == 0 and earned.cashback_minor == 0
    check_account(account)
