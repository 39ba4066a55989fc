"""Oversized, non-UTF-8, deeply nested and duplicate-key JSON bodies, sent to every route that
takes a JSON body (webhooks signed correctly, so the body itself is what is judged): each
gets a clear 4xx naming the body and the reason, and nothing is written."""
from __future__ import annotations

import json
import time

import pytest

from devstack.samples import sample_order_payload
from chalicelib.platforms.signing import sign_generic, sign_shopify, sign_woocommerce
from tests.support.shops import ADMIN, SECRET, register_shop

# The store in memory (tests/support/fakes): what is attacked here is the request handling.
pytestmark = pytest.mark.in_memory

SHOP = "bad-body-shop"
WOO_SHOP = "bad-body-woo"
EMAIL = "olena@example.com"
LIMIT = 1024 * 1024  # the service's body limit (chalicelib.platforms.body.MAX_BODY_BYTES)

# name -> (body, expected status, words the message must contain)
BODIES = {
    "oversized": (b'{"points": 100, "pad": "' + b"x" * LIMIT + b'"}', 413, ["bytes", "limit"]),
    "not UTF-8": (b'{"points": 100, "name": "\xff\xfe Ol\xe9na"}', 400, ["UTF-8"]),
    "nested 100 deep": (b'{"points": 100, "x": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"}", 400, ["nested"]),
    "nested 100,000 deep": (b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, ["nested"]),
    "duplicate key": (b'{"points": 1, "points": 100000}', 400, ["duplicate", "points"]),
}


def _signed(platform: str, body: bytes) -> dict:
    if platform == "shopify":
        return {"Content-Type": "application/json", "X-Shopify-Topic": "orders/paid",
                "X-Shopify-Hmac-Sha256": sign_shopify(SECRET, body), "X-Shopify-Event-Id": "evt-bad"}
    if platform == "woocommerce":
        return {"Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
                "X-WC-Webhook-Signature": sign_woocommerce(SECRET, body), "X-WC-Webhook-Delivery-ID": "d-bad"}
    return {"Content-Type": "application/json", "X-Loyalty-Signature": sign_generic(SECRET, body, int(time.time()))}


# route name -> (method, path, headers(shop) -> dict)
ROUTES = {
    "PUT shop": ("PUT", f"/admin/shops/{SHOP}", lambda shop, body: ADMIN),
    "POST api key": ("POST", f"/admin/shops/{SHOP}/api-keys", lambda shop, body: ADMIN),
    "PUT template": ("PUT", f"/admin/shops/{SHOP}/templates/post_purchase", lambda shop, body: ADMIN),
    "POST segment preview": ("POST", f"/admin/shops/{SHOP}/segments/preview", lambda shop, body: ADMIN),
    "POST campaign": ("POST", f"/admin/shops/{SHOP}/campaigns", lambda shop, body: ADMIN),
    "POST redemption": ("POST", f"/shops/{SHOP}/customers/{EMAIL}/redemptions",
                        lambda shop, body: {"X-Api-Key": shop.api_key, "Content-Type": "application/json"}),
    **{f"POST webhook ({platform})": ("POST", f"/webhooks/{platform}/{WOO_SHOP if platform == 'woocommerce' else SHOP}",
                                      lambda shop, body, platform=platform: _signed(platform, body))
       for platform in ("shopify", "woocommerce", "generic")},
}


@pytest.fixture
def shop(client):
    handle = register_shop(client, SHOP, "shopify")
    register_shop(client, WOO_SHOP, "woocommerce", sender_email="loyalty@woo.example")
    handle.deliver(sample_order_payload("shopify", order_id="b-1", email=EMAIL), topic="orders/paid")
    return handle


@pytest.mark.parametrize("route", ROUTES)
def test_each_bad_body_gets_a_clear_4xx_and_writes_nothing(client, shop, fingerprint, route):
    method, path, headers = ROUTES[route]
    for name, (body, status, words) in BODIES.items():
        before = fingerprint()
        response = client.http.request(method, path, headers=headers(shop, body), body=body)
        assert response.status_code == status, (route, name, response.status_code, response.body[:300])
        error = json.loads(response.body)
        assert error["field"] == "body", (route, name, error)
        for word in words:
            assert word.lower() in error["message"].lower(), (route, name, error["message"])
        assert len(error["message"]) < 300, "the reason, not the body, comes back"
        assert fingerprint() == before, f"{route}: {name} body wrote to the table"
