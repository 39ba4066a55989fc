"""The rolling tier window counted to the day: property tests against a brute-force recount
from the orders themselves, and the move of older accounts' month buckets onto days."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty import tier_window
from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.loyalty.order_record import OrderRecord
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.loyalty.rules import Program, apply_deletion, apply_order, apply_refund
from chalicelib.domain.loyalty.tier_risk import tier_drop
from chalicelib.domain.months import add_months, month_key
from chalicelib.domain.platform_events import CustomerFacts, Order, OrderLine, Refund
from tests.support.examples import examples

UTC = timezone.utc
PROGRAM = Program(ProgramRules(tier_period="rolling_12_months"), 2, "Europe/Kyiv")  # Silver from 200,000, Gold from 500,000
SETTINGS = settings(max_examples=examples(150), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- the brute force: what the customer's orders say, read afresh ---------------------------
@dataclass
class PaidOrder:
    paid_on: date
    spend: int
    refunded: int = 0


def in_last_12_months(paid_on: date, today: date) -> bool:
    """Spend in "the last 12 months": paid today or after the same day a year ago (29 February's
    year ends on 28 February). Spelled out independently of tier_window."""
    a_year_after = add_months(paid_on, 12)
    return paid_on <= today and today < a_year_after


def brute_spend(orders: dict[str, PaidOrder], today: date) -> int:
    return sum(o.spend - o.refunded for o in orders.values() if in_last_12_months(o.paid_on, today))


def brute_tier(spend: int) -> Optional[str]:
    return PROGRAM.rules.standing(spend, PROGRAM.exponent).tier.name if PROGRAM.rules.standing(
        spend, PROGRAM.exponent).tier else None


def brute_drop_day(orders: dict[str, PaidOrder], today: date) -> Optional[date]:
    """Walk day by day for 13 months: the first day the tier held today is not held."""
    tier = PROGRAM.rules.standing(brute_spend(orders, today), PROGRAM.exponent).tier
    if tier is None:
        return None
    for ahead in range(1, 400):
        day = today + timedelta(days=ahead)
        standing = PROGRAM.rules.standing(brute_spend(orders, day), PROGRAM.exponent).tier
        if standing is None or standing.min_spend < tier.min_spend:
            return day
    raise AssertionError("spend older than a year still counted")


# -- the simulation: webhooks as the service applies them ----------------------------------------
@dataclass
class Customer:
    now: datetime
    account: Account = None
    records: dict[str, OrderRecord] = field(default_factory=dict)
    orders: dict[str, PaidOrder] = field(default_factory=dict)

    def __post_init__(self):
        self.account = Account("shop", "c1", created_at=self.now, lots=[])

    def pay(self, order_id: str, amount: int, paid_days_ago: int, hour: int) -> None:
        paid_at = datetime.combine(self.now.date() - timedelta(days=paid_days_ago), time(hour), UTC)
        paid_at = min(paid_at, self.now)  # a payment time in the future is clamped to now by the rules too
        order = Order(order_id=order_id, customer=CustomerFacts(email="ann@example.com"), currency="EUR",
                      lines=(OrderLine("L1", 1, amount),), paid=True, paid_at=paid_at, name=f"#{order_id}")
        record = self.records.setdefault(order_id, OrderRecord("shop", order_id))
        apply_order(order, record, self.account, PROGRAM, self.now)
        self.orders[order_id] = PaidOrder(paid_at.date(), amount)

    def refund(self, order_id: str, refund_id: str, share: float) -> None:
        paid = self.orders[order_id]
        amount = int((paid.spend - paid.refunded) * share)
        apply_refund(Refund(refund_id, order_id, amount_minor=amount), self.records[order_id], self.account,
                     PROGRAM, self.now)
        paid.refunded += amount

    def cancel(self, order_id: str) -> None:
        apply_deletion(self.records[order_id], self.account, PROGRAM, self.now)
        self.orders[order_id].refunded = self.orders[order_id].spend


start_moments = st.builds(
    lambda day, minute: datetime.combine(day, time(0), UTC) + timedelta(minutes=minute),
    st.dates(date(2023, 1, 1), date(2028, 12, 31)), st.integers(0, 24 * 60 - 1))
time_steps = st.sampled_from([timedelta(0), timedelta(minutes=1), timedelta(hours=7), timedelta(days=1),
                              timedelta(days=28), timedelta(days=30), timedelta(days=31), timedelta(days=92),
                              timedelta(days=364), timedelta(days=365), timedelta(days=366)])


@SETTINGS
@given(start=start_moments, data=st.data())
def test_tier_by_day_equals_a_recount_of_the_orders(start, data):
    customer = Customer(start)
    for step in range(data.draw(st.integers(1, 25), label="steps")):
        customer.now += data.draw(time_steps, label="time passes")
        paid = [oid for oid, o in customer.orders.items() if o.refunded < o.spend]
        action = data.draw(st.sampled_from(["pay", "pay", "pay", "refund", "cancel", "wait"]) if paid
                           else st.sampled_from(["pay", "wait"]), label="action")
        if action == "pay":
            customer.pay(f"O{step}", data.draw(st.integers(1, 400_000), label="amount"),
                         data.draw(st.sampled_from([0, 0, 0, 1, 30, 200, 364, 365, 366, 500]), label="paid days ago"),
                         data.draw(st.integers(0, 23), label="paid hour"))
        elif action == "refund":
            customer.refund(data.draw(st.sampled_from(paid)), f"R{step}",
                            data.draw(st.sampled_from([0.1, 0.5, 1.0])))
        elif action == "cancel":
            customer.cancel(data.draw(st.sampled_from(paid)))
        today = customer.now.date()
        expected = brute_spend(customer.orders, today)
        assert customer.account.tier_spend(PROGRAM.rules, customer.now) == expected
        if action != "wait":  # a webhook refreshes the stored tier
            assert customer.account.tier_name == brute_tier(expected)
        assert all(minor > 0 for minor in customer.account.spend_by_day.values())
        assert customer.account.lifetime_spend_minor == sum(o.spend - o.refunded for o in customer.orders.values())
    # the drop day the warning names is the first day the recount loses the tier
    drop = tier_drop(customer.account, PROGRAM.rules, customer.now, PROGRAM.exponent)
    assert (drop.date_drops if drop else None) == brute_drop_day(customer.orders, customer.now.date())


def test_three_orders_a_day_for_three_years_keep_at_most_a_year_of_buckets():
    start = datetime(2024, 2, 29, 9, 0, tzinfo=UTC)
    account = Account("shop", "c1", created_at=start)
    for day in range(3 * 366):
        now = start + timedelta(days=day)
        for n in range(3):
            account.add_spend(now.date(), 1_000 + n, now)
        account.prune_spend_days(now)
    assert now.date() == date(2027, 3, 2) and len(account.spend_by_day) == 365
    assert (min(account.spend_by_day), max(account.spend_by_day)) == (date(2026, 3, 3), date(2027, 3, 2))
    assert account.tier_spend(PROGRAM.rules, now) == 365 * 3_003


# -- older accounts: calendar-month buckets ------------------------------------------------------
def month_window_spend(spend_by_month: dict[str, int], now: datetime) -> int:
    """How an account's rolling spend was counted before: this month and the 11 before it."""
    window = {month_key(add_months(now, -back)) for back in range(12)}
    return sum(v for month, v in spend_by_month.items() if month in window)


