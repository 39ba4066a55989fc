"""The post-purchase mail's money rows are the order's: each platform's real-shaped payload goes
through its webhook mapping, the outbox message and the render, and the plain text shows the
payload's own subtotal, discount, shipping, fees, tax and total, in the shop's currency and the
customer's locale; a row the order does not state (or that is zero) is not shown."""
from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.domain.loyalty.rules import Outcome
from chalicelib.domain.mail.outbox import post_purchase_message
from chalicelib.domain.money import to_minor
from chalicelib.domain.platform_events import Order, OrderEvent
from chalicelib.errors import BadRequest
from chalicelib.mail.base import ContextError
from chalicelib.mail.contexts import SAMPLE_NOW, build_context, sample_account, sample_links, sample_shop
from chalicelib.mail.formatting import FormatError, formatter
from chalicelib.mail.rendering import TemplateSet
from chalicelib.platforms import WebhookContext, parse_webhook
from chalicelib.platforms.signing import sign_generic, sign_shopify, sign_woocommerce
from devstack.samples import sample_order_payload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
NOW = datetime(2024, 5, 22, 9, 15, tzinfo=timezone.utc)
SECRET = "whsec_receipt_5b1d"
EMAILS = TemplateSet.default()


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def delivered_order(platform: str, payload: dict, currency: str, exponent: int = 2) -> Order:
    """The order as the platform's signed webhook delivers it."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if platform == "shopify":
        headers = {"X-Shopify-Topic": "orders/paid",
                   "X-Shopify-Hmac-Sha256": sign_shopify(SECRET, body)}
    elif platform == "woocommerce":
        headers = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": sign_woocommerce(SECRET, body)}
    else:
        headers = {"X-Loyalty-Signature": sign_generic(SECRET, body, int(NOW.timestamp()))}
    ctx = WebhookContext(shop_id="shop-1", secrets=(SECRET,), currency=currency, minor_exponent=exponent)
    event = parse_webhook(platform, ctx, headers, body, NOW).event
    assert isinstance(event, OrderEvent)
    return event.order


def mail_text(order: Order, currency: str, exponent: int = 2, locale: str = "en") -> str:
    shop = replace(sample_shop(locale), currency=currency, currency_exponent=exponent)
    message = post_purchase_message(shop.shop_id, "customer-1", order, Outcome(points_earned=10), NOW)
    json.dumps(message)  # it waits in the outbox as JSON
    context = build_context("post_purchase", shop=shop, account=sample_account(locale, shop), data=message["data"],
                            links=sample_links(locale), now=SAMPLE_NOW)
    return EMAILS.render("post_purchase", locale, context).text


def money(amount, currency: str, exponent: int = 2, locale: str = "en") -> str:
    """``amount`` (a payload's decimal string) as the mail formats it."""
    return formatter(locale, currency, exponent, "Europe/Kyiv").money(to_minor(Decimal(str(amount)), exponent))


def rows(text: str) -> dict[str, str]:
    """The money rows below the items (label → amount), and the tax said under the total."""
    lines = text.splitlines()
    last_item = max(index for index, line in enumerate(lines) if line.startswith("- ") and " × " in line)
    found = {}
    for line in lines[last_item + 1:]:
        if line.startswith("Including "):
            found["Including"] = line[len("Including "):-len(" tax")]
            continue
        if ": " not in line or line.startswith("Your "):
            break
        label, amount = line.split(": ", 1)
        found[label] = amount
    return found


# -- Shopify ---------------------------------------------------------------------------------------
def test_shopify_markets_order_shows_what_the_customer_paid_in_their_currency():
    """A CAD shop's order paid in USD: items and rows are the payload's presentment money."""
    payload = fixture("shopify_order_multi_currency_tax_exclusive.json")
    paid_in = payload["presentment_currency"]
    assert paid_in != payload["currency"]

    def presented(name: str) -> str:
        return payload[name]["presentment_money"]["amount"]

    text = mail_text(delivered_order("shopify", payload, payload["currency"]), payload["currency"])
    codes = ", ".join(code["code"] for code in payload["discount_codes"])
    discounts = payload.get("current_total_discounts_set") or payload["total_discounts_set"]
    assert rows(text) == {
        "Subtotal": money(presented("total_line_items_price_set"), paid_in),
        f"Discount ({codes})": money("-" + discounts["presentment_money"]["amount"], paid_in),
        "Tax": money(presented("current_total_tax_set"), paid_in),
        "Total": money(presented("current_total_price_set"), paid_in),
    }  # no shipping row: it was free
    line = payload["line_items"][0]
    price = Decimal(line["price_set"]["presentment_money"]["amount"]) * line["quantity"]
    assert f" × {line['quantity']}: {money(price, paid_in)}" in text


def test_shopify_markets_order_without_presentment_figures_shows_shop_money():
    payload = fixture("shopify_order_multi_currency_tax_exclusive.json")
    for line in payload["line_items"]:
        line.pop("price_set", None)
    currency = payload["currency"]
    text = mail_text(delivered_order("shopify", payload, currency), currency)
    codes = ", ".join(code["code"] for code in payload["discount_codes"])
    assert rows(text) == {
        "Subtotal": money(payload["total_line_items_price"], currency),
        f"Discount ({codes})": money("-" + payload["current_total_discounts"], currency),
        "Tax": money(payload["current_total_tax"], currency),
        "Total": money(payload["current_total_price"], currency),
    }


def test_shopify_order_edited_before_payment_shows_what_was_paid_after_the_edit():
    payload = fixture("shopify_order_edited_before_payment.json")
    currency = payload["currency"]
    text = mail_text(delivered_order("shopify", payload, currency), currency)
    shipping = payload["total_shipping_price_set"]["shop_money"]["amount"] if payload.get("total_shipping_price_set") \
        else payload["shipping_lines"][0]["price"]
    assert rows(text) == {
        "Subtotal": money(payload["current_subtotal_price"], currency),  # no discount left after the edit
        "Shipping": money(shipping, currency),
        "Total": money(payload["current_total_price"], currency),
    }
    assert money(payload["total_price"], currency) not in text  # the figure before the edit


def test_shopify_order_already_partly_refunded_shows_the_order_as_it_was_paid():
    payload = fixture("shopify_order_partially_refunded.json")
    currency = payload["currency"]
    text = mail_text(delivered_order("shopify", payload, currency), currency)
    assert rows(text)["Total"] == money(payload["total_price"], currency)
    assert rows(text)["Subtotal"] == money(payload["total_line_items_price"], currency)


def _yen_order() -> dict:
    """A Japanese shop's order (no minor unit): prices include consumption tax, a 10 % code."""
    return {
        "id": 5870001, "name": "#2001", "email": "hana@example.jp", "currency": "JPY", "presentment_currency": "JPY",
        "financial_status": "paid", "taxes_included": True, "customer_locale": "en",
        "created_at": "2024-05-22T18:00:00+09:00", "processed_at": "2024-05-22T18:00:00+09:00",
        "total_line_items_price": "3300", "subtotal_price": "2970", "current_subtotal_price": "2970",
        "total_discounts": "330", "current_total_discounts": "330",
        "total_tax": "343", "current_total_tax": "343", "total_price": "3770", "current_total_price": "3770",
        "total_shipping_price_set": {"shop_money": {"amount": "800", "currency_code": "JPY"},
                                     "presentment_money": {"amount": "800", "currency_code": "JPY"}},
        "discount_codes": [{"code": "WELCOME10", "amount": "330", "type": "percentage"}],
        "discount_applications": [{"type": "discount_code", "code": "WELCOME10", "value": "10.0",
                                   "value_type": "percentage", "target_type": "line_item"}],
        "line_items": [{"id": 1401, "quantity": 2, "current_quantity": 2, "price": "1650", "title": "Sencha, 100 g",
                        "discount_allocations": [{"amount": "330", "discount_application_index": 0}],
                        "tax_lines": [{"price": "220", "rate": 0.08, "title": "JCT"}]}],
        "shipping_lines": [{"price": "800", "discount_allocations": [],
                            "tax_lines": [{"price": "73", "rate": 0.1, "title": "JCT"}]}],
        "customer": {"id": 77001, "email": "hana@example.jp", "first_name": "Hana"},
    }


def test_shopify_tax_inclusive_yen_order_says_the_tax_inside_its_total():
    payload = _yen_order()
    text = mail_text(delivered_order("shopify", payload, "JPY", exponent=0), "JPY", exponent=0)
    assert rows(text) == {
        "Subtotal": money(payload["total_line_items_price"], "JPY", 0),
        "Discount (WELCOME10)": money("-330", "JPY", 0),
        "Shipping": money("800", "JPY", 0),
        "Total": money(payload["current_total_price"], "JPY", 0),
        "Including": money(payload["current_total_tax"], "JPY", 0),
    }
    assert "¥3,770" in text and "\nTax:" not in text


def test_shopify_total_the_rows_do_not_reach_keeps_only_the_rows_it_states():
    """A tip (or duties) is in the total and in no row: subtotal and discount are left out rather
    than shown beside a total they do not add up to."""
    payload = _yen_order()
    payload.update(total_tip_received="500", total_price="4270", current_total_price="4270")
    text = mail_text(delivered_order("shopify", payload, "JPY", exponent=0), "JPY", exponent=0)
    assert rows(text) == {"Shipping": money("800", "JPY", 0), "Total": money("4270", "JPY", 0),
                          "Including": money("343", "JPY", 0)}


# -- WooCommerce -----------------------------------------------------------------------------------
def test_woocommerce_tax_inclusive_order_shows_its_rows_with_their_tax():
    payload = fixture("woocommerce_order_completed_tracking.json")
    currency = payload["currency"]
    text = mail_text(delivered_order("woocommerce", payload, currency), currency, locale="en")
    with_tax = lambda amount, tax: str(Decimal(amount) + Decimal(tax))  # noqa: E731 - the shop shows prices with tax
    subtotal = sum(Decimal(line["subtotal"]) + Decimal(line["subtotal_tax"]) for line in payload["line_items"])
    codes = ", ".join(coupon["code"] for coupon in payload["coupon_lines"])
    assert rows(text) == {
        "Subtotal": money(subtotal, currency),
        f"Discount ({codes})": money("-" + with_tax(payload["discount_total"], payload["discount_tax"]), currency),
        "Shipping": money(with_tax(payload["shipping_total"], payload["shipping_tax"]), currency),
        "Total": money(payload["total"], currency),
        "Including": money(payload["total_tax"], currency),
    }


def test_woocommerce_tax_exclusive_order_shows_tax_and_fee_rows():
    payload = fixture("woocommerce_order_tax_exclusive_refunded.json")
    currency = payload["currency"]
    text = mail_text(delivered_order("woocommerce", payload, currency), currency)
    fee = payload["fee_lines"][0]
    codes = ", ".join(coupon["code"] for coupon in payload["coupon_lines"])
    assert rows(text) == {
        "Subtotal": money(sum(Decimal(line["subtotal"]) for line in payload["line_items"]), currency),
        f"Discount ({codes})": money("-" + payload["discount_total"], currency),
        "Shipping": money(payload["shipping_total"], currency),
        fee["name"]: money(fee["total"], currency),
        "Tax": money(payload["total_tax"], currency),
        "Total": money(payload["total"], currency),  # as paid: the refund came later
    }


def test_woocommerce_rows_in_german():
    payload = fixture("woocommerce_order_tax_exclusive_refunded.json")
    text = mail_text(delivered_order("woocommerce", payload, "USD"), "USD", locale="de")
    assert f"Gesamt: {money(payload['total'], 'USD', locale='de')}" in text
    assert f"Steuern: {money(payload['total_tax'], 'USD', locale='de')}" in text
    assert f"Versand: {money(payload['shipping_total'], 'USD', locale='de')}" in text


# -- generic and the devstack's samples ------------------------------------------------------------
def test_generic_order_shows_its_discount_shipping_and_total():
    payload = sample_order_payload("generic", order_id="1001", email="olena.koval@example.com", created_at=NOW,
                                   locale="en")
    order = payload["order"]
    order["lines"][0]["discount"] = "50.00"
    order["total"] = str(sum(Decimal(line["unit_price"]) * line["quantity"] for line in order["lines"])
                         - Decimal("50.00") + Decimal(order["shipping"]))
    text = mail_text(delivered_order("generic", payload, "UAH"), "UAH")
    assert rows(text) == {
        "Subtotal": money(sum(Decimal(line["unit_price"]) * line["quantity"] for line in order["lines"]), "UAH"),
        "Discount": money("-50.00", "UAH"),
        "Shipping": money(order["shipping"], "UAH"),
        "Total": money(order["total"], "UAH"),
    }


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "generic"])
def test_devstack_sample_order_rows_add_up_to_its_total(platform):
    payload = sample_order_payload(platform, order_id="1001", email="olena.koval@example.com", created_at=NOW,
                                   discount_codes=["SPRING"] if platform != "generic" else (), locale="en")
    order = delivered_order(platform, payload, "UAH")
    found = rows(mail_text(order, "UAH"))
    assert found["Total"] == money(Decimal(order.total_minor) / 100, "UAH")
    assert "Subtotal" in found and "Shipping" in found


