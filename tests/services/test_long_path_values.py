"""Values no shop, code or customer has, as long as a URL carries them: a shop id, a code or a
reward of thousands of characters, a history cursor made up to hold a long sort key. DynamoDB
refuses a key over 2,048 bytes (partition) or 1,024 (sort) with a ValidationException, on reads
too (tests/support/fakes/dynamodb.py models it; the emulator checks writes only): each such
request gets a 400 naming the parameter, never a 500."""
from __future__ import annotations

import base64
import json

import pytest

from devstack.samples import sample_order_payload
from tests.support.shops import ADMIN, register_shop
from tests.support.webhooks import deliver_shopify

EMAIL = "olena.koval%40example.com"
LONG = "A" * 3000


@pytest.fixture
def shop(deps, client):
    handle = register_shop(client, "long-values-shop", "shopify")
    deliver_shopify(deps, handle.shop_id, handle.secret,
                    sample_order_payload("shopify", order_id="9101", email="olena.koval@example.com"), "orders/paid")
    return handle


def _answer(client, method, path, headers):
    response = client.http.request(method, path, headers={**headers, "Content-Type": "application/json"},
                                   body=b"{}" if method == "POST" else b"")
    return response.status_code, json.loads(response.body)


@pytest.mark.parametrize("method, path, field", [
    ("GET", f"/shops/{LONG}/customers/{EMAIL}", "shop_id"),
    ("GET", f"/shops/{LONG}/codes/ABC", "shop_id"),
    ("GET", "/shops/long-values-shop/codes/" + LONG, "code"),
    ("POST", f"/shops/long-values-shop/customers/{EMAIL}/rewards/{LONG}/redemptions", "reward_id"),
    ("GET", f"/admin/shops/{LONG}", "shop_id"),
    ("GET", f"/admin/shops/long-values-shop/campaigns/{LONG}", "campaign_id"),
    ("DELETE", f"/admin/shops/long-values-shop/api-keys/{LONG}", "key_id"),
])
def test_a_path_value_longer_than_any_key_is_a_400_naming_it(client, shop, method, path, field):
    status, answer = _answer(client, method, path, {"X-Api-Key": shop.api_key, **ADMIN})
    assert (status, answer.get("field")) == (400, field), answer
    assert LONG not in json.dumps(answer), "the reason, not the value, comes back"


def test_a_history_cursor_holding_a_sort_key_no_page_ends_on_is_a_400(client, shop):
    cursor = base64.urlsafe_b64encode(("L#2031-03-14T09:00:00.000000Z#000#" + "x" * 1100).encode()).decode()
    status, answer = _answer(client, "GET", f"/shops/long-values-shop/customers/{EMAIL}/history?cursor={cursor}",
                             {"X-Api-Key": shop.api_key})
    assert (status, answer.get("field")) == (400, "cursor"), answer
