"""Orders as real shops send them (tests/fixtures/platforms), through the webhook route to the
ledger and the post-purchase e-mail: the exact points, cashback and spend each delivery leaves,
read back through the storefront API the way a storefront's HTTP client encodes the address."""
from __future__ import annotations

import copy
import email
import json
import os
from datetime import timedelta
from email import policy
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest

from chalicelib.services.mail import mailer
from devstack.samples import sample_order_payload
from tests.support.clock import T0
from tests.support.mail import RecordingMessenger
from tests.support.queues import drain_queue
from tests.support.shops import register_shop

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
EMAIL = "Maria.Gonzalez+orders@Example.com"  # as the shop's checkout stored it
ENCODED = quote(EMAIL.lower(), safe="")  # maria.gonzalez%2Borders%40example.com
SHOPIFY_ENCODED = quote("iryna.shevchenko@example.com", safe="")


@pytest.fixture
def deps(fake_deps):
    return fake_deps


@pytest.fixture
def ua_shop(memory_client):
    # The test shops' program: 0.05 points and 2 % cashback per UAH.
    return register_shop(memory_client, "ua-shopify-shop", "shopify")


@pytest.fixture
def us_shop(memory_client):
    # A US shop: prices without sales tax, one point per dollar, 2 % cashback.
    return register_shop(memory_client, "us-woo-shop", "woocommerce", currency="USD", timezone="America/New_York",
                         default_locale="en", sender_email="loyalty@us-woo-shop.example",
                         program={"earn_rate": "1", "cashback_percent": "2"})


def _at_test_time(order: dict) -> dict:
    """The recorded order moved to the test's clock (paid three days before T0): lots of 2024
    would have lapsed whenever the suite runs."""
    order = copy.deepcopy(order)
    paid = T0 - timedelta(days=3)
    for field in ("date_created_gmt", "date_paid_gmt", "date_modified_gmt", "date_completed_gmt"):
        if field in order:
            order[field] = paid.strftime("%Y-%m-%dT%H:%M:%S")
    for field in ("created_at", "processed_at", "updated_at"):
        if field in order:
            order[field] = paid.isoformat()
    return order


def _fixture(name: str) -> dict:
    return _at_test_time(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def _delivered(shop, order: dict, topic: str) -> dict:
    response = shop.deliver(order, topic=topic)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _entries(shop, encoded: str = ENCODED) -> list[tuple]:
    status, history = shop.history(encoded)
    assert status == 200, history
    return sorted((e["kind"], e["points"], e["spend"], e["cashback"], e["cause"]) for e in history["entries"])


def test_a_partial_refund_in_a_shop_without_tax_in_prices_takes_back_its_net_share(us_shop):
    refunded = _fixture("woocommerce_order_tax_exclusive_refunded.json")
    paid = {**copy.deepcopy(refunded), "status": "processing", "refunds": []}
    assert _delivered(us_shop, paid, "order.created")["points_earned"] == 198  # 180.00 + 18.00 net goods
    assert _delivered(us_shop, refunded, "order.updated")["points_reversed"] == 89

    # One of two pairs of headphones came back: 97.99 paid back with its sales tax, 90.00 of the
    # 198.00 the lines earned on, spread over the lines by their spend (81.82 and 8.18): the
    # points and cashback of 90.00, not of 97.99 (which took 97 points and 1.95 cashback).
    assert _entries(us_shop) == [
        ("cashback", 0, "0.00", "3.96", "order:4412"),
        ("earn", 198, "198.00", "0.00", "order:4412"),
        ("reverse", -89, "-90.00", "-1.79", "refund:4419"),
    ]
    status, customer = us_shop.customer(ENCODED)
    assert status == 200
    assert (customer["points_balance"], customer["cashback_balance"], customer["lifetime_spend"]) == \
        (109, "2.17", "108.00")


def _post_purchase_text(deps) -> str:
    (message,) = [m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) if m["template"] == "post_purchase"]
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    messenger = RecordingMessenger()
    assert mailer.send_message(deps, message, messenger=messenger)["status"] == "sent"
    (sent,) = messenger.sent
    return email.message_from_bytes(sent["raw"], policy=policy.default).get_body(("plain",)).get_content()


