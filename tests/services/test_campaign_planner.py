"""No campaign leaves unseen (POST …/campaign-preview): who will actually get it, each locale's
e-mail with the campaign's own data and offer, times in the shop's zone; and each customer's
story (search by prefix or name, one timeline)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from devstack.samples import sample_order_payload
from tests.support.clock import T0, install_clock
from tests.support.shops import ADMIN

SEND_AT = (T0 + timedelta(days=2)).replace(tzinfo=None).isoformat(timespec="minutes")  # shop time (Kyiv)


def _post(client, path, body):
    response = client.http.post(path, headers=ADMIN, body=json.dumps(body).encode())
    return response.status_code, json.loads(response.body)


def _get(client, path):
    response = client.http.get(path, headers=ADMIN)
    return response.status_code, json.loads(response.body)


@pytest.fixture
def customers(client, shopify_shop):
    install_clock(T0)
    people = [("olena@example.com", "Olena", "uk", True), ("jonas@example.de", "Jonas", "de", True),
              ("lena@example.de", "Lena", "de", False), ("taras+news@example.com", "Taras", "uk", True)]
    for number, (email, name, locale, consent) in enumerate(people, start=1):
        response = shopify_shop.deliver(sample_order_payload(
            "shopify", order_id=str(7000 + number), email=email, first_name=name, locale=locale,
            marketing_consent=consent, created_at=T0 - timedelta(days=number)), topic="orders/paid")
        assert response.status_code == 200, response.body
    return people


def _document(**overrides):
    document = {"name": "Free shipping day", "template": "special_day",
                "segment": {"rules": {"field": "orders_count", "op": ">=", "value": 1}}, "send_at": SEND_AT,
                "data": {"title": {"de": "Versandkostenfrei-Tag", "uk": "День безкоштовної доставки"},
                         "starts_at": SEND_AT[:10], "ends_at": SEND_AT[:10]},
                "offer": {"codes": "per_customer", "free_shipping": True,
                          "valid_from": SEND_AT, "valid_until": SEND_AT[:10] + "T23:59"}}
    document.update(overrides)
    return document


def test_preview_counts_who_receives_and_renders_each_locale_with_its_own_title(client, shopify_shop, customers):
    status, body = _post(client, f"/admin/shops/{shopify_shop.shop_id}/campaign-preview", _document())
    assert status == 200, body
    audience = body["audience"]
    assert audience["members"] == 4 and audience["receiving"] == 3
    assert audience["skipped"] == {"no_consent": 1} and audience["by_locale"] == {"de": 1, "uk": 2}
    assert set(body["previews"]) == {"de", "uk"}
    german, ukrainian = body["previews"]["de"], body["previews"]["uk"]
    assert german["ok"] and "Versandkostenfrei-Tag" in german["html"] and german["recipient"] == "jonas@example.de"
    assert "Jonas" in german["html"]  # the real recipient, not a sample
    assert "День безкоштовної доставки" in ukrainian["html"] and "Versandkostenfrei" not in ukrainian["html"]
    assert "PREVIEW-CODE" in german["html"]
    times = body["times"]
    assert times["timezone"] == "Europe/Kyiv" and times["send_at"]["shop_time"].startswith(SEND_AT)
    assert times["send_at"]["utc"] != times["send_at"]["shop_time"]


def test_preview_of_a_locale_nobody_speaks_uses_a_sample_and_errors_name_the_field(client, shopify_shop, customers):
    status, body = _post(client, f"/admin/shops/{shopify_shop.shop_id}/campaign-preview",
                         {**_document(), "locales": ["en", "ru"]})
    assert status == 200 and body["previews"]["en"].get("sample") is True, body["previews"]["en"].get("error")
    assert body["previews"]["en"]["ok"]
    assert "День безкоштовної доставки" in body["previews"]["ru"]["html"]  # no ru title: the shop's default (uk)
    status, body = _post(client, f"/admin/shops/{shopify_shop.shop_id}/campaign-preview",
                         {**_document(data={"starts_at": SEND_AT[:10], "ends_at": SEND_AT[:10]})})
    assert status == 400 and body["field"] == "data" and "'title' is required" in body["message"]
    assert body["message"].startswith("data: 'title' is required (the special day e-mail in ")  # plain words first
    status, body = _post(client, f"/admin/shops/{shopify_shop.shop_id}/campaign-preview",
                         {**_document(), "locales": ["fr"]})
    assert status == 400 and body["field"] == "locales"


def test_unsubscribed_customers_are_counted_out(client, shopify_shop, customers):
    from chalicelib import composition
    from chalicelib.services.shops.lookup import load_shop

    deps = composition.dependencies()
    shop = load_shop(deps, shopify_shop.shop_id)
    olena = shop.customer_id_for("olena@example.com")

    def unsubscribe(prefs):
        prefs.unsubscribed, prefs.unsubscribed_at, prefs.unsubscribe_source = True, T0 + timedelta(hours=1), "link"
    deps.repos.mail(shopify_shop.shop_id).update_prefs(olena, unsubscribe)
    _, body = _post(client, f"/admin/shops/{shopify_shop.shop_id}/campaign-preview", _document())
    assert body["audience"]["skipped"] == {"no_consent": 1, "unsubscribed": 1}
    assert body["audience"]["by_locale"] == {"de": 1, "uk": 1}
    _, story = _get(client, f"/admin/shops/{shopify_shop.shop_id}/customers/olena@example.com/timeline")
    assert story["unsubscribed"] is True
    assert story["events"][0]["type"] == "unsubscribe"


def test_search_by_prefix_or_name_and_the_timeline_of_orders_and_adjustments(client, shopify_shop, customers):
    shop = shopify_shop.shop_id
    _, found = _get(client, f"/admin/shops/{shop}/customers?q=TARAS")
    assert [c["email"] for c in found["customers"]] == ["taras+news@example.com"]
    _, found = _get(client, f"/admin/shops/{shop}/customers?q=len")
    assert [c["email"] for c in found["customers"]] == ["lena@example.de"]  # Lena by name; Olena does not start so
    assert _get(client, f"/admin/shops/{shop}/customers?q=a")[0] == 400

    install_clock(T0 + timedelta(hours=2))
    status, _ = _post(client, f"/admin/shops/{shop}/customers/olena@example.com/adjustments",
                      {"points": 15, "reason": "parcel arrived late", "request_id": "adjust-0001"})
    assert status in (200, 201)
    status, story = _get(client, f"/admin/shops/{shop}/customers/olena%40example.com/timeline")
    assert status == 200
    kinds = [e["type"] for e in story["events"]]
    assert kinds[0] == "adjustment" and "order" in kinds
    assert story["events"][0]["reason"] == "parcel arrived late"
    assert _get(client, f"/admin/shops/{shop}/customers/nobody@example.com/timeline")[0] == 404


def test_named_segments_are_saved_on_their_version_and_reused(client, shopify_shop, customers):
    shop = shopify_shop.shop_id
    rules = {"all": [{"field": "locale", "op": "=", "value": "de"}, {"field": "marketing_consent", "op": "=", "value": True}]}
    path = f"/admin/shops/{shop}/segments/german-fans"

    def put(body):
        response = client.http.put(path, headers=ADMIN, body=json.dumps(body).encode())
        return response.status_code, json.loads(response.body)

    status, saved = put({"name": "German fans", "rules": rules})
    assert status == 200 and saved["version"] == 1
    assert put({"name": "German fans", "rules": rules})[0] == 409  # created meanwhile by someone else
    status, body = put({"name": "German fans", "rules": {"field": "nickname", "op": "=", "value": 1}, "version": 1})
    assert status == 400 and body["field"].startswith("segment.")
    assert put({"name": "x", "rules": rules, "colour": "red"})[1]["field"] == "colour"
    _, listing = _get(client, f"/admin/shops/{shop}/segments")
    assert [s["name"] for s in listing["segments"]] == ["German fans"]
    _, preview = _post(client, f"/admin/shops/{shop}/campaign-preview", _document(segment={"rules": saved["rules"]}))
    assert preview["audience"]["receiving"] == 1 and preview["audience"]["by_locale"] == {"de": 1}
    assert client.http.delete(path, headers=ADMIN).status_code == 200
    assert _get(client, path)[0] == 404
    assert _get(client, f"/admin/shops/{shop}/segments/Bad%20Id")[0] == 400
