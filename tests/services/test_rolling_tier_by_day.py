"""Rolling tiers counted by day, as a customer lives them: Shopify webhooks at the clock's time,
the daily job each day, the storefront's answer and the stored tier (segments read that one).

Run with ``-s`` to see the day-by-day history the assertions check."""
from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.loyalty.order_record import OrderRecord
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.loyalty.rules import Program, apply_order, apply_refund
from chalicelib.domain.platform_events import CustomerFacts, Order, OrderLine, Refund
from chalicelib.services.lifecycle.daily import run_daily
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store import keys
from chalicelib.store.loyalty.repository import Change, LoyaltyRepository, _profile_item
from chalicelib.store.models import OrderItem, ProfileItem
from devstack.samples import sample_order_payload, sample_refund_payload, signed_request
from tests.support.clock import T0, FakeClock, app_clock  # noqa: F401 (app_clock: the ``clock`` fixture)
from tests.support.queues import drain_queue
from tests.support.shops import register_shop

UTC = timezone.utc
EMAIL = "olena+tiers@example.com"
FIRST_PAID = T0  # where the ``clock`` fixture starts: 14 March 2031, 09:00 UTC


class Customer:
    def __init__(self, client, clock: FakeClock):
        self.client, self.clock = client, clock
        self.shop = register_shop(client, "day-tiers", "shopify", program={"tier_period": "rolling_12_months"})

    def pays(self, order_id: str, amount: str) -> None:
        payload = sample_order_payload("shopify", order_id=order_id, email=EMAIL, created_at=self.clock.now,
                                       lines=[{"id": "1", "title": "Kettle", "quantity": 1, "unit_price": amount}],
                                       shipping="0.00")
        self._deliver(payload, "orders/paid")

    def refunds(self, refund_id: str, order_id: str, amount: str) -> None:
        payload = sample_refund_payload("shopify", refund_id=refund_id, order_id=order_id, email=EMAIL,
                                        lines=[{"line_id": "1", "quantity": 0, "amount": amount}],
                                        order_lines=[{"id": "1", "title": "Kettle", "quantity": 1, "unit_price": "0"}],
                                        created_at=self.clock.now)
        self._deliver(payload, "refunds/create")

    def _deliver(self, payload: dict, topic: str) -> None:
        headers, raw = signed_request("shopify", self.shop.secret, payload, topic=topic, now=self.clock.now)
        response = self.client.http.post(f"/webhooks/shopify/{self.shop.shop_id}", headers=headers, body=raw)
        assert response.status_code == 200 and json.loads(response.body)["result"] == "applied", response.body

    def day(self, deps, moment: datetime) -> tuple[str, str, str]:
        """The daily job at ``moment``; then what the storefront says and what is stored."""
        self.clock.set(moment)
        run_daily(deps, moment, [self.shop.shop_id])
        status, view = self.shop.customer(EMAIL)
        assert status == 200
        stored = LoyaltyRepository(self.shop.shop_id).load_profile(view["customer_id"])
        warnings = [m["data"] for m in drain_queue_messages() if m["template"] == "tier_at_risk"]
        return view["tier"], stored.tier_name, warnings


def drain_queue_messages() -> list[dict]:
    return drain_queue(os.environ["LOYALTY_SEND_QUEUE"])


def test_the_tier_holds_to_the_anniversary_of_the_paid_day_and_drops_that_day(client, deps, clock):
    customer = Customer(client, clock)
    customer.pays("5001", "2500.00")  # 14 March 2031: Silver (from 2,000)
    clock.set(datetime(2031, 9, 20, 15, 0, tzinfo=UTC))
    customer.pays("5002", "300.00")
    clock.set(datetime(2031, 10, 2, 8, 0, tzinfo=UTC))
    customer.refunds("R-5002", "5002", "100.00")  # taken back from 20 September, the paid day
    drain_queue_messages()

    history = {}
    first = date(2032, 1, 30)
    for offset in range((date(2032, 3, 16) - first).days):
        day = first + timedelta(days=offset)
        history[day] = customer.day(deps, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=6))
    print("\nday         storefront  stored   tier_at_risk mail")
    for day, (shown, stored, warnings) in history.items():
        print(f"{day}  {shown or '-':<10}  {stored or '-':<7}  {warnings[0] if warnings else ''}")

    # Calendar months lost Silver on 1 March (and warned on 31 January "by 29 February").
    assert history[date(2032, 3, 1)][:2] == ("Silver", "Silver")
    assert history[date(2032, 3, 13)][:2] == ("Silver", "Silver")
    assert history[date(2032, 3, 14)][:2] == (None, None)  # the anniversary of 14 March 2031
    warned = {day: w for day, (_, _, w) in history.items() if w}
    assert warned == {date(2032, 2, 13): [{"tier": "Silver", "spend_needed_minor": 180_000, "by": "2032-03-13"}]}


