"""Order webhooks through the API on moto: effects, duplicates, rejections."""
from __future__ import annotations

import json

import pytest

from devstack.samples import DEFAULT_EMAIL, sample_order_payload, sample_refund_payload, signed_request
from tests.support.shops import register_shop

EMAIL = DEFAULT_EMAIL
# Default sample order: 2 × 450.00 + 1 × 2899.00 = 3799.00 UAH of goods, 80.00 shipping.
ORDER_POINTS = 189  # floor(3799 × 0.05)


def body(response) -> dict:
    return json.loads(response.body)


def test_paid_shopify_order_earns_points_tier_and_cashback(shopify_shop):
    response = shopify_shop.deliver(sample_order_payload("shopify", order_id="1001", email=EMAIL), topic="orders/paid")
    assert response.status_code == 200
    assert body(response)["result"] == "applied"
    assert body(response)["points_earned"] == ORDER_POINTS

    status, view = shopify_shop.customer(EMAIL)
    assert status == 200
    assert view["points_balance"] == ORDER_POINTS
    assert view["tier"] == "Silver" and view["discount_percent"] == "5"
    assert view["next_tier"] == "Gold" and view["spend_to_next_tier"] == "1201.00"
    assert view["cashback_balance"] == "75.98"  # 2 % of 3799.00
    assert view["lifetime_spend"] == "3799.00"  # shipping is not spend
    assert view["orders_count"] == 1
    assert [lot["points"] for lot in view["expiring"]] == [ORDER_POINTS]


def test_redelivery_and_other_topics_of_the_same_order_count_once(shopify_shop):
    payload = sample_order_payload("shopify", order_id="1002", email=EMAIL)
    first = shopify_shop.deliver(payload, topic="orders/paid", event_id="evt-1")
    again = shopify_shop.deliver(payload, topic="orders/paid", event_id="evt-1")
    updated = shopify_shop.deliver(payload, topic="orders/updated", event_id="evt-2")
    assert [body(r)["result"] for r in (first, again, updated)] == ["applied", "duplicate", "duplicate"]
    assert shopify_shop.customer(EMAIL)[1]["points_balance"] == ORDER_POINTS
    _, history = shopify_shop.history(EMAIL)
    assert [entry["kind"] for entry in history["entries"]] == ["cashback", "earn"]


def test_unpaid_order_earns_nothing_until_paid(shopify_shop):
    created = shopify_shop.deliver(sample_order_payload("shopify", order_id="1003", email=EMAIL, paid=False),
                                   topic="orders/create")
    assert body(created)["points_earned"] == 0
    paid = shopify_shop.deliver(sample_order_payload("shopify", order_id="1003", email=EMAIL), topic="orders/paid")
    assert body(paid)["points_earned"] == ORDER_POINTS


def test_refund_reverses_the_lines_share_and_cancel_reverses_the_rest(shopify_shop):
    shopify_shop.deliver(sample_order_payload("shopify", order_id="1004", email=EMAIL), topic="orders/paid")
    refund = shopify_shop.deliver(sample_refund_payload("shopify", refund_id="r-1", order_id="1004"),
                                  topic="refunds/create")
    assert body(refund)["result"] == "applied"
    assert body(refund)["points_reversed"] == 22  # line 1 earned 45 of the 189 (largest remainder); one of its two units: floor(45 / 2)
    cancel = shopify_shop.deliver(sample_order_payload("shopify", order_id="1004", email=EMAIL, cancelled=True),
                                  topic="orders/cancelled")
    assert body(cancel)["points_reversed"] == ORDER_POINTS - 22
    view = shopify_shop.customer(EMAIL)[1]
    assert (view["points_balance"], view["cashback_balance"], view["lifetime_spend"], view["orders_count"],
            view["tier"]) == (0, "0.00", "0.00", 0, None)


def test_refund_before_the_order_waits_and_applies_when_paid(shopify_shop):
    early = shopify_shop.deliver(sample_refund_payload("shopify", refund_id="r-early", order_id="1005"),
                                 topic="refunds/create")
    assert body(early)["result"] == "applied" and "pending" in body(early)
    assert shopify_shop.customer(EMAIL)[0] == 404  # nothing credited to anyone yet
    paid = shopify_shop.deliver(sample_order_payload("shopify", order_id="1005", email=EMAIL), topic="orders/paid")
    assert body(paid)["points_earned"] == ORDER_POINTS
    assert body(paid)["points_reversed"] == 22
    assert shopify_shop.customer(EMAIL)[1]["points_balance"] == ORDER_POINTS - 22
    again = shopify_shop.deliver(sample_refund_payload("shopify", refund_id="r-early", order_id="1005"),
                                 topic="refunds/create", event_id="another-delivery")
    assert body(again)["result"] == "duplicate"


