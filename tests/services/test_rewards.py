"""The rewards catalog: kept by the shop through the admin API (refusals name the field), listed
for the storefront by what the customer can afford, redeemed into a single-use code of the right
kind (race-safe, a ledger entry, points back if unused), and used by a paid order's webhook."""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest

from chalicelib.services.lifecycle.code_release import release_expired_codes
from chalicelib.services.loyalty import rewards
from chalicelib.services.shops.lookup import load_shop
from chalicelib.errors import Conflict
from chalicelib.store.loyalty.repository import LoyaltyRepository
from devstack.samples import sample_order_payload
from tests.support.shops import ADMIN, issue_workspace_key, register_shop, sign_in
from tests.support.webhooks import deliver_shopify, run_together

EMAIL = "olena.koval+loyalty@example.com"  # plus-addressed, as shops' customers often are
ENCODED = quote(EMAIL, safe="")  # olena.koval%2Bloyalty%40example.com, as storefront clients send it
ORDER_POINTS = 189  # what the sample order (3,799.00 UAH at 0.05 per UAH) earns

FREE_SHIPPING = {"name": "Безкоштовна доставка", "kind": "free_shipping", "points": 80, "min_order": "500"}
TEN_PERCENT = {"name": "−10% на навушники", "kind": "percent_off", "points": 150, "discount_percent": "10",
               "product_skus": ["JBL-T520BT-BLU"]}
BIG_AMOUNT = {"name": "500 ₴ знижки", "kind": "amount_off", "points": 500, "amount": "500"}
FREE_CASE = {"name": "Чохол у подарунок", "kind": "free_product", "points": 120, "free_product_sku": "CASE-IP15-BLK"}


def admin(client, method, path, body=None, headers=ADMIN):
    response = client.http.request(method, path, headers=headers,
                                   body=json.dumps(body).encode() if body is not None else b"")
    return response.status_code, json.loads(response.body)


def storefront(shop, method, path, body=None):
    headers = {"X-Api-Key": shop.api_key}
    if body is not None:
        headers["Content-Type"] = "application/json"
    response = shop.client.http.request(method, f"/shops/{shop.shop_id}{path}", headers=headers,
                                        body=json.dumps(body).encode() if body is not None else b"")
    return response.status_code, json.loads(response.body)


@pytest.fixture
def shop(deps, client):
    handle = register_shop(client, "rewards-shop", "shopify")
    for reward_id, body in (("free-shipping", FREE_SHIPPING), ("headphones-10", TEN_PERCENT),
                            ("big-500", BIG_AMOUNT), ("free-case", FREE_CASE)):
        status, saved = admin(client, "PUT", f"/admin/shops/{handle.shop_id}/rewards/{reward_id}", body)
        assert status == 201, saved
    deliver_shopify(deps, handle.shop_id, handle.secret, sample_order_payload("shopify", order_id="9001", email=EMAIL),
                    "orders/paid")
    return handle


def order(deps, shop, order_id, codes=(), lines=None, shipping="0.00"):
    return deliver_shopify(deps, shop.shop_id, shop.secret, sample_order_payload(
        "shopify", order_id=order_id, email=EMAIL, discount_codes=list(codes), lines=lines, shipping=shipping),
        "orders/paid")


# -- the catalog (admin) -----------------------------------------------------------------------
def test_catalog_is_created_replaced_on_its_version_and_deleted(client, shop):
    path = f"/admin/shops/{shop.shop_id}/rewards"
    status, listed = admin(client, "GET", path)
    assert status == 200
    assert {r["reward_id"]: r["kind"] for r in listed["rewards"]} == {
        "big-500": "amount_off", "free-case": "free_product", "free-shipping": "free_shipping",
        "headphones-10": "percent_off"}
    status, one = admin(client, "GET", f"{path}/big-500")
    assert (status, one["amount"], one["min_order"], one["currency"], one["version"]) == (200, "500.00", "0.00", "UAH", 1)

    status, replaced = admin(client, "PUT", f"{path}/big-500", {**BIG_AMOUNT, "points": 450, "version": 1})
    assert (status, replaced["points"], replaced["version"]) == (200, 450, 2)
    status, stale = admin(client, "PUT", f"{path}/big-500", {**BIG_AMOUNT, "points": 400, "version": 1})
    assert (status, stale["field"]) == (409, "version")
    status, again = admin(client, "PUT", f"{path}/big-500", BIG_AMOUNT)  # version 0: "new", but it exists
    assert (status, again["field"]) == (409, "version")

    assert admin(client, "DELETE", f"{path}/big-500")[0] == 200
    assert admin(client, "GET", f"{path}/big-500")[0] == 404
    assert admin(client, "DELETE", f"{path}/big-500")[0] == 404


