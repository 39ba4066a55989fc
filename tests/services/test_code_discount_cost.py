"""The discounts the program's codes gave at the checkout, as part of the ROI's reward cost: recorded
from the platforms' own payloads inside the order's transaction (its ledger entry), counted once,
never twice for a redemption code whose value is already the redeemed value (points: 5 per 100
spent, worth 1.00 each; cashback 2 %)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.loyalty.codes import REWARD, SPECIAL_DAY, RewardCode
from devstack.samples import sample_order_payload, signed_request
from tests.support.clock import FakeClock, install_clock
from tests.support.shops import ADMIN, register_shop

UTC = timezone.utc
OPENED = datetime(2031, 5, 20, 9, 0, tzinfo=UTC)
DAY_CODE, GIFT_CODE = "DAY-KAVA2-KAVA2-KAVA2", "GIFT-FREEB-FREEB-FREEB"


@pytest.fixture
def clock(table) -> FakeClock:
    return install_clock(OPENED)


def _deliver(client, shop, clock, payload: dict, topic: str = "orders/paid") -> dict:
    headers, raw = signed_request(shop.platform, shop.secret, payload,
                                  topic=topic if shop.platform == "shopify" else None, now=clock.now)
    response = client.http.post(f"/webhooks/{shop.platform}/{shop.shop_id}", headers=headers, body=raw)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _order(shop, clock, order_id: str, email: str, price: str, discount: str = "0", codes=()) -> dict:
    return sample_order_payload(shop.platform, order_id=order_id, email=email, created_at=clock.now, shipping="0.00",
                                lines=[{"id": "1", "title": "Coffee", "quantity": 1, "unit_price": price,
                                        "discount": discount}], discount_codes=list(codes))


def _codes(deps, shop_id: str) -> None:
    common = dict(shop_id=shop_id, customer_id=None, value_minor=0, points=0, created_at=OPENED,
                  starts_at=OPENED - timedelta(days=1), expires_at=OPENED + timedelta(days=30), shared=True)
    deps.repos.loyalty(shop_id).add_new_codes([
        RewardCode(code=DAY_CODE, kind=SPECIAL_DAY, discount_percent="10", **common),
        RewardCode(code=GIFT_CODE, kind=REWARD, free_product_sku=None, **common)])


def _roi(client, shop) -> dict:
    response = client.http.get(f"/admin/shops/{shop.shop_id}/dashboard?days=7", headers=ADMIN)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "generic"])
def test_code_discounts_count_in_the_reward_cost_once(client, deps, clock, platform):
    shop = register_shop(client, f"codes-{platform}", platform)
    _codes(deps, shop.shop_id)
    assert _deliver(client, shop, clock, _order(shop, clock, "7001", "olena@example.com", "2000.00"))["result"] == "applied"
    status, redemption = shop.redeem("olena@example.com", 100)  # a PTS- code worth 100.00: the redeemed value
    assert status == 201, redemption
    clock.advance(hours=1)
    paid = _deliver(client, shop, clock, _order(shop, clock, "7002", "olena@example.com", "1500.00", "150.00",
                                                [DAY_CODE.lower()]))
    assert paid["consumed_codes"] == [DAY_CODE]
    used_points = _deliver(client, shop, clock, _order(shop, clock, "7003", "olena@example.com", "600.00", "100.00",
                                                       [redemption["code"]]))
    assert used_points["consumed_codes"] == [redemption["code"]]
    # a free gift: the code takes the whole price off, so the order spends and earns nothing
    free = _deliver(client, shop, clock, _order(shop, clock, "7004", "taras@example.com", "80.00", "80.00", [GIFT_CODE]))
    assert free["consumed_codes"] == [GIFT_CODE]
    # the platform sends the paid order again (an update): nothing is counted twice
    update = _order(shop, clock, "7002", "olena@example.com", "1500.00", "150.00", [DAY_CODE])
    _deliver(client, shop, clock, update, topic="orders/updated")

    board = _roi(client, shop)
    roi = board["roi"]
    assert roi["codes_discount"] == "230.00" and roi["codes_discount_minor"] == 23_000  # 150 + 80, not the PTS code's 100
    assert roi["redeemed_value"] == "100.00"
    cashback = roi["cashback_cost"]
    assert roi["reward_cost_minor"] == 10_000 + 23_000 + round(float(cashback) * 100)
    assert board["period"]["codes_discount"] == "230.00"
    assert "codes_discount" in board["definitions"]["reward_cost"]


def test_the_discount_is_written_in_the_orders_ledger_entry(client, deps, clock):
    shop = register_shop(client, "codes-ledger", "shopify")
    _codes(deps, shop.shop_id)
    _deliver(client, shop, clock, _order(shop, clock, "7101", "olena@example.com", "1000.00", "100.00", [DAY_CODE]))
    _deliver(client, shop, clock, _order(shop, clock, "7102", "olena@example.com", "40.00", "40.00", [GIFT_CODE]))
    status, history = shop.history("olena@example.com")
    assert status == 200, history
    entries = history.get("entries") or history.get("history") or history
    by_cause = {entry["cause"]: entry for entry in entries if entry.get("cause", "").startswith("order:")}
    assert by_cause["order:7101"]["detail"]["code_discounts"] == {DAY_CODE: 10_000}
    assert by_cause["order:7102"]["kind"] == "code_discount"
    assert by_cause["order:7102"]["detail"]["code_discounts"] == {GIFT_CODE: 4_000}


def test_which_codes_discounts_are_a_reward_cost():
    from chalicelib.domain.loyalty.codes import CASHBACK, MEMBERSHIP, REDEMPTION
    from chalicelib.domain.platform_events import CodeDiscount, CustomerFacts, Order
    from chalicelib.services.loyalty.ledger import reward_discounts

    def code(name: str, kind: str) -> RewardCode:
        return RewardCode(code=name, shop_id="s", kind=kind, customer_id=None, value_minor=0, points=0,
                          created_at=OPENED, expires_at=OPENED + timedelta(days=1))

    order = Order(order_id="o", customer=CustomerFacts(email="a@example.com"), currency="UAH", lines=(), paid=True,
                  discount_codes=("PTS-A", "cash-b", "SHIP-C", "ref-friend", "OTHER10"),
                  code_discounts=(CodeDiscount("PTS-A", 10_000), CodeDiscount("cash-b", 2_000),
                                  CodeDiscount("SHIP-C", 3_500), CodeDiscount("ref-friend", 5_000),
                                  CodeDiscount("OTHER10", 700)))
    consumed = [code("PTS-A", REDEMPTION), code("CASH-B", CASHBACK), code("SHIP-C", MEMBERSHIP)]
    # points and cashback were counted when spent or credited; the shop's own code is no program cost
    assert reward_discounts(order, consumed) == {"REF-FRIEND": 5_000, "SHIP-C": 3_500}
    assert reward_discounts(order, []) == {"REF-FRIEND": 5_000}  # a referral code is never used up


def test_the_customers_timeline_says_what_each_code_took_off(client, deps, clock):
    shop = register_shop(client, "codes-timeline", "shopify")
    _codes(deps, shop.shop_id)
    _deliver(client, shop, clock, _order(shop, clock, "7201", "olena@example.com", "1000.00", "100.00", [DAY_CODE]))
    response = client.http.get(f"/admin/shops/{shop.shop_id}/customers/olena@example.com/timeline", headers=ADMIN)
    assert response.status_code == 200, response.body
    orders = [e for e in json.loads(response.body)["events"] if e.get("cause") == "order:7201" and e["type"] == "order"]
    assert [e["code_discounts"] for e in orders if "code_discounts" in e] == [{DAY_CODE: "100.00"}]