def test_a_payment_late_in_the_evening_in_kyiv_counts_on_its_utc_day(client, deps, clock):
    customer = Customer(client, clock)
    clock.set(datetime(2031, 3, 14, 21, 30, tzinfo=UTC))  # 00:30 on the 15th in Kyiv (+03:00 in the payload)
    customer.pays("6001", "2100.00")
    shop = load_shop(deps, "day-tiers")
    repo = LoyaltyRepository(shop.shop_id)
    customer_id = customer.shop.customer(EMAIL)[1]["customer_id"]
    assert repo.load_profile(customer_id).spend_by_day == {date(2031, 3, 14): 210_000}
    clock.set(datetime(2032, 3, 13, 23, 59, tzinfo=UTC))
    assert customer.shop.customer(EMAIL)[1]["tier"] == "Silver"
    clock.set(datetime(2032, 3, 14, 0, 0, tzinfo=UTC))
    assert customer.shop.customer(EMAIL)[1]["tier"] is None


def test_an_account_stored_with_month_buckets_keeps_its_tier_and_a_refund_of_its_order(client, deps, clock):
    """A profile and an order record written before day counting: ``spend_by_month`` and the
    record's ``spend_month``. Read, refunded by webhook and written back, nothing is lost."""
    customer = Customer(client, clock)
    shop = load_shop(deps, "day-tiers")
    program = Program(shop.program, shop.currency_exponent, shop.timezone)
    repo = LoyaltyRepository(shop.shop_id)
    account = Account(shop.shop_id, "legacy-1", created_at=clock.now, email=EMAIL, lots=[])
    record = OrderRecord(shop.shop_id, "7001")
    paid = datetime(2031, 2, 20, 10, tzinfo=UTC)
    order = Order(order_id="7001", customer=CustomerFacts(email=EMAIL), currency="UAH",
                  lines=(OrderLine("1", 1, 300_000),), paid=True, paid_at=paid, name="#7001")
    apply_order(order, record, account, program, clock.now)
    repo.commit(Change(account=account, order=record), clock.now)
    # ... and now stored as the month-bucket code wrote them
    profile = ProfileItem.get(keys.customer_pk(shop.shop_id, "legacy-1"), keys.PROFILE_SK)
    profile.spend_by_day, profile.spend_by_month = None, {"2031-02": 300_000}
    profile.save()
    order_item = OrderItem.get(keys.order_pk(shop.shop_id, "7001"), keys.ORDER_SK)
    state = dict(order_item.state)
    del state["spend_day"]
    order_item.state = {**state, "spend_month": "2031-02"}
    order_item.save()
    loaded = repo.load_profile("legacy-1")
    assert loaded.tier_name == "Silver" and loaded.spend_by_day == {date(2031, 2, 1): 300_000}

    clock.set(datetime(2031, 4, 1, 12, tzinfo=UTC))
    customer.refunds("R-7001", "7001", "500.00")
    after = repo.load_profile("legacy-1")
    assert after.spend_by_day == {date(2031, 2, 1): 250_000} and after.lifetime_spend_minor == 250_000
    assert after.tier_name == "Silver"
    stored = ProfileItem.get(keys.customer_pk(shop.shop_id, "legacy-1"), keys.PROFILE_SK)
    assert stored.spend_by_month is None and stored.spend_by_day == {"2031-02-01": 250_000}
    # it leaves the window when its month did: 1 February 2032
    run_daily(deps, datetime(2032, 2, 1, 6, tzinfo=UTC), [shop.shop_id])
    assert repo.load_profile("legacy-1").tier_name is None


@pytest.mark.slow
def test_three_orders_a_day_for_five_years_keep_the_profile_item_small(table):
    """DynamoDB refuses items over 400 KB: the day buckets stay at a year's worth."""
    shop_id = "size-shop"
    program = Program(ProgramRules(tier_period="rolling_12_months"), 2, "Europe/Kyiv")
    account = Account(shop_id, "heavy", created_at=FIRST_PAID, email=EMAIL, lots=[])
    now = FIRST_PAID
    for day in range(5 * 365):
        now = FIRST_PAID + timedelta(days=day)
        for n in range(3):
            record = OrderRecord(shop_id, f"{day}-{n}")
            apply_order(Order(order_id=f"{day}-{n}", customer=CustomerFacts(email=EMAIL), currency="UAH",
                              lines=(OrderLine("1", 1, 123_456),), paid=True, paid_at=now, name=""),
                        record, account, program, now)
            if n == 2:
                apply_refund(Refund(f"R{day}", f"{day}-{n}", amount_minor=23_456), record, account, program, now)
        account.lots = account.lots[-10:]  # the lots are items of their own, not the profile's
    item = _profile_item(shop_id, account)
    size = dynamodb_item_size(item)
    print(f"\nprofile item after {5 * 365 * 3} orders: {len(account.spend_by_day)} day buckets, {size} bytes")
    assert len(account.spend_by_day) <= 366  # a year of days, 29 February included
    assert size < 16_000  # well under 400 KB


def dynamodb_item_size(item) -> int:
    """DynamoDB's item size: attribute names plus values (strings by UTF-8 length, numbers by
    about one byte per two digits plus one, sets and JSON strings as their text)."""
    total = 0
    for name, value in item.serialize().items():
        total += len(name.encode())
        (kind, raw), = value.items()
        if kind == "S":
            total += len(raw.encode())
        elif kind == "N":
            total += (len(raw.lstrip("-").replace(".", "")) + 1) // 2 + 1
        elif kind == "SS":
            total += sum(len(v.encode()) for v in raw)
        elif kind == "NS":
            total += sum((len(v) + 1) // 2 + 1 for v in raw)
        elif kind == "BOOL":
            total += 1
        else:
            total += len(json.dumps(raw))
    return total