@pytest.mark.parametrize("body, field", [
    ({**BIG_AMOUNT, "amount": None}, "amount"),
    ({k: v for k, v in BIG_AMOUNT.items() if k != "amount"}, "amount"),
    ({**BIG_AMOUNT, "amount": "-5"}, "amount"),
    ({**BIG_AMOUNT, "amount": "0.001"}, "amount"),
    ({**BIG_AMOUNT, "amount": "NaN"}, "amount"),
    ({**BIG_AMOUNT, "discount_percent": "5"}, "discount_percent"),
    ({**TEN_PERCENT, "discount_percent": "150"}, "discount_percent"),
    ({**TEN_PERCENT, "discount_percent": None}, "discount_percent"),
    ({**FREE_SHIPPING, "amount": "10"}, "amount"),
    ({**FREE_CASE, "free_product_sku": ""}, "free_product_sku"),
    ({k: v for k, v in FREE_CASE.items() if k != "free_product_sku"}, "free_product_sku"),
    ({**FREE_SHIPPING, "kind": "cash"}, "kind"),
    ({**FREE_SHIPPING, "points": 0}, "points"),
    ({**FREE_SHIPPING, "points": True}, "points"),
    ({**FREE_SHIPPING, "points": "lots"}, "points"),
    ({**FREE_SHIPPING, "min_order": "-1"}, "min_order"),
    ({**FREE_SHIPPING, "product_skus": [""]}, "product_skus.0"),
    ({**FREE_SHIPPING, "product_skus": "CASE-IP15-BLK"}, "product_skus"),
    ({**FREE_SHIPPING, "validity_days": 0}, "validity_days"),
    ({**FREE_SHIPPING, "name": ""}, "name"),
    ({**FREE_SHIPPING, "pointz": 10}, "pointz"),
    ({**FREE_SHIPPING, "version": -1}, "version"),
    ({k: v for k, v in FREE_SHIPPING.items() if k != "kind"}, "kind"),
])
def test_invalid_rewards_are_400_naming_the_field_and_nothing_is_saved(client, shop, body, field):
    status, error = admin(client, "PUT", f"/admin/shops/{shop.shop_id}/rewards/new-one", body)
    assert (status, error["field"]) == (400, field), error
    assert error["message"].startswith(field)
    assert admin(client, "GET", f"/admin/shops/{shop.shop_id}/rewards/new-one")[0] == 404


def test_a_reward_id_is_a_slug(client, shop):
    status, error = admin(client, "PUT", f"/admin/shops/{shop.shop_id}/rewards/Big%20One", FREE_SHIPPING)
    assert (status, error["field"]) == (400, "reward_id")


def test_a_marketer_reads_the_catalog_but_only_owners_change_it(client, shop):
    headers = sign_in(client, issue_workspace_key(client, shop.shop_id, role="marketer"))
    assert admin(client, "GET", f"/admin/shops/{shop.shop_id}/rewards", headers=headers)[0] == 200
    assert admin(client, "PUT", f"/admin/shops/{shop.shop_id}/rewards/x", FREE_SHIPPING, headers=headers)[0] == 403


def test_one_shop_never_sees_another_shops_catalog(deps, client, shop):
    other = register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    deliver_shopify(deps, other.shop_id, other.secret, sample_order_payload("shopify", order_id="1", email=EMAIL),
                    "orders/paid")
    status, answer = storefront(other, "GET", f"/customers/{ENCODED}/rewards")
    assert status == 200 and answer["rewards"] == [] and answer["more_rewards"] == []
    status, refused = storefront(other, "POST", f"/customers/{ENCODED}/rewards/free-shipping/redemptions")
    assert (status, refused["field"]) == (404, "reward_id")
    # and the first shop's key does not open the second shop
    response = client.http.get(f"/shops/{other.shop_id}/customers/{ENCODED}/rewards",
                               headers={"X-Api-Key": shop.api_key})
    assert response.status_code in (401, 403)


