"""Redemption codes unused by their expiry give the points back, exactly once."""
from __future__ import annotations

from datetime import timedelta

from devstack.samples import DEFAULT_EMAIL, sample_order_payload
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.loyalty import storefront
from chalicelib.services.lifecycle.code_release import release_expired_codes
from chalicelib.store.loyalty.repository import LoyaltyRepository
from tests.support.webhooks import deliver_shopify

EMAIL = DEFAULT_EMAIL


def test_unused_code_is_released_with_the_original_expiry(deps, client, shopify_shop):
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload("shopify", order_id="1", email=EMAIL),
             "orders/paid")
    before = storefront.customer_view(deps, load_shop(deps, shopify_shop.shop_id), EMAIL)
    status, code = shopify_shop.redeem(EMAIL, 150)
    assert status == 201

    not_yet = deps.clock() + timedelta(days=29)
    assert release_expired_codes(deps, shopify_shop.shop_id, not_yet, "Europe/Kyiv") == 0
    later = deps.clock() + timedelta(days=31)
    assert release_expired_codes(deps, shopify_shop.shop_id, later, "Europe/Kyiv") == 1
    assert release_expired_codes(deps, shopify_shop.shop_id, later, "Europe/Kyiv") == 0

    after = storefront.customer_view(deps, load_shop(deps, shopify_shop.shop_id), EMAIL)
    assert after["points_balance"] == before["points_balance"]
    assert sum(lot["points"] for lot in after["expiring"]) == before["points_balance"]
    assert {lot["expires_at"] for lot in after["expiring"]} == {lot["expires_at"] for lot in before["expiring"]}
    assert LoyaltyRepository(shopify_shop.shop_id).load_code(code["code"]).status == "released"
    _, history = shopify_shop.history(EMAIL)
    assert history["entries"][0]["kind"] == "release" and history["entries"][0]["points"] == 150


def test_used_code_is_not_released(deps, client, shopify_shop):
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload("shopify", order_id="1", email=EMAIL),
             "orders/paid")
    _, code = shopify_shop.redeem(EMAIL, 150)
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret,
             sample_order_payload("shopify", order_id="2", email=EMAIL, discount_codes=[code["code"]]), "orders/paid")
    assert release_expired_codes(deps, shopify_shop.shop_id, deps.clock() + timedelta(days=31), "Europe/Kyiv") == 0
