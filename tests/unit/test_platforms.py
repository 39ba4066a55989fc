"""Shop platform webhooks: signatures, strict bodies, validation, mapping."""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.platform_events import (
    CustomerEvent,
    CustomerFacts,
    IgnoredEvent,
    OrderDeletedEvent,
    OrderEvent,
    RedactEvent,
    Refund,
    RefundEvent,
    RefundLine,
)
from chalicelib.errors import BadRequest, NotFound, Unauthorized
from chalicelib.platforms.body import load_json_object
from chalicelib.platforms import PLATFORMS, WebhookContext, parse_webhook
from chalicelib.platforms.generic_schema import SCHEMA_PATH, generic_webhook_json_schema
from devstack.samples import php_json_body, sample_order_payload, sample_refund_payload, signed_request
from chalicelib.platforms.signing import sign_generic, sign_shopify, sign_woocommerce
from tests.support.payloads import mutated_payloads
from tests.support.examples import examples

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
NOW = datetime(2024, 5, 22, 9, 15, tzinfo=timezone.utc)
CURRENT_SECRET = "whsec_current_7f3a9c"
PREVIOUS_SECRET = "whsec_previous_19c2e4"
CTX = WebhookContext(shop_id="shop-1", secrets=(CURRENT_SECRET, PREVIOUS_SECRET), currency="UAH", minor_exponent=2)
KYIV = timezone(timedelta(hours=3))

SIGNATURE_HEADERS = {
    "shopify": "X-Shopify-Hmac-Sha256",
    "woocommerce": "X-WC-Webhook-Signature",
    "generic": "X-Loyalty-Signature",
}


def order_payload(platform: str, **overrides) -> dict:
    return sample_order_payload(platform, order_id="1001", email="olena.koval@example.com", created_at=datetime(2024, 5, 22, 12, 0, tzinfo=KYIV), **overrides)


def deliver(platform: str, payload: dict, *, secret: str = CURRENT_SECRET, topic: str | None = None, ctx: WebhookContext = CTX):
    headers, body = signed_request(platform, secret, payload, topic=topic, now=NOW)
    return parse_webhook(platform, ctx, headers, body, NOW)