# -- the storefront --------------------------------------------------------------------------
def test_the_storefront_lists_what_the_customer_can_afford(shop):
    status, answer = storefront(shop, "GET", f"/customers/{ENCODED}/rewards")
    assert status == 200, answer
    assert answer["points_balance"] == ORDER_POINTS
    assert [r["reward_id"] for r in answer["rewards"]] == ["free-shipping", "free-case", "headphones-10"]
    assert [(r["reward_id"], r["points_missing"]) for r in answer["more_rewards"]] == [("big-500", 500 - ORDER_POINTS)]
    by_id = {r["reward_id"]: r for r in answer["rewards"]}
    assert by_id["headphones-10"]["product_skus"] == ["JBL-T520BT-BLU"]
    assert by_id["free-shipping"]["min_order"] == "500.00"
    # the same customer however the client spells the address
    for spelling in ("olena.koval+loyalty@example.com", "Olena.Koval%2BLoyalty%40Example.com"):
        assert storefront(shop, "GET", f"/customers/{spelling}/rewards")[1]["points_balance"] == ORDER_POINTS
    assert storefront(shop, "GET", "/customers/nobody%40example.com/rewards")[0] == 404


def test_a_disabled_reward_is_neither_listed_nor_redeemable(client, shop):
    admin(client, "PUT", f"/admin/shops/{shop.shop_id}/rewards/free-case", {**FREE_CASE, "enabled": False, "version": 1})
    listed = storefront(shop, "GET", f"/customers/{ENCODED}/rewards")[1]
    assert "free-case" not in [r["reward_id"] for r in listed["rewards"] + listed["more_rewards"]]
    status, refused = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/free-case/redemptions")
    assert (status, refused["field"]) == (404, "reward_id")


def test_free_shipping_redeemed_is_a_single_use_code_used_by_the_next_order(deps, shop):
    status, redeemed = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/free-shipping/redemptions")
    assert status == 201, redeemed
    code = redeemed["code"]
    assert code.startswith("PTS-") and redeemed["points_balance"] == ORDER_POINTS - 80
    checked = storefront(shop, "GET", f"/codes/{code}?order_total=600")[1]
    assert (checked["valid"], checked["free_shipping"], checked["single_use"], checked["value"],
            checked["discount_percent"], checked["min_order"], checked["reward_id"]) == (
        True, True, True, None, None, "500.00", "free-shipping")
    assert storefront(shop, "GET", f"/codes/{code}?order_total=499.99")[1]["reason"] == \
        "the order is below the code's minimum"

    _, history = storefront(shop, "GET", f"/customers/{ENCODED}/history")
    spent = history["entries"][0]
    assert (spent["kind"], spent["points"], spent["detail"]["reward_id"], spent["detail"]["code"]) == (
        "redeem", -80, "free-shipping", code)

    used = order(deps, shop, "9002", codes=[code])
    assert used["consumed_codes"] == [code]
    again = order(deps, shop, "9003", codes=[code])
    assert again["consumed_codes"] == [] and again["refused_codes"] == {code: "the code was consumed"}
    stored = LoyaltyRepository(shop.shop_id).load_code(code)
    assert (stored.status, stored.consumed_by_order, stored.free_shipping) == ("consumed", "9002", True)


def test_each_kind_gives_a_code_of_its_kind(client, shop):
    status, _ = admin(client, "POST", f"/admin/shops/{shop.shop_id}/customers/{ENCODED}/adjustments",
                      {"points": 600, "reason": "goodwill", "request_id": "rewards-kinds-1"})
    assert status == 201
    amount = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/big-500/redemptions")[1]
    checked = storefront(shop, "GET", f"/codes/{amount['code']}")[1]
    assert (checked["value"], checked["discount_percent"], checked["free_shipping"]) == ("500.00", None, False)
    percent = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/headphones-10/redemptions")[1]
    checked = storefront(shop, "GET", f"/codes/{percent['code']}")[1]
    assert (checked["discount_percent"], checked["free_shipping"], checked["product_skus"]) == (
        "10", False, ["JBL-T520BT-BLU"])
    case = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/free-case/redemptions")[1]
    assert case["points_balance"] == ORDER_POINTS + 600 - 500 - 150 - 120
    assert storefront(shop, "GET", f"/codes/{case['code']}")[1]["free_product_sku"] == "CASE-IP15-BLK"


def test_a_code_for_some_products_needs_them_in_the_order(deps, shop):
    code = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/headphones-10/redemptions")[1]["code"]
    cases_only = [{"id": "1", "sku": "CASE-IP15-BLK", "title": "Чохол", "quantity": 1, "unit_price": "450.00"}]
    refused = order(deps, shop, "9010", codes=[code], lines=cases_only)
    assert refused["consumed_codes"] == []
    assert refused["refused_codes"][code] == "the order contains none of the products the code applies to"
    used = order(deps, shop, "9011", codes=[code])  # the default lines hold the headphones
    assert used["consumed_codes"] == [code]


