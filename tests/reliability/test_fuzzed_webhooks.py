"""Fuzzed webhooks through the HTTP route, with a real table behind it (hypothesis): correctly
signed payloads with fields removed or replaced by odd values, arbitrary signed bytes, odd
topics and event ids, and unsigned or wrongly signed bodies. The service never answers 5xx,
and a rejection (4xx) writes nothing. (tests/unit/test_platforms.py fuzzes the parsers alone;
tests/reliability/test_openapi.py fuzzes every route from its OpenAPI description.)"""
from __future__ import annotations

import json
import time

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.platforms.signing import sign_generic, sign_shopify, sign_woocommerce
from tests.support.shops import SECRET, register_shop
from tests.support.emulator import table_fingerprint
from tests.support.payloads import json_values, mutated_payloads

# The store in memory (tests/support/fakes): what is attacked here is the request handling.
pytestmark = pytest.mark.in_memory

SHOP_OF = {"shopify": "fuzz-shopify", "woocommerce": "fuzz-woo", "generic": "fuzz-shopify"}
TOPICS = {"shopify": ["orders/paid", "orders/create", "orders/updated", "orders/cancelled", "refunds/create",
                      "customers/update", "customers/redact", "orders/delete", "app/uninstalled"],
          "woocommerce": ["order.created", "order.updated", "order.deleted", "customer.updated", "coupon.created"],
          "generic": [""]}


def _headers(platform: str, topic: str, body: bytes, *, secret: str = SECRET, event_id: str = "evt-fuzz") -> dict:
    if platform == "shopify":
        return {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Event-Id": event_id,
                "X-Shopify-Hmac-Sha256": sign_shopify(secret, body)}
    if platform == "woocommerce":
        return {"Content-Type": "application/json", "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Delivery-ID": event_id,
                "X-WC-Webhook-Signature": sign_woocommerce(secret, body)}
    return {"Content-Type": "application/json", "X-Loyalty-Signature": sign_generic(secret, body, int(time.time()))}


platforms = st.sampled_from(sorted(TOPICS))
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@st.composite
def signed_mutations(draw):
    platform, topic, body = draw(mutated_payloads())
    return platform, topic or "", body, _headers(platform, topic or "", body)


@st.composite
def signed_bytes(draw):
    platform = draw(platforms)
    topic = draw(st.sampled_from(TOPICS[platform]) | header_text)
    body = draw(st.binary(max_size=400) | json_values.map(lambda v: json.dumps(v).encode()))
    return platform, topic, body, _headers(platform, topic, body, event_id=draw(header_text.filter(bool)))


@st.composite
def badly_signed(draw):
    platform, topic, body = draw(mutated_payloads())
    headers = _headers(platform, topic or "", body, secret=draw(st.sampled_from(["", "wrong-secret-0123456789"])))
    dropped = draw(st.sampled_from([None, "X-Shopify-Hmac-Sha256", "X-WC-Webhook-Signature", "X-Loyalty-Signature"]))
    headers.pop(dropped or "", None)
    return platform, topic or "", body, headers


@pytest.fixture
def fuzz_shops(client):
    """A Shopify and a WooCommerce shop (set up once; hypothesis runs every example against them)."""
    register_shop(client, SHOP_OF["shopify"], "shopify")
    register_shop(client, SHOP_OF["woocommerce"], "woocommerce", sender_email="loyalty@woo.example")


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(delivery=st.one_of(signed_mutations(), signed_bytes(), badly_signed()))
def test_fuzzed_webhooks_never_get_5xx_and_rejections_write_nothing(client, fuzz_shops, delivery):
    platform, topic, body, headers = delivery
    before = table_fingerprint()
    response = client.http.post(f"/webhooks/{platform}/{SHOP_OF[platform]}", headers=headers, body=body)
    assert response.status_code < 500, (response.status_code, response.body[:300])
    if response.status_code >= 400:
        error = json.loads(response.body)
        assert error["message"], error
        assert table_fingerprint() == before, f"a {response.status_code} wrote to the table: {error}"
    else:
        assert json.loads(response.body)["result"] in ("applied", "duplicate", "ignored")
