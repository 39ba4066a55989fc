"""WooCommerce money counted as the shop counts it: refunds of shipping, discounts given as
negative fees, orders paid in another currency, and amounts no order has. Real-shaped payloads
(tests/fixtures/platforms) through the webhook route to the ledger, read back through the
storefront API."""
from __future__ import annotations

import copy
import email
import json
import os
from email import policy
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest

from chalicelib.services.mail import mailer

from chalicelib.services.orders import reconciliation
from tests.support.clock import T0
from tests.support.fake_platforms import FakePlatform
from tests.support.mail import RecordingMessenger
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, register_shop

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
ENCODED = quote("maria.gonzalez+orders@example.com", safe="")
US_SHOP = {"currency": "USD", "timezone": "America/New_York", "default_locale": "en",
           "sender_email": "loyalty@us-woo-shop.example", "program": {"earn_rate": "1", "cashback_percent": "2"}}


def _fixture(name: str) -> dict | list:
    """A recorded payload moved to the test's clock (paid three days before T0)."""
    payload = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    paid = (T0 - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    for item in payload if isinstance(payload, list) else [payload]:
        for field in ("date_created_gmt", "date_paid_gmt", "date_modified_gmt", "date_completed_gmt"):
            if item.get(field):
                item[field] = paid
    return payload


def _paid(order: dict) -> dict:
    return {**copy.deepcopy(order), "status": "processing", "refunds": []}


def _delivered(shop, order: dict, topic: str = "order.updated") -> dict:
    response = shop.deliver(order, topic=topic)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _entries(shop) -> list[tuple]:
    status, history = shop.history(ENCODED)
    assert status == 200, history
    return sorted((e["kind"], e["points"], e["spend"], e["cashback"], e["cause"]) for e in history["entries"])


def _balance(shop) -> tuple:
    status, customer = shop.customer(ENCODED)
    assert status == 200, customer
    return customer["points_balance"], customer["cashback_balance"], customer["lifetime_spend"]


@pytest.fixture
def deps(fake_deps):
    return fake_deps


@pytest.fixture
def us_shop(memory_client):
    # Prices without sales tax (New York, 8.875 %), one point per dollar, 2 % cashback; no API credentials.
    return register_shop(memory_client, "us-woo-shop", "woocommerce", **US_SHOP)


@pytest.fixture
def platform():
    with FakePlatform() as fake:
        yield fake


@pytest.fixture
def us_shop_with_api(memory_client, platform):
    return register_shop(memory_client, "us-woo-api-shop", "woocommerce", **US_SHOP,
                         platform_api={"base_url": platform.url, "consumer_key": platform.consumer_key,
                                       "consumer_secret": platform.consumer_secret})


# Refunds ---------------------------------------------------------------------------------------

def test_a_shipping_only_refund_takes_nothing_back_when_the_shops_api_names_its_lines(us_shop_with_api, platform):
    # Headphones and a cable, 198.00 of goods after SAVE10, 10.00 flat rate shipping + 0.89 tax.
    # The parcel came a week late and the shop paid the shipping back: 10.89. The order webhook
    # lists the refund as {id, reason, total}; the refunds endpoint says it was the shipping line.
    order = _fixture("woocommerce_order_shipping_refunded.json")
    platform.woocommerce_orders.append(order)
    platform.woocommerce_refunds["4412"] = _fixture("woocommerce_order_refunds_shipping_only.json")
    assert _delivered(us_shop_with_api, _paid(order), "order.created")["points_earned"] == 198

    answer = _delivered(us_shop_with_api, order)
    assert answer["result"] == "applied" and answer.get("points_reversed", 0) == 0
    assert _balance(us_shop_with_api) == (198, "3.96", "198.00")
    assert platform.requests[-1] == "/wp-json/wc/v3/orders/4412/refunds?per_page=100"

    # WooCommerce resends the whole order on every change: an applied refund is not asked about again.
    asked = len(platform.requests)
    assert _delivered(us_shop_with_api, order)["result"] == "duplicate"
    assert len(platform.requests) == asked


def test_a_refund_with_its_lines_takes_back_exactly_the_line_it_returned(us_shop_with_api, platform):
    # One of two pairs of headphones back: 90.00 + 7.99 tax on line 1207. Spread by the bare total
    # over both lines it took 89 points (81.82 from the headphones, 8.18 from the cable); named, the
    # headphones give back half their 180 points and the cable keeps its 18.
    refunded = _fixture("woocommerce_order_tax_exclusive_refunded.json")
    platform.woocommerce_orders.append(refunded)
    platform.woocommerce_refunds["4412"] = _fixture("woocommerce_order_refunds_one_line.json")
    assert _delivered(us_shop_with_api, _paid(refunded), "order.created")["points_earned"] == 198
    assert _delivered(us_shop_with_api, refunded)["points_reversed"] == 90
    assert ("reverse", -90, "-90.00", "-1.80", "refund:4419") in _entries(us_shop_with_api)


def test_without_the_shops_api_a_refund_total_counts_as_goods_money(us_shop):
    # The documented rule for a refund only its total describes: goods first. 10.89 paid back
    # with tax is 10.00 of net goods money, spread over the lines (9.09 and 0.91): 9 points.
    order = _fixture("woocommerce_order_shipping_refunded.json")
    assert _delivered(us_shop, _paid(order), "order.created")["points_earned"] == 198
    assert _delivered(us_shop, order)["points_reversed"] == 9
    assert _balance(us_shop) == (189, "3.77", "188.00")


def test_an_unreachable_api_leaves_the_refund_to_its_total(memory_client):
    shop = register_shop(memory_client, "us-woo-down-shop", "woocommerce", **US_SHOP,
                         platform_api={"base_url": "http://127.0.0.1:9", "consumer_key": "ck_unreachable",
                                       "consumer_secret": "cs_unreachable"})
    order = _fixture("woocommerce_order_shipping_refunded.json")
    assert _delivered(shop, _paid(order), "order.created")["points_earned"] == 198
    assert _delivered(shop, order)["points_reversed"] == 9


def test_reconciliation_reads_the_lines_of_a_refund_no_webhook_brought(deps, us_shop_with_api, platform):
    order = _fixture("woocommerce_order_shipping_refunded.json")
    assert _delivered(us_shop_with_api, _paid(order), "order.created")["points_earned"] == 198
    platform.woocommerce_orders.append(order)
    platform.woocommerce_refunds["4412"] = _fixture("woocommerce_order_refunds_shipping_only.json")
    report = reconciliation.reconcile_shop(deps, "us-woo-api-shop", T0, since=T0 - timedelta(days=5))
    assert report["missed_refunds"] == ["4425"]
    assert _balance(us_shop_with_api) == (198, "3.96", "198.00")


# Negative fees ---------------------------------------------------------------------------------

def test_a_discount_given_as_a_negative_fee_earns_nothing_in_a_tax_exclusive_shop(us_shop):
    # 198.00 of goods less a "Bundle discount" fee of -19.80 (+ -1.76 tax): 178.20 earns,
    # spread over the lines by what they paid (162.00 and 16.20). The gift wrapping fee earns nothing.
    answer = _delivered(us_shop, _fixture("woocommerce_order_negative_fee_tax_exclusive.json"), "order.created")
    assert answer["points_earned"] == 178
    assert _balance(us_shop) == (178, "3.56", "178.20")


def test_a_negative_fee_in_a_shop_whose_prices_include_tax_takes_its_tax_off_too(memory_client):
    # The UAH shop (prices with 20 % VAT, 0.05 points per hryvnia): 1,650.00 of goods with VAT, less a
    # -100.00 fee with -20.00 of VAT: 1,530.00 earns 76 points, not 82.
    shop = register_shop(memory_client, "ua-woo-shop", "woocommerce")
    order = _fixture("woocommerce_order_refunded.json")
    order = {**order, "status": "processing", "refunds": [],
             "fee_lines": [{"id": 320, "name": "Знижка постійного клієнта", "tax_class": "", "tax_status": "taxable",
                            "amount": "-100", "total": "-100.00", "total_tax": "-20.00",
                            "taxes": [{"id": 75, "total": "-20", "subtotal": ""}], "meta_data": []}],
             "total": "1610.00"}
    assert _delivered(shop, order, "order.created")["points_earned"] == 76


# Currencies ------------------------------------------------------------------------------------

def test_an_order_paid_in_euros_through_woopayments_earns_on_its_dollars(us_shop):
    # WooPayments Multi-Currency: the customer paid in EUR at 0.92 EUR to the dollar, and the order
    # says so in its meta. 165.60 EUR of goods is 180.00 USD: 180 points, 3.60 cashback.
    answer = _delivered(us_shop, _fixture("woocommerce_order_wcpay_multi_currency.json"), "order.created")
    assert answer["result"] == "applied" and answer["points_earned"] == 180
    assert _balance(us_shop) == (180, "3.60", "180.00")


def test_an_order_in_another_currency_without_a_rate_is_ignored_where_the_shop_sees_it(memory_client, us_shop):
    order = _fixture("woocommerce_order_wcpay_multi_currency.json")
    order["meta_data"] = [m for m in order["meta_data"] if not m["key"].startswith("_wcpay_multi_currency")]
    answer = _delivered(us_shop, order, "order.created")
    assert answer["result"] == "ignored" and answer["skipped"] == "currency"
    assert "EUR" in answer["reason"] and "exchange rate" in answer["reason"]
    health = json.loads(memory_client.http.get("/admin/shops/us-woo-shop/webhook-health", headers=ADMIN).body)
    assert health["ignored_orders"] == {"currency": 1}
    assert health["last_ignored"].startswith("order 4437: order currency EUR")


# Amounts no order has --------------------------------------------------------------------------

def _post_purchase_text(deps) -> str:
    (message,) = [m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) if m["template"] == "post_purchase"]
    boto3.client("sesv2").create_email_identity(EmailIdentity="us-woo-shop.example")
    messenger = RecordingMessenger()
    assert mailer.send_message(deps, message, messenger=messenger)["status"] == "sent"
    (sent,) = messenger.sent
    return email.message_from_bytes(sent["raw"], policy=policy.default).get_body(("plain",)).get_content()


