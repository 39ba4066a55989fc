"""The WooCommerce adapter's money rules on real-shaped payloads: exchange rates a multi-currency
plugin recorded, refunds whose own lines are known, negative fees."""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

from chalicelib.platforms import woocommerce

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"


def _payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _order(payload: dict, shop_currency: str = "USD"):
    return woocommerce.order_from_payload(woocommerce.WooOrder.model_validate(payload), 2, shop_currency)


def _without(payload: dict, *keys: str) -> dict:
    return {**payload, "meta_data": [m for m in payload["meta_data"] if m["key"] not in keys]}


def test_an_aelia_order_is_counted_in_the_base_currency_at_its_recorded_rate():
    # A Danish shop (DKK) with Aelia Currency Switcher; the customer paid 110.00 EUR, 80.00 + 20.00
    # VAT of goods, at 7.46 DKK to the euro: 746.00 DKK of goods with VAT, 820.60 in all.
    order = _order(_payload("woocommerce_order_aelia_currency_switcher.json"), "DKK")
    assert order.currency == "DKK"
    assert [line.paid_minor for line in order.lines] == [74600]
    assert (order.shipping_minor, order.total_minor) == (7460, 82060)


def test_without_aelias_rate_the_ratio_of_its_base_total_serves():
    payload = _without(_payload("woocommerce_order_aelia_currency_switcher.json"), "_base_currency_exchange_rate")
    order = _order(payload, "DKK")
    assert (order.currency, order.lines[0].paid_minor, order.total_minor) == ("DKK", 74600, 82060)


def test_a_woopayments_rate_to_another_currency_than_the_shops_is_not_used():
    payload = copy.deepcopy(_payload("woocommerce_order_wcpay_multi_currency.json"))
    for meta in payload["meta_data"]:
        if meta["key"] == "_wcpay_multi_currency_order_default_currency":
            meta["value"] = "GBP"
    order = _order(payload, "USD")
    assert order.currency == "EUR"  # left in its own money: the ledger ignores it
    assert order.lines[0].paid_minor == 16560


def test_a_rate_no_two_currencies_have_is_not_used():
    payload = copy.deepcopy(_payload("woocommerce_order_aelia_currency_switcher.json"))
    payload["meta_data"] = [{**m, "value": "74600000"} if m["key"] == "_base_currency_exchange_rate" else m
                            for m in _without(payload, "_order_total_base_currency")["meta_data"]]
    assert woocommerce.shop_currency_rate(woocommerce.WooOrder.model_validate(payload), "DKK") is None


def test_an_order_in_the_shops_currency_is_left_as_it_is():
    payload = _payload("woocommerce_order_tax_exclusive_refunded.json")
    assert woocommerce.shop_currency_rate(woocommerce.WooOrder.model_validate(payload), "usd") == Decimal(1)


def test_money_a_refund_paid_beyond_its_lines_counts_as_goods():
    # WooCommerce lets the refund's amount exceed its lines: 20.00 for the shipping line (10.00 +
    # 0.89) and 9.11 more that names nothing, which is counted as goods (brought to net).
    order = _payload("woocommerce_order_shipping_refunded.json")
    resource = copy.deepcopy(_payload("woocommerce_order_refunds_shipping_only.json"))
    order["refunds"][0]["total"] = "-20.00"
    (refund,) = _order(woocommerce.with_refund_lines(order, resource)).refunds
    assert refund.lines == () and refund.amount_minor == 837  # 9.11 × 198.00 / 215.58


def test_a_refund_line_naming_no_order_line_is_spread_as_money():
    order = _payload("woocommerce_order_tax_exclusive_refunded.json")
    resource = copy.deepcopy(_payload("woocommerce_order_refunds_one_line.json"))
    resource[0]["line_items"][0]["meta_data"] = []
    (refund,) = _order(woocommerce.with_refund_lines(order, resource)).refunds
    assert refund.lines == () and refund.amount_minor == 9000


def test_a_refund_the_endpoint_did_not_describe_stays_a_bare_total():
    order = _payload("woocommerce_order_shipping_refunded.json")
    merged = woocommerce.with_refund_lines(order, [{"id": 1, "line_items": []}])
    assert merged["refunds"] == order["refunds"]


def test_a_positive_fee_earns_nothing_and_a_negative_one_larger_than_the_goods_leaves_nothing():
    payload = copy.deepcopy(_payload("woocommerce_order_negative_fee_tax_exclusive.json"))
    assert [line.paid_minor for line in _order(payload).lines] == [16200, 1620]
    payload["fee_lines"][-1].update({"total": "-500.00", "total_tax": "0.00"})
    assert [line.paid_minor for line in _order(payload).lines] == [0, 0]
