"""The Brand page in Chromium: the preview follows the form as the marketer types (unsaved), a
hostile colour is refused by its field name, and the saved brand is the shop's."""
from __future__ import annotations

import re

import pytest

from tests.support.browser import _call, _shot, chromium_page, needs_chromium, sign_in, zerno_settings

pytestmark = needs_chromium


@pytest.fixture
def owner_key(api_server, shop):
    _call(api_server, "PUT", f"/admin/shops/{shop}", zerno_settings(shop))
    return _call(api_server, "POST", f"/admin/shops/{shop}/admin-keys", {"label": "Olena", "role": "owner"})["admin_key"]


def _preview_html(page) -> str:
    return page.locator("#brand-preview").get_attribute("srcdoc")


def test_marketer_brands_every_email_watching_the_preview(api_server, shop, owner_key, chromium_browser):
    from playwright.sync_api import expect

    with chromium_page(chromium_browser, 1500, 2000) as opened:
        page, errors = opened.page, opened.errors
        sign_in(page, api_server, owner_key, shop)
        page.goto(f"{api_server}/admin#/brand")
        expect(page.locator("#brand-form")).to_be_visible()
        preview = page.locator("#brand-preview")
        expect(preview).to_have_attribute("srcdoc", re.compile("#1f6f54"))

        # typing changes the preview, nothing is saved yet
        page.fill("#brand-primary_color", "#c2185b")
        page.fill("#brand-address_lines", "Zerno LLC\n22 Khreshchatyk St\nKyiv 01001")
        page.fill("#brand-social-instagram", "https://instagram.com/zerno.coffee")
        page.select_option("#brand-font", "georgia")
        expect(preview).to_have_attribute("srcdoc", re.compile(r"Georgia[\s\S]*instagram\.com/zerno\.coffee"))
        html = _preview_html(page)
        assert 'bgcolor="#c2185b"' in html and "22 Khreshchatyk St" in html
        assert _call(api_server, "GET", f"/admin/shops/{shop}")["brand"]["primary_color"] == "#1f6f54"

        # a hostile colour is refused naming its field; the preview keeps the last good one
        page.fill("#brand-primary_color", 'red" onload="x')
        expect(page.locator("#brand-error")).to_contain_text("brand.primary_color")
        expect(page.locator("#brand-primary_color")).to_have_class(re.compile("invalid"))
        page.fill("#brand-primary_color", "#c2185b")
        expect(page.locator("#brand-error")).to_have_count(0)
        _shot(page, "brand-page", "brand")

        page.click("#brand-save")
        expect(page.locator("#brand-status")).to_contain_text("Saved")
        saved = _call(api_server, "GET", f"/admin/shops/{shop}")["brand"]
        assert saved["primary_color"] == "#c2185b" and saved["font"] == "georgia"
        assert saved["address_lines"] == ["Zerno LLC", "22 Khreshchatyk St", "Kyiv 01001"]
        assert saved["social_links"]["instagram"] == "https://instagram.com/zerno.coffee"
        assert errors == []
