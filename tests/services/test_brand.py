"""Brand without code: a shop's logo, colours, font, footer address lines and social links are
shop settings (refused by field name), every default template shows them, the workspace's
preview renders an unsaved brand, and a shop without a brand gets the look it always had."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.shops.brand import FONT_STACKS
from chalicelib.mail.contexts import build_context, sample_data, sample_links
from chalicelib.mail.rendering import LOCALES, TEMPLATES, TemplateSet
from chalicelib.services.shops.lookup import load_shop
from tests.support.clock import T0, install_clock
from tests.support.shops import ADMIN, shop_document

NOW = datetime(2026, 3, 14, 10, 0, tzinfo=timezone.utc)
BRAND = {
    "logo_url": "https://cdn.shop.example/brand/logo@2x.png",
    "primary_color": "#C2185B", "accent_color": "#311B92", "background_color": "#FFF8E1", "text_color": "#212121",
    "font": "georgia",
    "address_lines": ["Demo electronics LLC", "<script>alert('x')</script> 5 Khreshchatyk St", "Kyiv 01001"],
    "social_links": {"instagram": "https://www.instagram.com/demo.electronics", "telegram": "https://t.me/demo_el"},
}


@pytest.fixture
def clock():
    return install_clock(T0)


def _put_shop(client, shop_id: str, **overrides) -> tuple[int, dict]:
    response = client.http.put(f"/admin/shops/{shop_id}", headers=ADMIN,
                               body=json.dumps(shop_document("shopify", **overrides)).encode())
    return response.status_code, json.loads(response.body)


def _preview(client, shop_id: str, body: dict, template: str = "post_purchase") -> tuple[int, dict]:
    response = client.http.post(f"/admin/shops/{shop_id}/templates/{template}/preview", headers=ADMIN,
                                body=json.dumps(body).encode())
    return response.status_code, json.loads(response.body)


def _mail(deps, shop_id: str, template: str, locale: str):
    """The e-mail as the send path renders it: the stored shop, build_context, the default set."""
    shop = load_shop(deps, shop_id)
    account = Account(shop_id, "c_1", created_at=NOW, email="olena+brand@example.com", first_name="Олена",
                      locale=locale, marketing_consent=True, points_balance=420)
    context = build_context(template, shop=shop, account=account, data=sample_data(template, locale, shop),
                            links=sample_links(locale), now=NOW)
    return TemplateSet.default().render(template, locale, context)


@pytest.mark.parametrize("field, value, reason", [
    ("primary_color", 'red" onload="x', "#rrggbb"),
    ("accent_color", "#12345", "#rrggbb"),
    ("background_color", "rgb(0,0,0)", "#rrggbb"),
    ("text_color", "#1f2933;background:url(https://evil.example/x)", "#rrggbb"),
    ("logo_url", "http://cdn.shop.example/logo.png", "https://"),
    ("logo_url", 'https://cdn.shop.example/logo.png" onerror="x', "https://"),
    ("font", "Comic Sans MS", "georgia"),
    ("address_lines", ["line one\nline two"], "one line per entry"),
    ("address_lines", ["a", "b", "c", "d", "e"], "at most 4"),
])
def test_a_bad_brand_value_is_refused_naming_its_field(client, shopify_shop, field, value, reason):
    status, body = _put_shop(client, shopify_shop.shop_id, brand={field: value})
    assert status == 400, body
    assert body["field"] == f"brand.{field}", body
    assert reason in body["message"], body


@pytest.mark.parametrize("network, url", [
    ("facebook", "https://facebook.com.evil.example/demo"),
    ("instagram", "https://evil.example/instagram.com/demo"),
    ("x", "http://x.com/demo"),
    ("youtube", "javascript:alert(1)//youtube.com"),
    ("tiktok", "https://www.instagram.com/demo"),
])
def test_a_social_link_must_be_https_on_its_own_network(client, shopify_shop, network, url):
    status, body = _put_shop(client, shopify_shop.shop_id, brand={"social_links": {network: url}})
    assert status == 400 and body["field"] == f"brand.social_links.{network}", body


def test_an_unknown_network_is_refused_with_its_name(client, shopify_shop):
    status, body = _put_shop(client, shopify_shop.shop_id, brand={"social_links": {"myspace": "https://myspace.com/d"}})
    assert status == 400 and body["field"] == "brand.social_links.myspace", body


def test_a_saved_brand_is_returned_normalised_and_kept_when_a_later_save_leaves_it_out(client, shopify_shop):
    status, body = _put_shop(client, shopify_shop.shop_id, brand=BRAND)
    assert status == 200, body
    shop = json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}", headers=ADMIN).body)
    assert shop["brand"]["primary_color"] == "#c2185b" and shop["brand"]["font"] == "georgia"
    assert shop["brand"]["social_links"]["telegram"] == "https://t.me/demo_el"
    assert shop["brand"]["social_links"]["facebook"] is None
    status, _ = _put_shop(client, shopify_shop.shop_id, name="Demo electronics 2")  # e.g. the settings page
    assert status == 200
    shop = json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}", headers=ADMIN).body)
    assert shop["name"] == "Demo electronics 2" and shop["brand"]["address_lines"] == BRAND["address_lines"]


def test_a_sent_mail_carries_the_brand_in_its_html_and_text(client, deps, shopify_shop):
    assert _put_shop(client, shopify_shop.shop_id, brand=BRAND)[0] == 200
    mail = _mail(deps, shopify_shop.shop_id, "post_purchase", "uk")
    html = mail.html
    assert re.search(r'<img[^>]+alt="Demo electronics"[^>]+src="https://cdn\.shop\.example/brand/logo@2x\.png"', html)
    assert 'bgcolor="#c2185b"' in html  # the button
    assert "background:#fff8e1" in html.replace(" ", "") or "background-color:#fff8e1" in html.replace(" ", "")
    assert "color:#311b92" in html.replace(" ", "")  # heading and shop name
    assert "Georgia, 'Times New Roman', Times, serif" in html  # the stack as CSS, its quotes not escaped
    assert "#1f6f54" not in html and "#f4f1ec" not in html  # no default colour left in the shared layout
    assert 'href="https://www.instagram.com/demo.electronics"' in html and ">Telegram</a>" in html
    assert "Demo electronics LLC" in html and "Kyiv 01001" in html
    assert "Demo electronics LLC" in mail.text and "Instagram: https://www.instagram.com/demo.electronics" in mail.text


def test_a_hostile_footer_line_is_escaped_not_run(client, deps, shopify_shop):
    assert _put_shop(client, shopify_shop.shop_id, brand=BRAND)[0] == 200
    html = _mail(deps, shopify_shop.shop_id, "welcome", "en").html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 5 Khreshchatyk St" in html


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_default_template_wears_the_brand_in_every_locale(client, deps, shopify_shop, template):
    assert _put_shop(client, shopify_shop.shop_id, brand={**BRAND, "font": "verdana"})[0] == 200
    for locale in LOCALES:
        html = _mail(deps, shopify_shop.shop_id, template, locale).html
        assert "cdn.shop.example/brand/logo@2x.png" in html, (template, locale)
        assert "#c2185b" in html and "#fff8e1" in html and FONT_STACKS["verdana"] in html, (template, locale)
        assert "Kyiv 01001" in html and "https://t.me/demo_el" in html, (template, locale)


def test_a_shop_without_a_brand_looks_as_before(client, deps, shopify_shop):
    html = _mail(deps, shopify_shop.shop_id, "post_purchase", "en").html
    assert 'bgcolor="#1f6f54"' in html and "#f4f1ec" in html  # the default green button, the warm background
    assert FONT_STACKS["system"] in html and "&#39;Segoe UI&#39;" not in html
    assert 'alt="Demo electronics"' not in html  # no logo set: no header image
    assert "instagram" not in html.lower() and "telegram" not in html.lower()  # no social row at all


def test_a_context_built_by_hand_renders_exactly_like_the_default_brand(client, deps, shopify_shop):
    shop = load_shop(deps, shopify_shop.shop_id)
    account = Account(shopify_shop.shop_id, "c_1", created_at=NOW, email="a@example.com", locale="de")
    context = build_context("welcome", shop=shop, account=account, data={}, links=sample_links("de"), now=NOW)
    without = {key: value for key, value in context.items() if key != "brand"}
    assert TemplateSet.default().render("welcome", "de", without) == TemplateSet.default().render("welcome", "de",
                                                                                                  context)


def test_the_preview_renders_an_unsaved_brand_as_the_marketer_types(client, shopify_shop, clock):
    status, saved_look = _preview(client, shopify_shop.shop_id, {"locale": "en"})
    assert status == 200 and saved_look["ok"] and "#c2185b" not in saved_look["html"]
    status, typed = _preview(client, shopify_shop.shop_id, {"locale": "en", "brand": {
        "primary_color": "#c2185b", "address_lines": ["Somewhere 1"], "social_links": {"x": "https://x.com/demo"}}})
    assert status == 200 and typed["ok"], typed
    assert 'bgcolor="#c2185b"' in typed["html"] and "Somewhere 1" in typed["html"] and ">X</a>" in typed["html"]
    assert "Somewhere 1" in typed["text"]
    shop = json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}", headers=ADMIN).body)
    assert shop["brand"]["primary_color"] == "#1f6f54"  # previewing saved nothing


@pytest.mark.parametrize("brand, field", [
    ({"primary_color": 'red" onload="x'}, "brand.primary_color"),
    ({"social_links": {"facebook": "https://evil.example/"}}, "brand.social_links.facebook"),
    ("#ff0000", "brand"),
])
def test_the_preview_refuses_a_bad_unsaved_brand_by_field(client, shopify_shop, clock, brand, field):
    status, body = _preview(client, shopify_shop.shop_id, {"locale": "en", "brand": brand})
    assert status == 400 and body["field"] == field, body
