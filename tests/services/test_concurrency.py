"""Parallel deliveries against the moto server: exact totals, no lost update,
and the redemption race has exactly one winner."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.errors import Conflict
from devstack.samples import DEFAULT_EMAIL, sample_order_payload, signed_request
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.loyalty import storefront
from chalicelib.services.orders import webhooks
from chalicelib.store.loyalty.repository import LoyaltyRepository
from tests.support.shops import register_shop
from tests.support.webhooks import deliver_shopify, run_together

EMAIL = DEFAULT_EMAIL
ORDER_POINTS = 189


def test_parallel_orders_of_one_customer_all_count(deps, client):
    shop = register_shop(client, "busy-shop", "shopify")
    orders = [sample_order_payload("shopify", order_id=f"p-{n}", email=EMAIL) for n in range(12)]
    results = run_together([lambda o=o: deliver_shopify(deps, shop.shop_id, shop.secret, o, "orders/paid") for o in orders])
    assert [r["result"] for r in results] == ["applied"] * 12

    view = storefront.customer_view(deps, load_shop(deps, shop.shop_id), EMAIL)
    assert view["points_balance"] == 12 * ORDER_POINTS
    assert view["orders_count"] == 12
    assert view["lifetime_spend"] == "45588.00"
    page = LoyaltyRepository(shop.shop_id).ledger_page(load_shop(deps, shop.shop_id).customer_id_for(EMAIL), 100, None)
    assert sorted(e.points for e in page.entries if e.kind == "earn") == [ORDER_POINTS] * 12


def test_parallel_redeliveries_of_one_order_apply_once(deps, client):
    shop = register_shop(client, "retry-shop", "shopify")
    payload = sample_order_payload("shopify", order_id="dup-1", email=EMAIL)
    # Same event delivered 5 times (platform retries) and 5 more times under other topics/events.
    calls = [lambda: deliver_shopify(deps, shop.shop_id, shop.secret, payload, "orders/paid", "evt-same") for _ in range(5)]
    calls += [lambda n=n: deliver_shopify(deps, shop.shop_id, shop.secret, payload, "orders/updated", f"evt-{n}") for n in range(5)]
    results = run_together(calls)
    assert sorted(r["result"] for r in results) == ["applied"] + ["duplicate"] * 9
    assert storefront.customer_view(deps, load_shop(deps, shop.shop_id), EMAIL)["points_balance"] == ORDER_POINTS


def test_two_redemptions_of_the_whole_balance_exactly_one_wins(deps, client):
    shop = register_shop(client, "race-shop", "shopify")
    for n in range(2):
        deliver_shopify(deps, shop.shop_id, shop.secret, sample_order_payload("shopify", order_id=f"r-{n}", email=EMAIL),
                 "orders/paid")
    loaded = load_shop(deps, shop.shop_id)
    balance = 2 * ORDER_POINTS

    def redeem():
        try:
            return ("ok", storefront.redeem_points(deps, loaded, EMAIL, {"points": balance}))
        except Conflict as refusal:
            return ("refused", refusal.message)

    outcomes = run_together([redeem, redeem])
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
    refusal = next(detail for kind, detail in outcomes if kind == "refused")
    assert "balance is 0" in refusal
    assert storefront.customer_view(deps, loaded, EMAIL)["points_balance"] == 0


def test_redeemed_code_is_consumed_once_by_a_paid_order(deps, client):
    shop = register_shop(client, "code-shop", "shopify")
    deliver_shopify(deps, shop.shop_id, shop.secret, sample_order_payload("shopify", order_id="c-1", email=EMAIL), "orders/paid")
    status, code = shop.redeem(EMAIL, 100)
    assert status == 201

    first = deliver_shopify(deps, shop.shop_id, shop.secret, sample_order_payload(
        "shopify", order_id="c-2", email=EMAIL, discount_codes=[code["code"]]), "orders/paid")
    second = deliver_shopify(deps, shop.shop_id, shop.secret, sample_order_payload(
        "shopify", order_id="c-3", email="someone.else@example.com", discount_codes=[code["code"]]), "orders/paid")
    assert first["consumed_codes"] == [code["code"]]
    assert second["consumed_codes"] == []
    stored = LoyaltyRepository(shop.shop_id).load_code(code["code"])
    assert stored.status == "consumed" and stored.consumed_by_order == "c-2"