# -- data without a receipt ------------------------------------------------------------------------
def test_a_message_queued_before_receipts_were_kept_shows_no_total_it_does_not_know():
    shop = sample_shop("en")
    data = {"order_id": "1", "order_name": "#1", "points_earned": 5,
            "items": [{"title": "Coffee", "quantity": 2, "total_minor": 3_000},
                      {"title": "Filters", "quantity": 1, "total_minor": 799}]}
    context = build_context("post_purchase", shop=shop, account=sample_account("en", shop), data=copy.deepcopy(data),
                            links=sample_links("en"), now=SAMPLE_NOW)
    text = EMAILS.render("post_purchase", "en", context).text
    assert rows(text) == {"Subtotal": formatter("en", shop.currency, 2, shop.timezone).money(3_799)}
    assert "Total:" not in text.split("Subtotal:")[1].split("Your ")[0]


@pytest.mark.parametrize("receipt, complaint", [
    ({"total_minor": 12.5}, "receipt.total_minor"),
    ({"subtotal_minor": 100}, "receipt.total_minor"),
    ({"total_minor": 100, "taxes_included": "yes"}, "taxes_included"),
    ({"total_minor": 100, "fees": [{"name": "Wrap", "amount_minor": "x"}]}, "receipt.fees.amount_minor"),
    ({"total_minor": 100, "shiping_minor": 5}, "unknown receipt keys"),
])
def test_a_receipt_the_mail_cannot_show_truthfully_is_refused_by_name(receipt, complaint):
    shop = sample_shop("en")
    data = {"order_id": "1", "order_name": "#1", "points_earned": 5, "receipt": receipt,
            "items": [{"title": "Coffee", "quantity": 1, "total_minor": 100}]}
    with pytest.raises(ContextError, match=complaint):
        build_context("post_purchase", shop=shop, account=sample_account("en", shop), data=data,
                      links=sample_links("en"), now=SAMPLE_NOW)


