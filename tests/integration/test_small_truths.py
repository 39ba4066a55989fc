"""Smaller truths (issue 16, item 9), each as a client sends it."""
from __future__ import annotations

import json

import pytest

from devstack.samples import DEFAULT_EMAIL, sample_order_payload, signed_request
from tests.support.shops import ADMIN, shop_document


@pytest.mark.parametrize("points", [0, -5])
def test_redeeming_zero_or_negative_points_is_a_bad_request_naming_points(shopify_shop, points):
    shopify_shop.deliver(sample_order_payload("shopify", order_id="1001", email=DEFAULT_EMAIL), topic="orders/paid")
    status, error = shopify_shop.redeem(DEFAULT_EMAIL, points)
    assert status == 400 and error["field"] == "points"
    assert shopify_shop.customer(DEFAULT_EMAIL)[1]["points_balance"] > 0


def test_unknown_body_fields_are_refused_by_name(shopify_shop):
    response = shopify_shop.client.http.post(
        f"/shops/{shopify_shop.shop_id}/customers/{DEFAULT_EMAIL}/redemptions",
        headers={"X-Api-Key": shopify_shop.api_key, "Content-Type": "application/json"},
        body=json.dumps({"points": 100, "pointz": 100}).encode())
    assert response.status_code == 400 and json.loads(response.body)["field"] == "pointz"
    response = shopify_shop.client.http.post(f"/admin/shops/{shopify_shop.shop_id}/api-keys", headers=ADMIN,
                                             body=json.dumps({"label": "till", "scope": "all"}).encode())
    assert response.status_code == 400 and json.loads(response.body)["field"] == "scope"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_shopify_deliveries_must_be_json(shopify_shop, content_type):
    headers, body = signed_request("shopify", shopify_shop.secret,
                                   sample_order_payload("shopify", order_id="1002", email=DEFAULT_EMAIL),
                                   topic="orders/paid")
    response = shopify_shop.client.http.post(f"/webhooks/shopify/{shopify_shop.shop_id}",
                                             headers={**headers, "Content-Type": content_type}, body=body)
    assert response.status_code == 415, response.body
    assert json.loads(response.body)["field"] == "content-type"
    headers["Content-Type"] = "application/json; charset=utf-8"
    ok = shopify_shop.client.http.post(f"/webhooks/shopify/{shopify_shop.shop_id}", headers=headers, body=body)
    assert ok.status_code == 200, ok.body


@pytest.mark.parametrize("shop_id", ["-shop", "_shop"])
def test_shop_ids_start_with_a_letter_or_digit(client, shop_id):
    response = client.http.put(f"/admin/shops/{shop_id}", headers=ADMIN,
                               body=json.dumps(shop_document("shopify")).encode())
    assert response.status_code == 400 and json.loads(response.body)["field"] == "shop_id"
