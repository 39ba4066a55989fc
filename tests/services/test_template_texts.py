"""A shop's own words per locale (GET/PUT/DELETE …/templates/{template}/texts/{locale}): checked
against the defaults, used by every render of the shop's e-mails, versioned with the template."""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest

from chalicelib.mail.rendering import TemplateSet, sample_context
from chalicelib.mail.texts import CatalogPatch, TextInvalid, check_text, template_keys
from tests.support.clock import T0, install_clock
from tests.support.shops import ADMIN

SUBJECT_DE = "Danke, dass Sie bei uns bestellt haben: {order} bringt Ihnen {points}"
INTRO_DE = "Wir rösten Ihren Kaffee frisch und packen noch heute."


def _call(client, method, path, body=None):
    response = getattr(client.http, method)(path, headers=ADMIN,
                                            body=json.dumps(body).encode() if body is not None else None)
    return response.status_code, json.loads(response.body) if response.body else None


def _texts(shop_id, template="post_purchase", locale="de"):
    return f"/admin/shops/{shop_id}/templates/{template}/texts/{locale}"


@pytest.fixture
def clock():
    return install_clock(T0)


def test_form_lists_every_text_with_default_placeholders_and_plural_forms(client, shopify_shop):
    status, body = _call(client, "get", _texts(shopify_shop.shop_id, locale="uk"))
    assert status == 200 and body["version"] == 0
    rows = {row["key"]: row for row in body["texts"]}
    assert list(rows)[0] == "post_purchase.subject"  # the e-mail's own texts first, subject on top
    assert rows["post_purchase.subject"]["placeholders"] == ["order", "points"]
    assert rows["post_purchase.subject"]["value"] is None and "{order}" in rows["post_purchase.subject"]["default"]
    assert rows["common.points"]["plural_forms"] == ["few", "many", "one", "other"]
    assert rows["common.balance_now"]["shared"] is True  # the preheader's text
    assert "common.unsubscribe" in rows  # the footer's words are the shop's too


def test_saved_words_reach_subject_html_and_text_part_of_that_locale_only(client, shopify_shop, clock):
    status, body = _call(client, "put", _texts(shopify_shop.shop_id),
                         {"texts": {"post_purchase.subject": SUBJECT_DE, "post_purchase.intro": INTRO_DE},
                          "version": 0})
    assert status == 200, body
    assert body["version"] == 1
    assert {r["key"]: r["value"] for r in body["texts"]}["post_purchase.intro"] == INTRO_DE

    status, preview = _call(client, "post", f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase/preview",
                            {"locale": "de"})
    assert preview["ok"], preview
    assert preview["subject"].startswith("Danke, dass Sie bei uns bestellt haben: #1042 bringt Ihnen")
    assert INTRO_DE in preview["html"] and INTRO_DE in preview["text"]
    _, english = _call(client, "post", f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase/preview",
                       {"locale": "en"})
    assert INTRO_DE not in english["html"] and "Thank" in english["subject"]


@pytest.mark.parametrize("text, named", [
    ("Danke {order} {nickname} {points}", "{nickname} is not a placeholder of this text; available: {order}, {points}"),
    ("Danke für {order}", "{points} is missing"),
    ("Danke {order.__class__} {points}", "is not a placeholder: use a plain name"),
    ("Danke {order {points}", "not closed"),
])
def test_a_wrong_placeholder_is_refused_with_its_name(client, shopify_shop, text, named):
    status, body = _call(client, "put", _texts(shopify_shop.shop_id), {"texts": {"post_purchase.subject": text}})
    assert status == 400
    assert body["field"] == "texts.post_purchase.subject"
    assert named in body["message"]


def test_plural_forms_the_language_needs_are_required(client, shopify_shop):
    path = _texts(shopify_shop.shop_id, locale="uk")
    status, body = _call(client, "put", path, {"texts": {"common.points": {"one": "{count} бонус",
                                                                            "other": "{count} бонуса"}}})
    assert status == 400 and "'few'" in body["message"] and body["field"] == "texts.common.points"
    forms = {"one": "{count} бонус", "few": "{count} бонуси", "many": "{count} бонусів", "other": "{count} бонуса"}
    status, body = _call(client, "put", path, {"texts": {"common.points": forms}})
    assert status == 200, body
    _, preview = _call(client, "post", f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase/preview",
                       {"locale": "uk"})
    assert "189 бонусів" in preview["html"]  # 189: "many" in Ukrainian


def test_unknown_keys_fields_and_locales_are_refused(client, shopify_shop):
    shop = shopify_shop.shop_id
    status, body = _call(client, "put", _texts(shop), {"texts": {"winback.subject": "Komm zurück"}})
    assert status == 400 and "not a text of post_purchase" in body["message"]
    status, body = _call(client, "put", _texts(shop), {"texts": {}, "mjml": "<mj-text/>"})
    assert status == 400 and body["field"] == "mjml"
    assert _call(client, "get", _texts(shop, locale="fr"))[0] == 400
    assert _call(client, "get", _texts(shop, template="nope"))[0] == 404