def test_the_largest_amount_a_payload_may_carry_breaks_nothing_downstream(deps, us_shop, memory_client):
    # 999,999,999,999.99 is the largest amount a payload passes validation with (fields.MAX_AMOUNT).
    order = _paid(_fixture("woocommerce_order_tax_exclusive_refunded.json"))
    order["line_items"] = [{**order["line_items"][0], "total": "999999999999.99", "total_tax": "0.00"}]
    order["total"] = "999999999999.99"
    answer = _delivered(us_shop, order, "order.created")
    assert answer["points_earned"] == 999_999_999_999
    points, cashback, spend = _balance(us_shop)
    assert (points, cashback, spend) == (999_999_999_999, "19999999999.99", "999999999999.99")
    assert us_shop.history(ENCODED)[0] == 200
    # The e-mail formats the figures in full, in the shop's locale.
    assert "999,999,999,999" in _post_purchase_text(deps)
    dashboard = memory_client.http.get("/admin/shops/us-woo-shop/dashboard", headers=ADMIN)
    assert dashboard.status_code == 200, dashboard.body
    status, code = us_shop.redeem(ENCODED, 999_999_999_999)
    assert status == 201, code
    assert code["value"] == "999999999999.00"
    # A refund of all of it takes all of it back: the points were spent, so they become debt.
    order["refunds"] = [{"id": 9001, "reason": "", "total": "-999999999999.99"}]
    order["status"] = "refunded"
    assert _delivered(us_shop, order)["points_reversed"] == 999_999_999_999
    assert _balance(us_shop) == (-999_999_999_999, "0.00", "0.00")