def test_the_minimum_counts_only_the_products_a_code_applies_to(deps, client, shop):
    admin(client, "PUT", f"/admin/shops/{shop.shop_id}/rewards/headphones-10",
          {**TEN_PERCENT, "min_order": "3000", "version": 1})
    code = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/headphones-10/redemptions")[1]["code"]
    # 2,899 of headphones (+900 of cases: a 3,799 order): below the minimum for the headphones
    refused = order(deps, shop, "9020", codes=[code])
    assert refused["refused_codes"][code] == "the order is below the code's minimum"
    two = [{"id": "2", "sku": "JBL-T520BT-BLU", "title": "JBL", "quantity": 2, "unit_price": "2899.00"}]
    assert order(deps, shop, "9021", codes=[code], lines=two)["consumed_codes"] == [code]


def test_a_free_product_code_needs_the_product_in_the_order(deps, shop):
    code = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/free-case/redemptions")[1]["code"]
    headphones = [{"id": "2", "sku": "JBL-T520BT-BLU", "title": "JBL", "quantity": 1, "unit_price": "2899.00"}]
    refused = order(deps, shop, "9030", codes=[code], lines=headphones)
    assert refused["refused_codes"][code] == "the order does not contain the free product CASE-IP15-BLK"
    free_case = [*headphones, {"id": "1", "sku": "CASE-IP15-BLK", "title": "Чохол", "quantity": 1,
                               "unit_price": "450.00", "discount": "450.00"}]
    assert order(deps, shop, "9031", codes=[code], lines=free_case)["consumed_codes"] == [code]


def test_a_reward_the_customer_cannot_afford_is_409_and_nothing_changes(shop):
    status, refused = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/big-500/redemptions")
    assert (status, refused["field"], refused["points_balance"], refused["points_needed"]) == (
        409, "points", ORDER_POINTS, 500)
    assert storefront(shop, "GET", f"/customers/{ENCODED}")[1]["points_balance"] == ORDER_POINTS
    status, bad = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/free-case/redemptions", {"points": 5})
    assert (status, bad["field"]) == (400, "points")
    assert storefront(shop, "POST", f"/customers/{ENCODED}/rewards/no-such/redemptions")[0] == 404


def test_two_redemptions_racing_for_the_last_points_exactly_one_wins(deps, client, shop):
    admin(client, "PUT", f"/admin/shops/{shop.shop_id}/rewards/everything",
          {"name": "Усе за бали", "kind": "amount_off", "points": ORDER_POINTS, "amount": "189"})
    loaded = load_shop(deps, shop.shop_id)

    def redeem():
        try:
            return "ok", rewards.redeem(deps, loaded, EMAIL, "everything", {})
        except Conflict as refusal:
            return "refused", refusal.message

    outcomes = run_together([redeem, redeem, redeem])
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused", "refused"]
    assert storefront(shop, "GET", f"/customers/{ENCODED}")[1]["points_balance"] == 0
    _, history = storefront(shop, "GET", f"/customers/{ENCODED}/history")
    assert [e["kind"] for e in history["entries"]].count("redeem") == 1


def test_an_unused_reward_code_gives_its_points_back_at_its_expiry(deps, client, shop):
    admin(client, "PUT", f"/admin/shops/{shop.shop_id}/rewards/free-shipping",
          {**FREE_SHIPPING, "validity_days": 7, "version": 1})
    redeemed = storefront(shop, "POST", f"/customers/{ENCODED}/rewards/free-shipping/redemptions")[1]
    assert release_expired_codes(deps, shop.shop_id, deps.clock() + timedelta(days=6), "Europe/Kyiv") == 0
    assert release_expired_codes(deps, shop.shop_id, deps.clock() + timedelta(days=8), "Europe/Kyiv") == 1
    assert storefront(shop, "GET", f"/customers/{ENCODED}")[1]["points_balance"] == ORDER_POINTS
    assert LoyaltyRepository(shop.shop_id).load_code(redeemed["code"]).status == "released"
    _, history = storefront(shop, "GET", f"/customers/{ENCODED}/history")
    assert (history["entries"][0]["kind"], history["entries"][0]["points"]) == ("release", 80)


# -- individual offers -------------------------------------------------------------------------
HEADPHONES_OFFER = {"name": "−15% на навушники для вас", "product_skus": ["JBL-T520BT-BLU"], "discount_percent": "15",
                    "valid_days": 10}