def test_units_an_edit_removed_before_a_cash_on_delivery_payment_earn_nothing(deps, ua_shop):
    # Ordered: two cases (450.00 each) and headphones (2,609.00 after SPRING10); before paying
    # on delivery the customer dropped the headphones and one case. Paid: one case, 450.00.
    answer = _delivered(ua_shop, _fixture("shopify_order_edited_before_payment.json"), "orders/paid")
    assert (answer["points_earned"], answer["tier"]) == (22, None)  # floor(450.00 × 0.05), not 175 and Silver
    assert _entries(ua_shop, SHOPIFY_ENCODED) == [
        ("cashback", 0, "0.00", "9.00", "order:5678901239876"),
        ("earn", 22, "450.00", "0.00", "order:5678901239876"),
    ]
    # The e-mail promises what the ledger holds, and lists what was bought.
    text = _post_purchase_text(deps)
    assert "+22" in text and "+175" not in text
    assert "× 1: 450,00" in text and "JBL" not in text


def test_a_shopify_payments_money_refund_takes_its_points_back_while_pending(ua_shop):
    # 1,000.00 of a 3,799.00 order paid back as goodwill through Shopify Payments: its
    # refunds/create carries the transaction "pending", and is the only one that ever comes.
    order = sample_order_payload("shopify", order_id="5678901234999", email="iryna.shevchenko@example.com",
                                 created_at=T0 - timedelta(days=3))
    assert _delivered(ua_shop, order, "orders/paid")["points_earned"] == 189
    refund = _fixture("shopify_refunds_create_amount_only_pending.json")
    assert _delivered(ua_shop, refund, "refunds/create")["points_reversed"] == 48  # 1,000.00 over the lines by spend: 11 of 45, 37 of 144
    assert _delivered(ua_shop, refund, "refunds/create")["result"] == "duplicate"
    assert ("reverse", -48, "-1000.00", "-19.99", "refund:912345679012") in _entries(ua_shop, SHOPIFY_ENCODED)


@pytest.fixture
def ca_shop(memory_client):
    # A Canadian shop selling through Shopify Markets: its money is CAD, its US customers pay in
    # USD, and US sales tax is charged on top of prices. One point per dollar, 2 % cashback.
    return register_shop(memory_client, "ca-shopify-shop", "shopify", currency="CAD", timezone="America/Toronto",
                         default_locale="en", sender_email="loyalty@ca-shopify-shop.example",
                         program={"earn_rate": "1", "cashback_percent": "2"})


def test_a_money_refund_in_the_customers_currency_takes_back_its_net_shop_money(ca_shop):
    # Three snowboards, 1,861.06 CAD after FIRSTRUN10 plus 187.97 CAD of Washington sales tax,
    # paid as USD 1,519.05. Two boards' worth is paid back as goodwill, no lines named: USD
    # 1,012.70 on the transaction, CAD -1,366.02 on the refund discrepancy's shop money.
    # (Shapes and figures: a real Shopify Markets refunds/create of a CAD shop's USD order.)
    encoded = quote("dana.whitfield@example.com", safe="")
    order = _fixture("shopify_order_multi_currency_tax_exclusive.json")
    assert _delivered(ca_shop, order, "orders/paid")["points_earned"] == 1861
    refund = _fixture("shopify_refunds_create_amount_only_presentment.json")
    # 1,366.02 CAD with tax is 1,240.71 CAD of the 1,861.06 the board earned on: two thirds of
    # its points, cashback and spend. Read as CAD, the USD took 1,012 points; taken gross, 1,365.
    assert _delivered(ca_shop, refund, "refunds/create")["points_reversed"] == 1240
    assert _entries(ca_shop, encoded) == [
        ("cashback", 0, "0.00", "37.22", "order:4182097789057"),
        ("earn", 1861, "1861.06", "0.00", "order:4182097789057"),
        ("reverse", -1240, "-1240.71", "-24.81", "refund:829190245571"),
    ]
    status, customer = ca_shop.customer(encoded)
    assert status == 200
    assert (customer["points_balance"], customer["cashback_balance"], customer["lifetime_spend"]) == \
        (621, "12.41", "620.35")


def test_a_money_refund_with_tax_that_arrives_before_its_order_is_brought_to_net_when_paid(ca_shop):
    # The refund waits on the stored order record, its "paid back with tax" mark with it.
    encoded = quote("dana.whitfield@example.com", safe="")
    refund = _fixture("shopify_refunds_create_amount_only_presentment.json")
    assert _delivered(ca_shop, refund, "refunds/create")["pending"]
    assert _delivered(ca_shop, _fixture("shopify_order_multi_currency_tax_exclusive.json"), "orders/paid")["points_reversed"] == 1240
    assert ("reverse", -1240, "-1240.71", "-24.81", "refund:829190245571") in _entries(ca_shop, encoded)
