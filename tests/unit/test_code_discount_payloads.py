"""What each discount code took off an order, read from the platforms' own payload shapes."""
from __future__ import annotations

from decimal import Decimal

from chalicelib.domain.platform_events import CodeDiscount, discount_by_code
from chalicelib.platforms import generic, shopify, woocommerce
from chalicelib.platforms.context import WebhookContext

SHOPIFY_ORDER = {
    "id": 820982911946154508, "currency": "UAH", "financial_status": "paid", "email": "olena@example.com",
    "total_price": "1245.00",
    "line_items": [
        {"id": 466157049, "quantity": 1, "price": "1000.00", "sku": "KAVA-1",
         "discount_allocations": [{"amount": "100.00", "discount_application_index": 0},
                                  {"amount": "50.00", "discount_application_index": 1}]},
        {"id": 518995019, "quantity": 2, "price": "200.00",
         "discount_allocations": [{"amount": "40.00", "discount_application_index": 0}]}],
    "shipping_lines": [{"price": "35.00", "discount_allocations": [{"amount": "35.00",
                                                                    "discount_application_index": 2}]}],
    "discount_applications": [
        {"type": "discount_code", "code": "DAY-KAVA2-KAVA2-KAVA2", "value": "10.0", "value_type": "percentage",
         "allocation_method": "across", "target_selection": "all", "target_type": "line_item"},
        {"type": "automatic", "title": "Spring", "value": "50.0", "value_type": "fixed_amount",
         "allocation_method": "across", "target_selection": "all", "target_type": "line_item"},
        {"type": "discount_code", "code": "SHIP-FREE0-FREE0-FREE0", "value": "100.0", "value_type": "percentage",
         "allocation_method": "each", "target_selection": "all", "target_type": "shipping_line"}],
}


def _shopify(payload: dict):
    return shopify.order_from_payload(shopify.ShopifyOrder.model_validate(payload), 2)


def test_shopify_discount_codes_state_the_amount():
    order = _shopify({**SHOPIFY_ORDER, "discount_codes": [
        {"code": "DAY-KAVA2-KAVA2-KAVA2", "amount": "140.00", "type": "percentage"},
        {"code": "SHIP-FREE0-FREE0-FREE0", "amount": "35.00", "type": "shipping"}]})
    assert order.discount_codes == ("DAY-KAVA2-KAVA2-KAVA2", "SHIP-FREE0-FREE0-FREE0")
    assert discount_by_code(order) == {"DAY-KAVA2-KAVA2-KAVA2": 14_000, "SHIP-FREE0-FREE0-FREE0": 3_500}


def test_shopify_codes_only_the_discount_applications_name_add_up_their_allocations():
    order = _shopify(SHOPIFY_ORDER)  # no discount_codes: the automatic discount is no code
    assert order.discount_codes == ("DAY-KAVA2-KAVA2-KAVA2", "SHIP-FREE0-FREE0-FREE0")
    assert order.code_discounts == (CodeDiscount("DAY-KAVA2-KAVA2-KAVA2", 14_000),
                                    CodeDiscount("SHIP-FREE0-FREE0-FREE0", 3_500))


def test_shopify_code_without_an_amount_counts_nothing_and_still_works():
    order = _shopify({**SHOPIFY_ORDER, "discount_applications": [], "discount_codes": [{"code": "DAY-X"}]})
    assert order.discount_codes == ("DAY-X",) and order.code_discounts == ()


def _woo(prices_include_tax: bool):
    payload = {"id": 727, "number": "727", "status": "processing", "currency": "UAH",
               "date_paid_gmt": "2031-05-20T09:00:00", "prices_include_tax": prices_include_tax,
               "billing": {"email": "olena@example.com"}, "total": "900.00",
               "line_items": [{"id": 315, "name": "Kava", "quantity": 1, "total": "750.00", "total_tax": "150.00"}],
               "coupon_lines": [{"id": 11, "code": "gift-freeb-freeb-freeb", "discount": "83.33",
                                 "discount_tax": "16.67", "meta_data": []},
                                {"id": 12, "code": "legacy"}]}
    return woocommerce.order_from_payload(woocommerce.WooOrder.model_validate(payload), 2)


def test_woocommerce_coupon_lines_with_their_tax_where_prices_include_it():
    assert _woo(True).code_discounts == (CodeDiscount("gift-freeb-freeb-freeb", 10_000),)
    assert _woo(False).code_discounts == (CodeDiscount("gift-freeb-freeb-freeb", 8_333),)
    assert discount_by_code(_woo(True)) == {"GIFT-FREEB-FREEB-FREEB": 10_000}


def test_generic_discounts_name_their_codes():
    webhook = {"type": "order", "order": {
        "id": "g-1", "currency": "UAH", "status": "paid", "customer": {"email": "olena@example.com"},
        "lines": [{"id": "1", "quantity": 1, "unit_price": "500.00", "discount": "50.00"}],
        "discount_codes": ["REF-OLENA"], "discounts": [{"code": "DAY-KAVA2", "amount": "50.00"}]}}
    order = generic.GenericOrder.model_validate(webhook["order"])
    assert order.discounts[0].amount == Decimal("50.00")
    parsed = generic._order(order, WebhookContext("shop", ("secret",), "UAH", 2))
    assert parsed.discount_codes == ("REF-OLENA", "DAY-KAVA2")
    assert parsed.code_discounts == (CodeDiscount("DAY-KAVA2", 5_000),)
