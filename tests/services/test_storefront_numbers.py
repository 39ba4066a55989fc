"""Numbers a storefront sends that no order or balance could have: a redemption of more points
than Decimal's 28 digits hold, a code checked for an order total of the same size. Each gets the
4xx that names the field (the balance, or the order total), never a 500."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from devstack.samples import sample_order_payload
from tests.support.shops import register_shop
from tests.support.webhooks import deliver_shopify

EMAIL = "olena.koval+loyalty@example.com"
ENCODED = quote(EMAIL, safe="")
ORDER_POINTS = 189  # the sample order: 3,799.00 UAH at 0.05 points per UAH
HUGE = "9" * 35  # more digits than the decimal context's 28


@pytest.fixture
def shop(deps, client):
    handle = register_shop(client, "numbers-shop", "shopify")
    deliver_shopify(deps, handle.shop_id, handle.secret,
                    sample_order_payload("shopify", order_id="9001", email=EMAIL), "orders/paid")
    return handle


def storefront(shop, method, path, body: bytes = b""):
    headers = {"X-Api-Key": shop.api_key, "Content-Type": "application/json"}
    response = shop.client.http.request(method, f"/shops/{shop.shop_id}{path}", headers=headers, body=body)
    return response.status_code, json.loads(response.body)


@pytest.mark.parametrize("points", [HUGE, "1" + "0" * 28, str(2 ** 70)])
def test_redeeming_more_points_than_any_balance_is_refused_with_the_balance(shop, points):
    status, refused = storefront(shop, "POST", f"/customers/{ENCODED}/redemptions", f'{{"points": {points}}}'.encode())
    assert (status, refused["field"], refused["points_balance"]) == (409, "points", ORDER_POINTS), refused
    assert storefront(shop, "GET", f"/customers/{ENCODED}")[1]["points_balance"] == ORDER_POINTS


@pytest.mark.parametrize("total", [HUGE, "1e400", "-1", "-0.01"])
def test_a_code_checked_for_an_order_total_no_order_has_is_a_400_naming_it(shop, total):
    code = storefront(shop, "POST", f"/customers/{ENCODED}/redemptions", b'{"points": 100}')[1]["code"]
    status, refused = storefront(shop, "GET", f"/codes/{code}?order_total={quote(total)}")
    assert (status, refused["field"]) == (400, "order_total"), refused
    assert storefront(shop, "GET", f"/codes/{code}?order_total=100.00")[1]["valid"] is True