def test_an_offer_for_one_customer_is_listed_for_them_and_used_on_its_products_only(deps, client, shop):
    status, offer = admin(client, "POST", f"/admin/shops/{shop.shop_id}/offers",
                          {**HEADPHONES_OFFER, "email": "Olena.Koval+Loyalty@example.com"})
    assert status == 201, offer
    assert offer["customers"] == 1 and offer["codes"][0]["email"] == EMAIL
    code = offer["codes"][0]["code"]
    assert code.startswith("GIFT-")
    listed = storefront(shop, "GET", f"/customers/{ENCODED}/rewards")[1]["offers"]
    assert [(o["name"], o["code"], o["discount_percent"], o["product_skus"]) for o in listed] == [
        (HEADPHONES_OFFER["name"], code, "15", ["JBL-T520BT-BLU"])]

    cases_only = [{"id": "1", "sku": "CASE-IP15-BLK", "title": "Чохол", "quantity": 1, "unit_price": "450.00"}]
    assert order(deps, shop, "9100", codes=[code], lines=cases_only)["consumed_codes"] == []
    assert order(deps, shop, "9101", codes=[code])["consumed_codes"] == [code]
    assert storefront(shop, "GET", f"/customers/{ENCODED}/rewards")[1]["offers"] == []  # used: no longer listed


def test_an_offer_for_a_segment_gives_each_member_their_own_code(deps, client, shop):
    for n, email in enumerate(("taras+a@example.com", "iryna@example.com"), start=1):
        deliver_shopify(deps, shop.shop_id, shop.secret, sample_order_payload(
            "shopify", order_id=f"95{n}", email=email, lines=[{"id": "1", "sku": "CASE-IP15-BLK", "title": "Чохол",
                                                               "quantity": 1, "unit_price": "450.00"}]), "orders/paid")
    segment = {"rules": {"all": [{"field": "bought_sku", "op": "contains", "value": "JBL-T520BT-BLU"}]}}
    status, offer = admin(client, "POST", f"/admin/shops/{shop.shop_id}/offers",
                          {**HEADPHONES_OFFER, "amount": "200", "discount_percent": None, "segment": segment})
    assert status == 201, offer
    assert [c["email"] for c in offer["codes"]] == [EMAIL]  # only she bought the headphones
    status, everyone = admin(client, "POST", f"/admin/shops/{shop.shop_id}/offers",
                             {**HEADPHONES_OFFER, "segment": {"rules": {"all": [
                                 {"field": "orders_count", "op": ">=", "value": 1}]}}})
    assert status == 201 and everyone["customers"] == 3
    assert len({c["code"] for c in everyone["codes"]}) == 3
    other = storefront(shop, "GET", "/customers/taras%2Ba%40example.com/rewards")[1]["offers"]
    assert [o["code"] for o in other] == [c["code"] for c in everyone["codes"] if c["email"] == "taras+a@example.com"]


@pytest.mark.parametrize("body, field", [
    ({**HEADPHONES_OFFER}, "email"),  # neither email nor segment
    ({**HEADPHONES_OFFER, "email": EMAIL, "segment": {"rules": {}}}, "email"),
    ({**HEADPHONES_OFFER, "email": EMAIL, "amount": "10"}, "discount_percent"),
    ({**HEADPHONES_OFFER, "email": EMAIL, "discount_percent": None}, "discount_percent"),
    ({**HEADPHONES_OFFER, "email": EMAIL, "product_skus": []}, "product_skus"),
    ({**HEADPHONES_OFFER, "email": EMAIL, "discount_percent": "101"}, "discount_percent"),
    ({**HEADPHONES_OFFER, "email": EMAIL, "valid_days": 0}, "valid_days"),
    ({**HEADPHONES_OFFER, "email": EMAIL, "colour": "red"}, "colour"),
    ({**HEADPHONES_OFFER, "segment": {"rules": {"all": [{"field": "shoe_size", "op": "=", "value": 1}]}}},
     "segment.rules.all.0.field"),
])
def test_invalid_offers_are_400_naming_the_field(client, shop, body, field):
    status, error = admin(client, "POST", f"/admin/shops/{shop.shop_id}/offers", body)
    assert (status, error["field"]) == (400, field), error


def test_an_offer_for_an_unknown_customer_is_404(client, shop):
    status, error = admin(client, "POST", f"/admin/shops/{shop.shop_id}/offers",
                          {**HEADPHONES_OFFER, "email": "stranger@example.com"})
    assert (status, error["field"]) == (404, "email")


def test_a_customers_export_holds_their_offer_and_its_code(client, shop):
    offer = admin(client, "POST", f"/admin/shops/{shop.shop_id}/offers", {**HEADPHONES_OFFER, "email": EMAIL})[1]
    code = offer["codes"][0]["code"]
    status, export = admin(client, "GET", f"/admin/shops/{shop.shop_id}/customers/{ENCODED}/export")
    assert status == 200, export
    assert any(item.get("code") == code for item in export.get("offer", []))
    assert any(item.get("id") == code for item in export.get("codes", [])), sorted(export)