def signed_headers(platform: str, body: bytes, *, topic: str, secret: str = CURRENT_SECRET) -> dict[str, str]:
    if platform == "shopify":
        return {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": sign_shopify(secret, body), "X-Shopify-Event-Id": "evt-1"}
    if platform == "woocommerce":
        return {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": sign_woocommerce(secret, body), "X-WC-Webhook-Delivery-ID": "d-1"}
    return {"X-Loyalty-Signature": sign_generic(secret, body, int(NOW.timestamp()))}


def deliver_bytes(platform: str, body: bytes, *, topic: str = "orders/create"):
    return parse_webhook(platform, CTX, signed_headers(platform, body, topic=topic), body, NOW)


def deliver_fixture(platform: str, name: str, *, topic: str):
    # Recorded-shape files are signed byte for byte as stored.
    return deliver_bytes(platform, (FIXTURES / name).read_bytes(), topic=topic)


DEFAULT_TOPIC = {"shopify": "orders/create", "woocommerce": "order.created", "generic": None}


# --- signatures -------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("secret", [CURRENT_SECRET, PREVIOUS_SECRET])
def test_signature_with_current_or_previous_secret_is_accepted(platform, secret):
    delivery = deliver(platform, order_payload(platform), secret=secret)
    assert isinstance(delivery.event, OrderEvent)
    assert delivery.event.order.order_id == "1001"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_tampered_body_is_unauthorized(platform):
    headers, body = signed_request(platform, CURRENT_SECRET, order_payload(platform), now=NOW)
    tampered = body.replace(b"2899.00", b"2898.00", 1)
    assert tampered != body
    with pytest.raises(Unauthorized, match="does not match"):
        parse_webhook(platform, CTX, headers, tampered, NOW)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_missing_signature_header_is_unauthorized(platform):
    headers, body = signed_request(platform, CURRENT_SECRET, order_payload(platform), now=NOW)
    del headers[SIGNATURE_HEADERS[platform]]
    with pytest.raises(Unauthorized, match=f"missing {SIGNATURE_HEADERS[platform]}"):
        parse_webhook(platform, CTX, headers, body, NOW)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_unknown_secret_is_rejected_without_leaking_secrets_or_signatures(platform):
    headers, body = signed_request(platform, "someone-elses-secret", order_payload(platform), now=NOW)
    with pytest.raises(Unauthorized) as caught:
        parse_webhook(platform, CTX, headers, body, NOW)
    text = json.dumps(caught.value.to_body())
    for secret in (CURRENT_SECRET, PREVIOUS_SECRET):
        assert secret not in text
    expected = signed_request(platform, CURRENT_SECRET, order_payload(platform), now=NOW)[0][SIGNATURE_HEADERS[platform]]
    assert expected.split("v1=")[-1] not in text


@pytest.mark.parametrize("platform", PLATFORMS)
def test_header_names_are_matched_in_any_capitalisation(platform):
    headers, body = signed_request(platform, CURRENT_SECRET, order_payload(platform), now=NOW)
    shouted = {name.upper(): value for name, value in headers.items()}
    assert isinstance(parse_webhook(platform, CTX, shouted, body, NOW).event, OrderEvent)


def test_empty_secrets_never_verify():
    no_secret = WebhookContext(shop_id="s", secrets=("",), currency="UAH", minor_exponent=2)
    headers, body = signed_request("shopify", "", order_payload("shopify"), now=NOW)
    with pytest.raises(Unauthorized, match="no webhook secret"):
        parse_webhook("shopify", no_secret, headers, body, NOW)


def test_unknown_platform_is_not_found():
    with pytest.raises(NotFound):
        parse_webhook("magento", CTX, {}, b"{}", NOW)


# --- generic signature header ---------------------------------------------------


def generic_body() -> bytes:
    return signed_request("generic", CURRENT_SECRET, order_payload("generic"), now=NOW)[1]


@pytest.mark.parametrize("age_seconds", [301, -301])
def test_generic_signature_outside_tolerance_is_a_replay(age_seconds):
    body = generic_body()
    sent_at = int(NOW.timestamp()) - age_seconds
    headers = {"X-Loyalty-Signature": sign_generic(CURRENT_SECRET, body, sent_at)}
    with pytest.raises(Unauthorized, match="300 s"):
        parse_webhook("generic", CTX, headers, body, NOW)


def test_generic_signature_within_tolerance_is_accepted():
    body = generic_body()
    headers = {"X-Loyalty-Signature": sign_generic(CURRENT_SECRET, body, int(NOW.timestamp()) - 299)}
    assert isinstance(parse_webhook("generic", CTX, headers, body, NOW).event, OrderEvent)


@pytest.mark.parametrize(
    "header",
    ["garbage", "t=,v1=00", "t=12x,v1=00", "v1=00", f"t={int(NOW.timestamp())}", "t=1,t=2,v1=00", f"t=１２,v1=00"],
)
def test_malformed_generic_signature_header_is_unauthorized(header):
    with pytest.raises(Unauthorized, match="malformed"):
        parse_webhook("generic", CTX, {"X-Loyalty-Signature": header}, generic_body(), NOW)


def test_generic_header_may_carry_several_signatures_during_rotation():
    body = generic_body()
    t = int(NOW.timestamp())
    stale = sign_generic("retired-secret", body, t).split(",")[1]
    fresh = sign_generic(PREVIOUS_SECRET, body, t).split(",")[1]
    headers = {"X-Loyalty-Signature": f"t={t}, {stale}, {fresh}, v0=ignored"}
    assert isinstance(parse_webhook("generic", CTX, headers, body, NOW).event, OrderEvent)


# --- WooCommerce ping -------------------------------------------------------------


def test_woocommerce_creation_ping_is_ignored_without_signature():
    delivery = parse_webhook("woocommerce", CTX, {"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=12", NOW, "application/x-www-form-urlencoded")
    assert delivery.event == IgnoredEvent("ping")
    assert delivery.topic == "ping"


@pytest.mark.parametrize("body", [b"webhook_id=12&x=1", b"webhook_id=abc", b"webhook_id=", b'{"webhook_id": 12}'])
def test_other_unsigned_woocommerce_bodies_are_unauthorized(body):
    with pytest.raises(Unauthorized):
        parse_webhook("woocommerce", CTX, {}, body, NOW, "application/x-www-form-urlencoded")


# --- strict body ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{", b"", b"[1, 2]", b'"text"', b"\xff\xfe{}", b'{"total_price": NaN}', b"\xef\xbb\xbf{}", b'{"a": "\\ud800"}'],
)
def test_body_that_is_not_a_json_object_is_bad_request(body):
    with pytest.raises(BadRequest) as caught:
        deliver_bytes("shopify", body)
    assert caught.value.field == "body"
    assert caught.value.message.startswith("body is not valid JSON: ")


@pytest.mark.parametrize("text", ["{", "", "\ufeff{}", '{"a": NaN}', '{"a": -Infinity}', '{"a": 1,}', '{"a" 1}',
                                  '{"a": 1} x', '{"a": "\x01"}', '{"a": ' + "9" * 5000 + "}"])
def test_the_strict_decoder_refuses_what_json_loads_refuses_with_its_reason(text):
    """The decoder made once gives the reasons ``json.loads`` with the same options gave."""
    def refuse(name):
        raise ValueError(f"{name} is not a JSON number")
    with pytest.raises(ValueError) as expected:
        json.loads(text, object_pairs_hook=dict, parse_float=Decimal, parse_constant=refuse)
    with pytest.raises(BadRequest) as caught:
        load_json_object(text.encode())
    assert caught.value.message == f"body is not valid JSON: {expected.value}"


def test_the_strict_decoder_reads_what_json_loads_reads():
    text = '{"a": 1.10, "b": [1, -0, 2e3, "ї\\u0457"], "c": {"d": null, "e": true}}'
    loaded = load_json_object(text.encode())
    assert loaded == json.loads(text, parse_float=Decimal)
    assert loaded["a"] == Decimal("1.10") and str(loaded["a"]) == "1.10" and loaded["b"][2] == Decimal("2e3")


@pytest.mark.parametrize("body", [b'{"\\uDC00": 1}', b'{"a": {"b": ["ok", "\\udbff"]}}', b'{"a": "\\\\ \\ud800"}'])
def test_a_lone_surrogate_anywhere_is_refused(body):
    """Keys and nested values too: only a surrogate escape can make one, and any such escape
    sends the body through the check of every string."""
    with pytest.raises(BadRequest, match="unpaired surrogate") as caught:
        load_json_object(body)
    assert caught.value.field == "body"


@pytest.mark.parametrize("body", [b'{"note": "\\ud83d\\ude00"}', b'{"path": "C:\\\\ud800"}'])
def test_surrogate_pairs_and_escaped_backslashes_are_not_lone_surrogates(body):
    assert load_json_object(body) == json.loads(body)


def test_depth_is_checked_when_the_body_also_has_surrogate_escapes():
    body = b'{"s": "\\ud83d\\ude00", "a":' + b"[" * 64 + b"]" * 64 + b"}"
    with pytest.raises(BadRequest, match="nested deeper than 64 levels"):
        load_json_object(body)


def test_duplicate_keys_are_rejected_naming_the_key():
    with pytest.raises(BadRequest, match="duplicate key 'total_price'") as caught:
        deliver_bytes("shopify", b'{"id": 1, "total_price": "1.00", "total_price": "999.00"}')
    assert caught.value.field == "body"


@pytest.mark.parametrize("depth", [65, 100_000])
def test_nesting_beyond_64_levels_is_rejected_cleanly(depth):
    body = b'{"a":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    with pytest.raises(BadRequest, match="nested deeper than 64 levels"):
        deliver_bytes("shopify", body)


def test_nesting_of_64_levels_is_allowed():
    body = b'{"a":' + b"[" * 63 + b"]" * 63 + b"}"
    assert deliver_bytes("shopify", body, topic="shop/update").event == IgnoredEvent("unsupported topic shop/update")


# --- validation errors name the field ---------------------------------------------------


def test_missing_required_field_is_named_by_dotted_path():
    payload = order_payload("shopify")
    del payload["line_items"][0]["price"]
    with pytest.raises(BadRequest) as caught:
        deliver("shopify", payload)
    assert caught.value.field == "line_items.0.price"
    assert caught.value.message == "line_items.0.price: field required"


@pytest.mark.parametrize("price", ["4,50", "abc", "1e3", True, None, "NaN", 10**15])
def test_amount_that_is_not_a_decimal_is_named(price):
    payload = order_payload("shopify")
    payload["line_items"][1]["price"] = price
    with pytest.raises(BadRequest) as caught:
        deliver("shopify", payload)
    assert caught.value.field == "line_items.1.price"
    assert caught.value.message.startswith("line_items.1.price: ")


def test_generic_missing_field_is_named_by_dotted_path():
    payload = order_payload("generic")
    del payload["order"]["lines"][1]["unit_price"]
    with pytest.raises(BadRequest) as caught:
        deliver("generic", payload)
    assert caught.value.field == "order.lines.1.unit_price"


def test_missing_topic_header_is_bad_request():
    body = b'{"id": 1}'
    with pytest.raises(BadRequest, match="X-Shopify-Topic"):
        parse_webhook("shopify", CTX, {"X-Shopify-Hmac-Sha256": sign_shopify(CURRENT_SECRET, body)}, body, NOW)


# --- Shopify mapping ---------------------------------------------------------------


def test_shopify_paid_order_maps_lines_discounts_gift_cards_and_refunds():
    delivery = deliver_fixture("shopify", "shopify_order_partially_refunded.json", topic="orders/updated")
    order = delivery.event.order
    assert delivery.event_id == "evt-1"
    assert delivery.topic == "orders/updated"
    # 450.00 × 2; 2899.00 − (289.90 + 0.10) from discount_allocations; gift card.
    assert [line.paid_minor for line in order.lines] == [90000, 260900, 50000]
    assert [line.gift_card for line in order.lines] == [False, False, True]
    assert order.lines[0].sku == "CASE-IP15-BLK" and order.lines[0].product_id == "8301234567890"
    assert order.lines[2].sku is None  # Shopify's "" means no SKU
    assert order.shipping_minor == 8000
    assert order.total_minor == 408900 == sum(line.paid_minor for line in order.lines) + order.shipping_minor
    assert order.paid and not order.cancelled and not order.fully_refunded
    assert order.paid_at == datetime(2024, 5, 14, 7, 32, 9, tzinfo=timezone.utc)
    assert order.name == "#1042" and order.currency == "UAH" and order.discount_codes == ("SPRING10",)
    assert order.status_url.startswith("https://demo-shop.myshopify.com/")
    assert order.customer == CustomerFacts(
        email="Iryna.Shevchenko@example.com",
        platform_customer_id="7012345678901",
        first_name="Iryna",
        last_name="Shevchenko",
        locale="uk-UA",
        marketing_consent=True,
        updated_at=datetime(2024, 5, 14, 10, 32, 12, tzinfo=KYIV),
    )
    assert order.refunds == (
        Refund(
            refund_id="912345678901",
            order_id="5678901234567",
            lines=(RefundLine("14011223344556", quantity=1), RefundLine("14011223344557", quantity=0, amount_minor=5000)),
            created_at=datetime(2024, 5, 20, 16, 5, 40, tzinfo=KYIV),
        ),
    )


def test_shopify_line_falls_back_to_total_discount_without_allocations():
    payload = order_payload("shopify")
    line = payload["line_items"][1]
    del line["discount_allocations"]
    line["total_discount"] = "99.00"
    order = deliver("shopify", payload).event.order
    assert order.lines[1].paid_minor == 289900 - 9900


@pytest.mark.parametrize("topic", ["orders/create", "orders/paid", "orders/updated", "orders/cancelled"])
def test_shopify_test_orders_are_ignored(topic):
    payload = order_payload("shopify")
    payload["test"] = True
    assert deliver("shopify", payload, topic=topic).event == IgnoredEvent("test order")


def test_shopify_unpaid_and_cancelled_order():
    order = deliver("shopify", order_payload("shopify", paid=False, cancelled=True), topic="orders/cancelled").event.order
    assert not order.paid and order.paid_at is None and order.cancelled


def test_shopify_consent_falls_back_to_legacy_flag_and_is_unknown_when_absent():
    payload = order_payload("shopify")
    del payload["customer"]["email_marketing_consent"]
    assert deliver("shopify", payload).event.order.customer.marketing_consent is None
    payload["customer"]["accepts_marketing"] = False
    assert deliver("shopify", payload).event.order.customer.marketing_consent is False


def test_shopify_units_an_order_edit_removed_before_payment_are_not_bought():
    # Cash on delivery: the customer called and dropped the headphones and one of two cases
    # before paying. Shopify keeps the lines at their ordered quantity and says what is left in
    # current_quantity (API 2024-01 on); no refund is made, as nothing was paid for them.
    order = deliver_fixture("shopify", "shopify_order_edited_before_payment.json", topic="orders/paid").event.order
    assert order.paid and order.refunds == ()
    assert [(line.quantity, line.paid_minor) for line in order.lines] == [(1, 45000), (0, 0)]


def test_shopify_current_quantity_counts_refunded_units_as_bought():
    # Units refunded are bought and then taken back by their refund, even where
    # current_quantity already leaves them out: only units gone without a refund are removed.
    payload = json.loads((FIXTURES / "shopify_order_partially_refunded.json").read_text(encoding="utf-8"))
    payload["line_items"][0]["current_quantity"] = 1  # 2 ordered, 1 of them in the refund
    order = deliver("shopify", payload, topic="orders/updated").event.order
    assert [(line.quantity, line.paid_minor) for line in order.lines] == [(2, 90000), (1, 260900), (1, 50000)]
    payload["line_items"][0]["current_quantity"] = 0  # and the other one removed by an edit
    order = deliver("shopify", payload, topic="orders/updated").event.order
    assert [(line.quantity, line.paid_minor) for line in order.lines] == [(1, 45000), (1, 260900), (1, 50000)]


def test_shopify_payments_money_refund_counts_while_its_transaction_is_pending():
    # Shopify Payments answers a refund "submitted and processing": refunds/create carries the
    # transaction as "pending", and no later refunds/create says it succeeded. The money is the
    # refund's from the start, as Shopify's own financial_status has it.
    refund = deliver_fixture("shopify", "shopify_refunds_create_amount_only_pending.json",
                             topic="refunds/create").event.refund
    assert (refund.refund_id, refund.order_id, refund.lines, refund.amount_minor) == \
        ("912345679012", "5678901234999", (), 100000)


@pytest.mark.parametrize("status", ["failure", "error"])
def test_shopify_money_refund_that_failed_takes_back_nothing(status):
    payload = json.loads((FIXTURES / "shopify_refunds_create_amount_only_pending.json").read_text(encoding="utf-8"))
    payload["transactions"][0]["status"] = status
    assert deliver("shopify", payload, topic="refunds/create").event.refund.amount_minor == 0


def test_shopify_refunds_create_is_a_refund_event():
    delivery = deliver_fixture("shopify", "shopify_refunds_create.json", topic="refunds/create")
    assert delivery.event == RefundEvent(
        Refund(
            refund_id="912345678955",
            order_id="5678901234567",
            lines=(RefundLine("14011223344557", quantity=1),),
            created_at=datetime(2024, 5, 22, 9, 14, 3, tzinfo=KYIV),
        )
    )


def test_shopify_amount_only_refund_counts_money_less_shipping():
    payload = sample_refund_payload("shopify", refund_id="77", order_id="1001", lines=[], amount="180.00")
    payload["order_adjustments"] = [{"kind": "shipping_refund", "amount": "-80.00", "tax_amount": "0.00"}]
    refund = deliver("shopify", payload, topic="refunds/create").event.refund
    assert refund.lines == () and refund.amount_minor == 10000


def test_shopify_customer_topics():
    customer = order_payload("shopify")["customer"]
    delivery = deliver("shopify", customer, topic="customers/update")
    assert isinstance(delivery.event, CustomerEvent)
    assert delivery.event.customer.email == "olena.koval@example.com"
    assert delivery.event.customer.marketing_consent is True


def test_shopify_customers_redact():
    delivery = deliver_fixture("shopify", "shopify_customers_redact.json", topic="customers/redact")
    assert delivery.event == RedactEvent(CustomerFacts(email="Iryna.Shevchenko@example.com", platform_customer_id="7012345678901"),
                                         ("5678901234567", "5678901234599"))
    assert delivery.extra["orders_to_redact"] == ["5678901234567", "5678901234599"]


def test_shopify_gdpr_data_request_and_shop_redact():
    from chalicelib.domain.platform_events import DataRequestEvent, ShopRedactEvent

    request = {"shop_id": 954889, "shop_domain": "demo-shop.myshopify.com", "orders_requested": [299938, 280263],
               "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
               "data_request": {"id": 9999}}
    assert deliver("shopify", request, topic="customers/data_request").event == DataRequestEvent(
        CustomerFacts(email="john@example.com", platform_customer_id="191167"), "9999", ("299938", "280263"))
    assert deliver("shopify", {"shop_id": 954889, "shop_domain": "demo-shop.myshopify.com"},
                   topic="shop/redact").event == ShopRedactEvent("demo-shop.myshopify.com")


@pytest.mark.parametrize("topic", ["app/uninstalled", "inventory_levels/update"])
def test_shopify_other_topics_are_ignored(topic):
    assert deliver("shopify", {"shop_id": 1}, topic=topic).event == IgnoredEvent(f"unsupported topic {topic}")


def test_shopify_orders_delete_is_a_deletion():
    assert deliver("shopify", {"id": 5678901234567}, topic="orders/delete").event == OrderDeletedEvent("5678901234567")


def test_shopify_event_id_falls_back_to_webhook_id():
    headers, body = signed_request("shopify", CURRENT_SECRET, order_payload("shopify"), now=NOW)
    del headers["X-Shopify-Event-Id"]
    assert parse_webhook("shopify", CTX, headers, body, NOW).event_id == headers["X-Shopify-Webhook-Id"]


# --- WooCommerce mapping -----------------------------------------------------------


def test_woocommerce_refunded_order_with_prices_including_tax():
    delivery = deliver_fixture("woocommerce", "woocommerce_order_refunded.json", topic="order.updated")
    order = delivery.event.order
    assert delivery.event_id is None and delivery.extra["delivery_id"] == "d-1"
    # total + total_tax because prices_include_tax is true.
    assert [line.paid_minor for line in order.lines] == [112500, 52500]
    assert order.shipping_minor == 8000
    assert order.total_minor == 173000
    assert order.paid and order.fully_refunded and not order.cancelled
    assert order.refunds == (
        Refund(refund_id="731", order_id="727", amount_minor=52500),
        Refund(refund_id="733", order_id="727", amount_minor=120500),
    )
    assert order.name == "#727" and order.discount_codes == ("welcome90",)
    assert order.created_at == datetime(2024, 5, 14, 7, 30, 5, tzinfo=timezone.utc)
    assert order.customer.email == "taras.bondarenko@example.com" and order.customer.platform_customer_id == "26"
    assert order.lines[1].sku is None and order.lines[1].product_id == "22"


def test_woocommerce_refund_of_a_shop_without_tax_in_prices_counts_its_net_money():
    # A US shop (sales tax on top of prices): the lines earned on 198.00 net, and the refund of
    # one pair of headphones gave back 97.99 with its tax. The refund is what the lines count,
    # 90.00, brought to net by the goods' own tax (17.58 on 198.00), not 97.99.
    order = deliver_fixture("woocommerce", "woocommerce_order_tax_exclusive_refunded.json",
                            topic="order.updated").event.order
    assert [line.paid_minor for line in order.lines] == [18000, 1800]
    assert order.shipping_minor == 1000 and order.total_minor == 23083
    assert order.paid and not order.fully_refunded
    assert order.refunds == (Refund(refund_id="4419", order_id="4412", amount_minor=9000),)
    assert order.customer.email == "Maria.Gonzalez+orders@Example.com" and order.discount_codes == ("save10",)


def test_woocommerce_prices_without_tax_use_line_total_only():
    payload = order_payload("woocommerce")
    payload["line_items"][0]["total_tax"] = "180.00"
    assert deliver("woocommerce", payload).event.order.lines[0].paid_minor == 90000
    payload["prices_include_tax"] = True
    assert deliver("woocommerce", payload).event.order.lines[0].paid_minor == 108000


def test_woocommerce_body_encoded_like_php_verifies():
    headers, body = signed_request("woocommerce", CURRENT_SECRET, order_payload("woocommerce"), now=NOW)
    assert b"\\/" in body and b"\\u0427" in body  # "/" and "Ч" escaped
    body.decode("ascii")
    order = parse_webhook("woocommerce", CTX, headers, body, NOW).event.order
    assert order.lines[0].title == "Чохол для iPhone 15, чорний"


def test_php_json_body_round_trips_slashes_and_backslashes():
    payload = {"url": "https://a/b", "path": "C:\\dir\\", "name": "Київ 😀"}
    assert json.loads(php_json_body(payload)) == payload


@pytest.mark.parametrize(
    ("status", "date_paid", "paid", "cancelled"),
    [
        ("processing", None, True, False),
        ("completed", None, True, False),
        ("on-hold", "2024-05-14T07:31:12", True, False),
        ("on-hold", None, False, False),
        ("pending", "2024-05-14T07:31:12", False, False),
        ("cancelled", "2024-05-14T07:31:12", False, True),
    ],
)
def test_woocommerce_paid_and_cancelled_follow_status(status, date_paid, paid, cancelled):
    payload = order_payload("woocommerce")
    payload.update(status=status, date_paid_gmt=date_paid)
    order = deliver("woocommerce", payload, topic="order.updated").event.order
    assert (order.paid, order.cancelled) == (paid, cancelled)


def test_woocommerce_refund_sample_is_an_order_update():
    payload = sample_refund_payload("woocommerce", refund_id="731", order_id="727", lines=[{"line_id": "2", "quantity": 1}])
    delivery = deliver("woocommerce", payload)
    assert delivery.topic == "order.updated"
    assert delivery.event.order.refunds == (Refund(refund_id="731", order_id="727", amount_minor=289900),)


def test_woocommerce_other_topics():
    assert deliver("woocommerce", {"id": 727}, topic="order.deleted").event == OrderDeletedEvent("727")
    assert deliver("woocommerce", {"id": 26}, topic="customer.deleted").event == IgnoredEvent("unsupported topic customer.deleted")
    customer = deliver_fixture("woocommerce", "woocommerce_customer.json", topic="customer.updated").event
    assert customer == CustomerEvent(
        CustomerFacts(
            email="taras.bondarenko@example.com",
            platform_customer_id="26",
            first_name="Taras",
            last_name="Bondarenko",
            updated_at=datetime(2024, 5, 14, 7, 30, 5, tzinfo=timezone.utc),
        )
    )


def test_woocommerce_guest_order_has_no_customer_id():
    payload = order_payload("woocommerce")
    payload["customer_id"] = 0
    assert deliver("woocommerce", payload).event.order.customer.platform_customer_id is None


# --- generic mapping ----------------------------------------------------------------


def test_generic_order_maps_every_field():
    lines = [
        {"id": "a", "sku": "TEA-1", "title": "Чай", "quantity": 3, "unit_price": "120.50", "discount": "11.50", "categories": ["Чай"]},
        {"id": "b", "title": "Сертифікат", "quantity": 1, "unit_price": "500", "gift_card": True},
    ]
    payload = order_payload("generic", lines=lines, discount_codes=["TEA10"])
    payload["order"]["customer"]["birthday"] = "1990-04-12"
    delivery = deliver("generic", payload)
    order = delivery.event.order
    assert delivery.topic == "order" and delivery.event_id == payload["event_id"]
    assert [line.paid_minor for line in order.lines] == [35000, 50000]
    assert order.lines[0].categories == ("Чай",) and order.lines[1].gift_card
    assert order.shipping_minor == 8000 and order.total_minor == 93000
    assert order.customer.birthday == date(1990, 4, 12) and order.customer.marketing_consent is True
    assert order.paid and order.paid_at == datetime(2024, 5, 22, 9, 0, tzinfo=timezone.utc)


def test_generic_discount_larger_than_the_line_is_rejected():
    payload = order_payload("generic", lines=[{"id": "a", "quantity": 1, "unit_price": "10.00", "discount": "10.01"}])
    with pytest.raises(BadRequest) as caught:
        deliver("generic", payload)
    assert caught.value.field == "order.lines.0"
    assert "discount exceeds" in caught.value.message


@pytest.mark.parametrize("kind", [None, "orders", 5])
def test_generic_type_must_be_known(kind):
    payload = order_payload("generic")
    payload["type"] = kind
    with pytest.raises(BadRequest) as caught:
        deliver("generic", payload)
    assert caught.value.field == "type"


def test_generic_test_events_are_ignored():
    payload = order_payload("generic")
    payload["test"] = True
    assert deliver("generic", payload).event == IgnoredEvent("test event")


def test_generic_order_in_another_currency_is_rejected():
    with pytest.raises(BadRequest) as caught:
        deliver("generic", order_payload("generic", currency="EUR"))
    assert caught.value.field == "order.currency"


def test_generic_refund_and_redact_events():
    refund = sample_refund_payload("generic", refund_id="r1", order_id="1001", lines=[{"line_id": "1", "quantity": 1}, {"line_id": "2", "amount": "50.00"}])
    event = deliver("generic", refund).event
    assert event.refund.lines == (RefundLine("1", quantity=1), RefundLine("2", amount_minor=5000))
    assert event.customer is None
    redact = {"event_id": "e-9", "type": "customer_redact", "occurred_at": "2024-05-22T09:00:00Z", "customer": {"email": "a@b.ua", "id": 42}}
    assert deliver("generic", redact).event == RedactEvent(CustomerFacts(email="a@b.ua", platform_customer_id="42"))


def test_generic_schema_file_matches_the_models():
    committed = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert committed == generic_webhook_json_schema(), "regenerate with: python -m chalicelib.platforms.generic_schema"


def test_generic_samples_satisfy_the_published_schema():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    validator.validate(order_payload("generic"))
    validator.validate(sample_refund_payload("generic", refund_id="r1", order_id="1001"))


# --- robustness --------------------------------------------------------------------

TOPICS = {
    "shopify": ["orders/create", "refunds/create", "customers/update", "customers/redact", "orders/delete"],
    "woocommerce": ["order.created", "order.deleted", "customer.updated"],
    "generic": [""],
}


def assert_only_client_errors(platform: str, topic: str, body: bytes) -> None:
    try:
        deliver_bytes(platform, body, topic=topic)
    except (BadRequest, Unauthorized):
        pass


platform_and_topic = st.sampled_from([(platform, topic) for platform, topics in TOPICS.items() for topic in topics])


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(target=platform_and_topic, body=st.binary(max_size=300))
def test_arbitrary_signed_bytes_only_ever_raise_client_errors(target, body):
    assert_only_client_errors(*target, body)


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_payloads())
def test_mutated_signed_payloads_only_ever_raise_client_errors(case):
    assert_only_client_errors(*case)


# -- referral codes and shipping addresses (docs/program.md) ---------------------------------
def test_shopify_referral_from_note_attributes_or_landing_site_and_the_shipping_address():
    payload = order_payload("shopify")
    payload["note_attributes"] = [{"name": "gift_note", "value": "hi"}, {"name": "ref", "value": "REF-AAAAA-BBBBB"}]
    payload["shipping_address"] = {"address1": "Sadova 3", "city": "Lviv", "zip": "79000", "country_code": "UA"}
    order = deliver("shopify", payload).event.order
    assert order.referral_code == "REF-AAAAA-BBBBB"
    assert (order.shipping_address.address1, order.shipping_address.country) == ("Sadova 3", "UA")
    payload = order_payload("shopify")
    payload["landing_site"] = "/products/grinder?utm_source=tg&ref=REF-CCCCC-DDDDD"
    assert deliver("shopify", payload).event.order.referral_code == "REF-CCCCC-DDDDD"


def test_woocommerce_referral_from_order_meta_and_the_shipping_address():
    payload = order_payload("woocommerce")
    payload["meta_data"] = [{"id": 1, "key": "_wc_order_attribution_source_type", "value": "utm"},
                            {"id": 2, "key": "referral_code", "value": "REF-EEEEE-FFFFF"}]
    payload["shipping"] = {"address_1": "Sadova 3", "city": "Lviv", "postcode": "79000", "country": "UA"}
    order = deliver("woocommerce", payload).event.order
    assert order.referral_code == "REF-EEEEE-FFFFF" and order.shipping_address.zip == "79000"


def test_generic_referral_code_and_shipping_address_fields():
    payload = order_payload("generic")
    payload["order"]["referral_code"] = "REF-GGGGG-HHHHH"
    payload["order"]["shipping_address"] = {"address1": "Sadova 3", "city": "Lviv", "zip": "79000", "country": "UA"}
    order = deliver("generic", payload).event.order
    assert order.referral_code == "REF-GGGGG-HHHHH" and order.shipping_address.city == "Lviv"
    payload["order"]["shipping_address"] = {"city": "Lviv"}
    with pytest.raises(BadRequest) as error:
        deliver("generic", payload)
    assert error.value.field == "order.shipping_address.address1"


# -- the reconciliation client honours 429 and Retry-After ------------------------------

def test_retry_after_in_seconds_as_a_date_or_missing():
    from chalicelib.platforms.order_api import throttle_wait

    assert throttle_wait({"retry-after": "2.5"}, 0) == 2.5
    assert throttle_wait({"retry-after": "3600"}, 0) == 30.0  # capped
    assert throttle_wait({"retry-after": "-5"}, 0) == 0.0
    # An HTTP date is read against the same answer's Date header, whatever today is.
    assert throttle_wait({"retry-after": "Wed, 21 Oct 2026 07:28:07 GMT", "date": "Wed, 21 Oct 2026 07:28:00 GMT"},
                         0) == 7.0
    assert [throttle_wait({}, attempt) for attempt in range(6)] == [1, 2, 4, 8, 16, 30]  # backoff without a hint
    assert throttle_wait({"retry-after": "soon"}, 2) == 4  # nonsense counts as absent
    assert throttle_wait({"retry-after": "Wed, 21 Oct 2026 07:28:07 GMT"}, 1) == 2  # a date without Date: backoff


def test_throttled_pages_are_asked_again_after_the_wait():
    from datetime import datetime, timezone

    from chalicelib.platforms import order_api

    answers = [(429, {"retry-after": "4"}, b""), (503, {}, b""),
               (200, {}, b'{"orders": [{"id": 1}]}')]
    waits: list[float] = []
    pages = list(order_api.shopify_orders("https://shop.example", "token", datetime(2026, 1, 1, tzinfo=timezone.utc),
                                          fetch=lambda request: answers.pop(0), sleep=waits.append))
    assert waits == [4.0, 2.0] and [order["id"] for page in pages for order in page] == [1]


def test_a_platform_that_keeps_throttling_ends_the_run_without_sleeping_forever():
    from datetime import datetime, timezone

    import pytest

    from chalicelib.platforms import order_api

    waits: list[float] = []
    with pytest.raises(order_api.PlatformApiError, match="kept throttling"):
        list(order_api.shopify_orders("https://shop.example", "token", datetime(2026, 1, 1, tzinfo=timezone.utc),
                                      fetch=lambda request: (429, {"retry-after": "1"}, b""), sleep=waits.append))
    assert waits == [1.0] * order_api.MAX_THROTTLE_WAITS


def test_shopify_money_refund_in_the_customers_currency_counts_its_shop_money():
    # A CAD shop's Shopify Markets order paid in USD: the transaction says USD 1,012.70, the refund
    # discrepancy's amount_set says CAD -1,366.02 in shop money, the shop's (and the lines') currency.
    refund = deliver_fixture("shopify", "shopify_refunds_create_amount_only_presentment.json",
                             topic="refunds/create").event.refund
    assert (refund.lines, refund.amount_minor, refund.amount_with_tax) == ((), 136602, True)


def test_shopify_money_refund_without_shop_money_in_another_currency_takes_back_nothing():
    # No refund_discrepancy to say what USD 1,012.70 is in the shop's money: no rate is guessed.
    payload = json.loads((FIXTURES / "shopify_refunds_create_amount_only_presentment.json").read_text(encoding="utf-8"))
    payload["order_adjustments"] = []
    cad = WebhookContext(shop_id="shop-1", secrets=(CURRENT_SECRET,), currency="CAD", minor_exponent=2)
    assert deliver("shopify", payload, topic="refunds/create", ctx=cad).event.refund.amount_minor == 0
    payload["transactions"][0]["currency"] = "CAD"
    assert deliver("shopify", payload, topic="refunds/create", ctx=cad).event.refund.amount_minor == 101270


def test_shopify_money_refund_from_the_shop_money_of_a_discrepancy_given_as_plain_amount():
    # API versions before amount_set: the adjustment's plain amount is shop money.
    payload = json.loads((FIXTURES / "shopify_refunds_create_amount_only_presentment.json").read_text(encoding="utf-8"))
    del payload["order_adjustments"][0]["amount_set"]
    assert deliver("shopify", payload, topic="refunds/create").event.refund.amount_minor == 136602


def test_shopify_order_keeps_the_goods_tax_its_line_prices_leave_out():
    path = FIXTURES / "shopify_order_multi_currency_tax_exclusive.json"
    order = deliver_fixture("shopify", path.name, topic="orders/paid").event.order
    assert (order.currency, [line.paid_minor for line in order.lines], order.goods_tax_minor) == ("CAD", [186106], 18797)
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["taxes_included"] = True
    assert deliver("shopify", payload, topic="orders/paid").event.order.goods_tax_minor == 0
    del payload["taxes_included"]
    assert deliver("shopify", payload, topic="orders/paid").event.order.goods_tax_minor is None