def test_money_in_another_currency_uses_that_currency_s_minor_unit():
    uk = formatter("uk", "UAH", 2, "Europe/Kyiv")
    assert uk.money(3_770, "JPY") == formatter("uk", "JPY", 0, "Europe/Kyiv").money(3_770)
    assert uk.money(151_905, "USD") == formatter("uk", "USD", 2, "Europe/Kyiv").money(151_905)
    assert uk.money(387_900, None) == uk.money(387_900, "UAH") == uk.money(387_900)
    with pytest.raises(FormatError, match="currency code"):
        uk.money(100, "dollars")


def test_a_malformed_receipt_figure_is_not_stated_and_never_refuses_the_order():
    """A 400 would make the platform retry and then drop the order, points and all."""
    payload = _yen_order()
    payload.update(current_total_price="about 3770", total_price="3770",
                   current_total_tax={"amount": None}, total_shipping_price_set={"shop_money": {"amount": "x"}})
    payload["line_items"][0]["price_set"] = "1650"
    order = delivered_order("shopify", payload, "JPY", exponent=0)
    assert order.receipt is not None and order.receipt.total_minor == 3_770
    woo = fixture("woocommerce_order_tax_exclusive_refunded.json")
    woo.update(discount_total="n/a", total_tax={"x": 1})
    order = delivered_order("woocommerce", woo, "USD")
    assert order.receipt.total_minor == to_minor(Decimal(woo["total"]), 2) and order.receipt.subtotal_minor is None


def test_a_malformed_fee_is_refused_naming_it_as_the_ledger_counts_fees():
    """A negative fee is a discount that lowers the spend that earns points (docs/data-model.md), so a
    fee's amount is a ledger figure, validated as the lines' are, not a figure only shown."""
    woo = fixture("woocommerce_order_tax_exclusive_refunded.json")
    woo.update(fee_lines=[{"name": "Gift wrapping", "total": {"x": 1}}])
    with pytest.raises(BadRequest, match="fee_lines.0.total"):
        delivered_order("woocommerce", woo, "USD")
