"""Admin and storefront API: auth, validation naming the field, no secrets out, pagination."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest

from devstack.samples import DEFAULT_EMAIL, sample_order_payload
from tests.support.shops import ADMIN, SECRET, shop_document

EMAIL = DEFAULT_EMAIL


def put(client, shop_id, document, headers=ADMIN):
    response = client.http.put(f"/admin/shops/{shop_id}", headers=headers, body=json.dumps(document).encode())
    return response.status_code, json.loads(response.body)


def test_admin_needs_the_bearer_token(client):
    assert put(client, "s1", shop_document("shopify"), headers={"Content-Type": "application/json"})[0] == 401
    wrong = {"Authorization": "Bearer nope", "Content-Type": "application/json"}
    assert put(client, "s1", shop_document("shopify"), headers=wrong)[0] == 401
    assert client.http.get("/admin/shops/s1").status_code == 401


def test_create_then_update_and_read_back_without_secrets(client):
    status, created = put(client, "s1", shop_document("shopify"))
    assert status == 201 and created["program"]["earn_rate"] == "0.05"
    status, updated = put(client, "s1", shop_document("shopify", program={"earn_rate": "0.1"}))
    assert status == 200 and updated["program"]["earn_rate"] == "0.1"
    read = client.http.get("/admin/shops/s1", headers=ADMIN)
    assert read.status_code == 200
    assert SECRET not in read.body.decode() and "webhook_secret" not in read.body.decode()
    assert json.loads(read.body)["program"]["tiers"][0] == {"name": "Silver", "min_spend": "2000",
                                                            "discount_percent": "5"}
    listed = json.loads(client.http.get("/admin/shops", headers=ADMIN).body)
    assert listed == {"shops": [{"shop_id": "s1", "platform": "shopify"}]}


def test_update_without_secret_keeps_it(deps, client):
    put(client, "s1", shop_document("shopify"))
    document = shop_document("shopify")
    del document["webhook_secret"]
    assert put(client, "s1", document)[0] == 200
    from chalicelib.services.shops.lookup import load_shop

    assert load_shop(deps, "s1").webhook_secrets_at(datetime(2030, 1, 1, tzinfo=timezone.utc)) == (SECRET,)


@pytest.mark.parametrize("change, field", [
    ({"program": {"earn_rate": "-1"}}, "program.earn_rate"),
    ({"program": {"earn_rat": "0.1"}}, "program.earn_rat"),
    ({"program": {"tiers": [{"name": "A", "min_spend": "10", "discount_percent": 5},
                            {"name": "B", "min_spend": "10", "discount_percent": 6}]}}, "program.tiers"),
    ({"program": {"tiers": [{"name": "A", "min_spend": "10", "discount_percent": 5},
                            {"name": "B", "min_spend": "20", "discount_percent": 150}]}},
     "program.tiers.1.discount_percent"),
    # Without an upper bound these saved, then broke paid orders, the storefront view and every e-mail.
    ({"program": {"earn_rate": "1e40"}}, "program.earn_rate"),
    ({"program": {"point_value": "1e30"}}, "program.point_value"),
    ({"program": {"min_redeem_points": 10 ** 30}}, "program.min_redeem_points"),
    ({"program": {"tiers": [{"name": "A", "min_spend": "1e30", "discount_percent": 5}]}}, "program.tiers.0.min_spend"),
    ({"program": {"referral": {"reward_points": 0, "reward_money": "1e30"}}}, "program.referral.reward_money"),
    ({"program": {"excluded_skus": ["GIFT"] * 100_000}}, "program.excluded_skus"),  # was a 500 (item too large)
    ({"program": {"excluded_categories": ["c" * 1000]}}, "program.excluded_categories.0"),
    # 100 points for a code worth 0.0001 UAH (a code of 0.00): the points gone, nothing given.
    ({"program": {"point_value": "0.000001"}}, "program.point_value"),
    ({"currency": "JPY", "program": {"point_value": "0.5", "min_redeem_points": 1}}, "program.point_value"),
    ({"program": {"tier_period": "weekly"}}, "program.tier_period"),
    ({"program": {"points_validity_months": 0}}, "program.points_validity_months"),
    ({"currency": "XXQ"}, "currency"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"platform": "magento"}, "platform"),
    ({"sender_email": "not-an-address"}, "sender_email"),
    ({"storefront_url": "ftp://shop"}, "storefront_url"),
    ({"webhook_secret": "short"}, "webhook_secret"),
])
def test_invalid_settings_are_400_naming_the_field_and_nothing_is_saved(client, change, field):
    status, error = put(client, "s2", {**shop_document("shopify"), **change})
    assert status == 400, error
    assert error["field"] == field and error["message"].startswith(field)
    assert client.http.get("/admin/shops/s2", headers=ADMIN).status_code == 404


def test_the_largest_program_a_shop_may_save_still_earns_shows_and_mails(deps, client):
    """The bounds are where the derived amounts still fit: the largest order a platform may send,
    at the highest earn rate and point value, in a currency with three decimals."""
    import boto3

    from chalicelib.services.mail import mailer
    from tests.support.queues import drain_queue
    from tests.support.shops import register_shop

    shop = register_shop(client, "big-program", "generic", currency="KWD", program={
        "earn_rate": "1000", "point_value": "1000000", "min_redeem_points": 10 ** 9,
        "tiers": [{"name": "Top", "min_spend": "999999999999", "discount_percent": 100}],
        "excluded_skus": [f"{n:03d}" + "s" * 252 for n in range(500)],
        "excluded_categories": [f"{n:03d}" + "c" * 252 for n in range(500)]})
    payload = sample_order_payload("generic", order_id="huge-1", email=EMAIL, currency="KWD",
                                   lines=[{"sku": "SAFE", "unit_price": "99999999999.999"}])
    response = shop.deliver(payload)
    assert response.status_code == 200, response.body
    status, view = shop.customer(EMAIL)
    assert status == 200, view
    assert (view["points_balance"], view["points_value"]) == (10 ** 14, "100000000000000000000.000")
    assert (view["next_tier"], view["spend_to_next_tier"]) == ("Top", "899999999999.000")
    status, code = shop.redeem(EMAIL, 10 ** 9)
    assert status == 201, code
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    sent = [mailer.send_message(deps, message)["status"] for message in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])]
    assert sent and set(sent) == {"sent"}, sent


def test_the_upper_bounds_apply_to_saving_and_a_shop_saved_before_them_still_loads():
    from chalicelib.services.shops.shop_settings import shop_from_documents

    stored = {**shop_document("generic"), "program": {"earn_rate": "5000", "excluded_skus": ["x"] * 600}}
    secrets = {"webhook_secret": stored.pop("webhook_secret"), "customer_key_salt": "0" * 64}
    shop = shop_from_documents("saved-before", stored, secrets, version=3)
    assert shop.program.earn_rate == 5000 and len(shop.program.excluded_skus) == 1


def test_missing_required_and_bad_json(client):
    document = shop_document("shopify")
    del document["currency"]
    status, error = put(client, "s3", document)
    assert (status, error["field"], error["message"]) == (400, "currency", "currency: required")
    response = client.http.put("/admin/shops/s3", headers=ADMIN, body=b'{"platform": "shopify",')
    assert response.status_code == 400 and json.loads(response.body)["field"] == "body"
    response = client.http.put("/admin/shops/s3", headers=ADMIN, body=b'{"a": 1, "a": 2}')
    assert response.status_code == 400 and "duplicate" in json.loads(response.body)["message"]
    assert put(client, "Bad Id!", shop_document("shopify"))[1]["field"] == "shop_id"


def test_api_key_is_shown_once_and_stored_as_a_hash(client, shopify_shop):
    from chalicelib.store.models import ApiKeyItem

    stored = list(ApiKeyItem.query("SHOP#shopify-shop"))
    assert len(stored) == 1 and shopify_shop.api_key not in stored[0].sk
    assert client.http.get(f"/shops/shopify-shop/customers/{EMAIL}").status_code == 401
    assert client.http.get(f"/shops/shopify-shop/customers/{EMAIL}",
                           headers={"X-Api-Key": "lk_guess"}).status_code == 401


def test_history_is_newest_first_and_paginates(shopify_shop):
    for n in range(3):
        shopify_shop.deliver(sample_order_payload("shopify", order_id=f"h{n}", email=EMAIL), topic="orders/paid")
    seen, cursor = [], ""
    while True:
        status, page = shopify_shop.history(EMAIL, f"?limit=2{'&cursor=' + cursor if cursor else ''}")
        assert status == 200 and len(page["entries"]) <= 2
        seen += page["entries"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 6  # earn + cashback per order
    # each tier reached is told on the entry of the order that reached it (tier history), newest first
    assert [e["detail"]["tier"]["to"] for e in seen if "tier" in (e["detail"] or {})] == ["Gold", "Silver"]
    assert [e["created_at"] for e in seen] == sorted((e["created_at"] for e in seen), reverse=True)
    assert shopify_shop.history(EMAIL, "?limit=0")[0] == 400
    assert shopify_shop.history(EMAIL, "?cursor=%%%")[0] == 400


def test_redemption_rules(shopify_shop):
    shopify_shop.deliver(sample_order_payload("shopify", order_id="x1", email=EMAIL), topic="orders/paid")
    assert shopify_shop.redeem(EMAIL, 99)[0] == 409  # below min_redeem_points
    assert shopify_shop.redeem(EMAIL, 190)[0] == 409  # more than the balance
    assert shopify_shop.redeem(EMAIL, "100")[0] == 400
    assert shopify_shop.redeem("nobody@example.com", 100)[0] == 404
    status, code = shopify_shop.redeem(EMAIL, 100)
    assert status == 201 and code["value"] == "100.00" and code["points_balance"] == 89
    view = shopify_shop.customer(EMAIL)[1]
    assert view["points_balance"] == 89 and [lot["points"] for lot in view["expiring"]] == [89]