def test_texts_are_versions_with_history_diff_rollback_and_reset(client, shopify_shop, clock):
    shop = shopify_shop.shop_id
    assert _call(client, "put", _texts(shop), {"texts": {"post_purchase.intro": INTRO_DE}, "version": 0})[0] == 200
    clock.advance(minutes=5)
    status, body = _call(client, "put", _texts(shop), {"texts": {"post_purchase.intro": "Zweite Fassung."},
                                                       "version": 0})
    assert status == 409  # edited an old version
    assert _call(client, "put", _texts(shop), {"texts": {"post_purchase.intro": "Zweite Fassung."},
                                               "version": 1})[0] == 200
    _, history = _call(client, "get", f"/admin/shops/{shop}/templates/post_purchase/revisions")
    assert [r["version"] for r in history["revisions"]] == [2, 1]
    first = history["revisions"][1]["revision"]
    _, revision = _call(client, "get", f"/admin/shops/{shop}/templates/post_purchase/revisions/{first}")
    assert f"+de post_purchase.intro: {INTRO_DE}" in revision["texts_diff"]
    assert "-de post_purchase.intro: Zweite Fassung." in revision["texts_diff"]
    assert revision["default_body"] is True and revision["diff"] == ""

    clock.advance(minutes=5)
    status, rolled = _call(client, "post", f"/admin/shops/{shop}/templates/post_purchase/revisions/{first}/rollback",
                           {"version": 2})
    assert status == 200 and rolled["version"] == 3
    _, form = _call(client, "get", _texts(shop))
    assert {r["key"]: r["value"] for r in form["texts"]}["post_purchase.intro"] == INTRO_DE

    clock.advance(minutes=5)
    status, reset = _call(client, "delete", _texts(shop))
    assert status == 200 and all(r["value"] is None for r in reset["texts"])
    _, preview = _call(client, "post", f"/admin/shops/{shop}/templates/post_purchase/preview", {"locale": "de"})
    assert INTRO_DE not in preview["html"]


def test_an_mjml_save_keeps_the_words_and_a_body_reset_keeps_them_too(client, shopify_shop, clock):
    shop = shopify_shop.shop_id
    _call(client, "put", _texts(shop), {"texts": {"post_purchase.title": "Herzlichen Dank!"}, "version": 0})
    custom = ("<mj-section><mj-column><mj-text>{{ t('post_purchase.title') }}</mj-text></mj-column></mj-section>")
    clock.advance(minutes=1)
    status, saved = _call(client, "put", f"/admin/shops/{shop}/templates/post_purchase", {"mjml": custom, "version": 1})
    assert status == 200, saved
    _, preview = _call(client, "post", f"/admin/shops/{shop}/templates/post_purchase/preview", {"locale": "de"})
    assert "Herzlichen Dank!" in preview["html"]
    clock.advance(minutes=1)
    status, reset = _call(client, "delete", f"/admin/shops/{shop}/templates/post_purchase")
    assert status == 200 and reset["overridden"] is False and reset["version"] == 3
    _, listing = _call(client, "get", f"/admin/shops/{shop}/templates")
    row = next(t for t in listing["templates"] if t["template"] == "post_purchase")
    assert row["own_texts"] == ["de"] and row["overridden"] is False


def test_unsaved_texts_preview_live_and_samples_are_dated_around_today(client, shopify_shop, clock):
    clock.set(T0 + timedelta(days=3))
    status, preview = _call(client, "post",
                            f"/admin/shops/{shopify_shop.shop_id}/templates/points_expiring/preview",
                            {"locale": "en", "texts": {"points_expiring.title": "Your points are about to go"}})
    assert status == 200 and preview["ok"], preview
    assert "Your points are about to go" in preview["html"]
    assert str(clock.now.year) in preview["text"] and "2025" not in preview["text"]


def test_shop_words_render_with_the_default_set_untouched():
    patch = CatalogPatch.of({"post_purchase.intro": check_text("post_purchase", "de", "post_purchase.intro",
                                                                      "Frisch geröstet für Sie.")})
    own = TemplateSet.default().with_texts({("post_purchase", "de"): patch})
    assert "Frisch geröstet für Sie." in own.render("post_purchase", "de", sample_context("post_purchase", "de")).html
    default = TemplateSet.default().render("post_purchase", "de", sample_context("post_purchase", "de"))
    assert "Ihre Zahlung ist eingegangen" in default.html and "Frisch geröstet" not in default.html


def test_keys_cover_subject_preheader_and_included_partials():
    keys = template_keys("special_day")
    assert keys[0] == "special_day.subject"
    assert {"common.offer_code", "common.unsubscribe", "common.points"} <= set(keys)
    with pytest.raises(TextInvalid):
        check_text("special_day", "de", "post_purchase.subject", "x")


def test_percent_encoded_path_reaches_the_route(client, shopify_shop):
    assert _call(client, "get", _texts(shopify_shop.shop_id).replace("/texts/de", "/texts/" + quote("de")))[0] == 200


@pytest.mark.parametrize("mjml, said", [
    ("<mj-section><mj-column>\n<mj-text>{{ customer.loyalty_nickname }}</mj-text>\n</mj-column></mj-section>",
     "`customer.loyalty_nickname` is not a field; available: first_name, locale"),
    ("<mj-section><mj-column>\n<mj-text>Hi {{ customer.first_name </mj-text>\n</mj-column></mj-section>",
     "a `{{` on line 2 is not closed"),
    ("<mj-section><mj-column>\n<mj-text>{{ nickname }}</mj-text>\n</mj-column></mj-section>",
     "`nickname` is not a field; available: account, brand, cashback_earned_minor, customer,"),
])
def test_template_errors_are_said_in_plain_words(client, shopify_shop, mjml, said):
    status, preview = _call(client, "post", f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase/preview",
                            {"mjml": mjml, "locale": "en"})
    assert status == 200 and preview["ok"] is False
    assert said in preview["explanation"], preview