month_buckets = st.dictionaries(
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(2022, 2026), st.integers(1, 12)),
    st.integers(1, 900_000), max_size=14)


@SETTINGS
@given(spend_by_month=month_buckets, now=start_moments)
def test_month_buckets_moved_onto_days_count_what_they_counted(spend_by_month, now):
    days = tier_window.days_from_months(spend_by_month)
    assert sum(days.values()) == sum(spend_by_month.values())  # no spend lost
    # at any moment, not only the moment of the move: the tier and its drop day stay put
    assert tier_window.window_spend(days, now.date()) == month_window_spend(spend_by_month, now)


def test_a_legacy_month_leaves_on_the_first_of_the_month_a_year_on():
    days = tier_window.days_from_months({"2025-03": 250_000})
    account = Account("shop", "c1", created_at=datetime(2025, 3, 1, tzinfo=UTC), spend_by_day=days)
    drop = tier_drop(account, PROGRAM.rules, datetime(2026, 2, 27, tzinfo=UTC), 2)
    assert drop is not None and drop.date_drops == date(2026, 3, 1)


def test_a_refund_of_spend_that_left_the_window_takes_nothing_from_it():
    buckets = {date(2025, 6, 2): 5_000}
    tier_window.add_to_bucket(buckets, date(2024, 6, 1), -3_000, date(2025, 6, 2))
    tier_window.add_to_bucket(buckets, date(2024, 6, 2), -3_000, date(2025, 6, 2))  # pruned just now
    assert buckets == {date(2025, 6, 2): 5_000}
    tier_window.add_to_bucket(buckets, date(2025, 6, 2), -5_000, date(2025, 6, 2))
    assert buckets == {}


def test_the_window_start_agrees_with_each_paid_days_anniversary_around_leap_years():
    today = date(2027, 12, 1)
    while today <= date(2029, 3, 31):  # 29 February 2028 and the year after it
        for back in range(0, 370):
            day = today - timedelta(days=back)
            assert tier_window.counts_on(day, today) == (today < add_months(day, 12)), (day, today)
        today += timedelta(days=1)


def test_the_paid_day_is_the_utc_day():
    kyiv = timezone(timedelta(hours=3))
    assert tier_window.paid_day(datetime(2031, 3, 15, 0, 30, tzinfo=kyiv)) == date(2031, 3, 14)
    assert tier_window.paid_day(datetime(2031, 3, 15, 3, 0, tzinfo=kyiv)) == date(2031, 3, 15)