def test_spent_points_of_a_refunded_order_make_the_balance_negative(shopify_shop):
    shopify_shop.deliver(sample_order_payload("shopify", order_id="1006", email=EMAIL), topic="orders/paid")
    status, code = shopify_shop.redeem(EMAIL, 150)
    assert status == 201 and code["code"].startswith("PTS-")
    shopify_shop.deliver(sample_order_payload("shopify", order_id="1006", email=EMAIL, cancelled=True),
                         topic="orders/cancelled")
    view = shopify_shop.customer(EMAIL)[1]
    assert view["points_balance"] == ORDER_POINTS - 150 - ORDER_POINTS
    assert view["redeemable"] is False
    status, refusal = shopify_shop.redeem(EMAIL, 100)
    assert status == 409 and "blocked" in refusal["message"]


def test_woocommerce_order_refund_and_ping(woo_shop):
    ping = woo_shop.client.http.post("/webhooks/woocommerce/woo-shop", body=b"webhook_id=17",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert ping.status_code == 200 and body(ping)["result"] == "ignored"
    created = woo_shop.deliver(sample_order_payload("woocommerce", order_id="501", email=EMAIL),
                               topic="order.created")
    assert body(created)["points_earned"] == ORDER_POINTS
    refunded = woo_shop.deliver(sample_refund_payload("woocommerce", refund_id="77", order_id="501", amount="450.00"),
                                topic="order.updated")
    assert body(refunded)["result"] == "applied" and body(refunded)["points_reversed"] > 0
    assert woo_shop.deliver(sample_refund_payload("woocommerce", refund_id="77", order_id="501", amount="450.00"),
                            topic="order.updated").status_code == 200
    assert woo_shop.customer(EMAIL)[1]["points_balance"] == ORDER_POINTS - body(refunded)["points_reversed"]


def test_generic_order_and_refund(generic_shop):
    order = generic_shop.deliver(sample_order_payload("generic", order_id="g-1", email=EMAIL))
    assert body(order)["points_earned"] == ORDER_POINTS
    refund = generic_shop.deliver(sample_refund_payload("generic", refund_id="gr-1", order_id="g-1",
                                                        lines=[{"line_id": "2", "quantity": 1}]))
    assert body(refund)["points_reversed"] == 144  # the headphones line: 189 − 45
    view = generic_shop.customer(EMAIL)[1]
    assert view["lifetime_spend"] == "900.00"


# -- rejections: the right status, a field named, and nothing stored -----------------------------
def _assert_nothing_stored(shop):
    assert shop.customer(EMAIL)[0] == 404


def test_bad_signature_is_401_and_stores_nothing(shopify_shop):
    headers, raw = signed_request("shopify", "not-the-secret-at-all", sample_order_payload("shopify", order_id="9",
                                                                                          email=EMAIL))
    response = shopify_shop.client.http.post("/webhooks/shopify/shopify-shop", headers=headers, body=raw)
    assert response.status_code == 401
    assert "not-the-secret" not in response.body.decode()
    _assert_nothing_stored(shopify_shop)


def test_missing_signature_is_401(shopify_shop):
    headers, raw = signed_request("shopify", shopify_shop.secret, sample_order_payload("shopify", order_id="9",
                                                                                      email=EMAIL))
    del headers["X-Shopify-Hmac-Sha256"]
    assert shopify_shop.client.http.post("/webhooks/shopify/shopify-shop", headers=headers,
                                         body=raw).status_code == 401


def test_tampered_body_is_401(shopify_shop):
    headers, raw = signed_request("shopify", shopify_shop.secret, sample_order_payload("shopify", order_id="9",
                                                                                      email=EMAIL))
    tampered = raw.replace(b'"2899.00"', b'"28990.00"')
    assert tampered != raw
    assert shopify_shop.client.http.post("/webhooks/shopify/shopify-shop", headers=headers,
                                         body=tampered).status_code == 401
    _assert_nothing_stored(shopify_shop)


def test_previous_secret_still_verifies_during_rotation(client, shopify_shop):
    from tests.support.shops import ADMIN, shop_document

    rotated = shop_document("shopify", webhook_secret="whsec-rotated-secret-99999")
    assert client.http.put("/admin/shops/shopify-shop", headers=ADMIN,
                           body=json.dumps(rotated).encode()).status_code == 200
    old = shopify_shop.deliver(sample_order_payload("shopify", order_id="r1", email=EMAIL), topic="orders/paid")
    new = shopify_shop.deliver(sample_order_payload("shopify", order_id="r2", email=EMAIL), topic="orders/paid",
                               secret="whsec-rotated-secret-99999")
    assert old.status_code == new.status_code == 200


def test_malformed_json_is_400_naming_the_body(generic_shop):
    headers, _ = signed_request("generic", generic_shop.secret, {"type": "order"})
    raw = b'{"type": "order", '
    from chalicelib.platforms.signing import sign_generic
    import time

    headers["X-Loyalty-Signature"] = sign_generic(generic_shop.secret, raw, int(time.time()))
    response = generic_shop.client.http.post("/webhooks/generic/generic-shop", headers=headers, body=raw)
    assert response.status_code == 400 and body(response)["field"] == "body"


def test_missing_field_is_400_naming_it(generic_shop):
    payload = sample_order_payload("generic", order_id="g-2", email=EMAIL)
    del payload["order"]["lines"][0]["quantity"]
    response = generic_shop.deliver(payload)
    assert response.status_code == 400
    assert body(response)["field"] == "order.lines.0.quantity"
    _assert_nothing_stored(generic_shop)


def test_unknown_shop_is_404(client):
    headers, raw = signed_request("shopify", "whatever-secret-123456", sample_order_payload("shopify", order_id="1",
                                                                                           email=EMAIL))
    response = client.http.post("/webhooks/shopify/no-such-shop", headers=headers, body=raw)
    assert response.status_code == 404 and body(response)["field"] == "shop_id"


def test_wrong_platform_for_the_shop_is_404(shopify_shop):
    response = shopify_shop.deliver(sample_order_payload("woocommerce", order_id="1", email=EMAIL),
                                    platform="woocommerce", topic="order.created")
    assert response.status_code == 404 and body(response)["field"] == "platform"


def test_oversized_body_is_413(shopify_shop):
    raw = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    from chalicelib.platforms.signing import sign_shopify

    response = shopify_shop.client.http.post(
        "/webhooks/shopify/shopify-shop", body=raw,
        headers={"Content-Type": "application/json", "X-Shopify-Topic": "orders/paid",
                 "X-Shopify-Hmac-Sha256": sign_shopify(shopify_shop.secret, raw)})
    assert response.status_code == 413


@pytest.mark.parametrize("topic", ["inventory_levels/update", "app/uninstalled"])
def test_unknown_and_unused_topics_are_ignored_with_200(shopify_shop, topic):
    response = shopify_shop.deliver({"id": 1}, topic=topic)
    assert response.status_code == 200 and body(response)["result"] == "ignored"


def test_test_orders_are_ignored(shopify_shop):
    payload = sample_order_payload("shopify", order_id="t-1", email=EMAIL)
    payload["test"] = True
    response = shopify_shop.deliver(payload, topic="orders/paid")
    assert body(response)["result"] == "ignored"
    _assert_nothing_stored(shopify_shop)


def test_customer_redact_erases_the_account(deps, shopify_shop):
    shopify_shop.deliver(sample_order_payload("shopify", order_id="1010", email=EMAIL), topic="orders/paid")
    response = shopify_shop.deliver({"shop_id": 1, "shop_domain": "demo-shop.myshopify.com",
                                     "customer": {"id": 1, "email": EMAIL, "phone": None}, "orders_to_redact": []},
                                    topic="customers/redact")
    assert body(response)["result"] == "applied"
    assert shopify_shop.customer(EMAIL)[0] == 404  # no longer found by e-mail

    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.store.loyalty.repository import LoyaltyRepository

    shop = load_shop(deps, "shopify-shop")
    assert LoyaltyRepository("shopify-shop").load_account(shop.customer_id_for(EMAIL)) is None
    assert LoyaltyRepository("shopify-shop").load_order("1010") is None  # its orders went with it
    # (tests/integration/test_personal_data.py holds the rest)


def test_second_shop_is_separate(client, shopify_shop):
    other = register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    shopify_shop.deliver(sample_order_payload("shopify", order_id="1", email=EMAIL), topic="orders/paid")
    assert other.customer(EMAIL)[0] == 404
    # another shop's API key opens nothing here
    response = client.http.get(f"/shops/shopify-shop/customers/{EMAIL}", headers={"X-Api-Key": other.api_key})
    assert response.status_code == 401
