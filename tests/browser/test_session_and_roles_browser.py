"""What a marketer met trying the workspace by hand (Chromium against ``chalice local``):

- a session that ended (signed out in another tab, the key revoked, 12 hours passed) left the
  workspace looking signed in, each tab showing only "sign in first (Authorization: Bearer
  <token>…)"; now the sign-in form comes back saying the session ended, and signing in again
  returns to the tab they were on;
- a marketer was offered the points adjustment form, whose Adjust only ever answered 403;
- on a phone's width the editor's previews widened the page past the screen, the header's tabs
  running off its dark bar (light grey on white);
- words typed in one language vanished without a word when the editor's language was switched;
- a dashboard period that failed to load was an uncaught error, the previous period's figures left standing.
"""
from __future__ import annotations

from devstack.samples import sample_order_payload, signed_request
from tests.support.browser import _call, _shot, chromium_page, needs_chromium, sign_in
from tests.support.shops import SECRET, shop_document

pytestmark = needs_chromium

CUSTOMER = "olena.roles@example.com"


def _shop_with_a_customer(api_server, shop) -> None:
    _call(api_server, "PUT", f"/admin/shops/{shop}", shop_document("shopify"))
    headers, body = signed_request("shopify", SECRET, sample_order_payload("shopify", order_id="7001", email=CUSTOMER),
                                   topic="orders/paid")
    assert _call(api_server, "POST", f"/webhooks/shopify/{shop}", raw=body, headers=headers)["result"] == "applied"


def _key(api_server, shop, role: str) -> str:
    return _call(api_server, "POST", f"/admin/shops/{shop}/admin-keys", {"label": f"Olena {role}", "role": role})["admin_key"]


def test_an_ended_session_brings_back_the_sign_in_and_the_tab(api_server, shop, chromium_browser):
    from playwright.sync_api import expect

    _shop_with_a_customer(api_server, shop)
    marketer = _key(api_server, shop, "marketer")
    with chromium_page(chromium_browser, 1400, 900) as opened:
        page, errors = opened.page, opened.errors
        sign_in(page, api_server, marketer, shop)
        page.click("nav >> text=Campaigns")
        expect(page.locator("#campaign-name")).to_be_visible()

        page.context.clear_cookies()  # the session is gone, as after 12 hours or a sign-out elsewhere
        page.evaluate("location.hash = '#/customers'")  # the Customers tab (a click raced the page's redraw)
        expect(page.locator("#signin-message")).to_contain_text("Your session has ended")
        expect(page.locator("header.top")).to_have_count(0)

        page.fill("#signin-key", marketer)
        page.click("form.signin button[type=submit]")
        expect(page.locator("#customer-email")).to_be_visible()  # back on Customers, not the dashboard
        expect(page.locator("#signin-message")).to_have_count(0)
        assert errors == []


def test_a_marketer_is_not_offered_the_adjustment_an_owner_is(api_server, shop, chromium_browser):
    from playwright.sync_api import expect

    _shop_with_a_customer(api_server, shop)
    for role, offered in (("marketer", False), ("owner", True)):
        with chromium_page(chromium_browser, 1400, 900) as opened:
            page = opened.page
            sign_in(page, api_server, _key(api_server, shop, role), shop)
            page.goto(f"{api_server}/admin#/customers/{CUSTOMER}")
            expect(page.locator("#customer-timeline")).to_be_visible()
            expect(page.locator("#adjust-form")).to_have_count(1 if offered else 0)
            expect(page.locator("#adjust-needs-owner")).to_have_count(0 if offered else 1)
            assert opened.errors == []


def test_the_editor_fits_a_phone(api_server, shop, chromium_browser):
    from playwright.sync_api import expect

    _shop_with_a_customer(api_server, shop)
    with chromium_page(chromium_browser, 375, 800) as opened:
        page = opened.page
        sign_in(page, api_server, _key(api_server, shop, "marketer"), shop)
        page.goto(f"{api_server}/admin#/templates/post_purchase")
        expect(page.locator("#preview-subject")).not_to_be_empty()
        width = page.evaluate("document.documentElement.scrollWidth")
        _shot(page, "editor-on-a-phone")
        assert width <= 375, f"the page is {width} px wide on a 375 px screen"
        last_tab = page.locator("header.top nav a").last.bounding_box()
        header = page.locator("header.top").bounding_box()
        assert last_tab["x"] + last_tab["width"] <= 375 and last_tab["y"] + last_tab["height"] <= header["y"] + header["height"]
        assert opened.errors == []


def test_switching_language_asks_before_dropping_unsaved_words(api_server, shop, chromium_browser):
    from playwright.sync_api import expect

    _shop_with_a_customer(api_server, shop)
    with chromium_page(chromium_browser, 1400, 900) as opened:
        page = opened.page
        sign_in(page, api_server, _key(api_server, shop, "marketer"), shop)
        page.goto(f"{api_server}/admin#/templates/post_purchase")
        page.select_option("#preview-locale", "en")
        subject = page.locator("#text-post_purchase-subject")
        expect(subject).to_have_attribute("placeholder", "Thanks for your order {order}: {points} added")
        subject.fill("Thanks, {order}! {points} are yours")
        asked = []

        def answer(dialog, accept):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", lambda dialog: answer(dialog, False))
        page.select_option("#preview-locale", "de")
        expect(page.locator("#preview-locale")).to_have_value("en")  # kept: the words stay
        expect(subject).to_have_value("Thanks, {order}! {points} are yours")
        assert asked == ["Your en words are not saved. Switch to de and drop them?"]

        page.once("dialog", lambda dialog: answer(dialog, True))
        page.select_option("#preview-locale", "de")
        expect(subject).to_have_attribute("placeholder", "Danke für Ihre Bestellung {order}: {points} gutgeschrieben")
        expect(subject).to_have_value("")

        # nothing typed since: no question
        page.select_option("#preview-locale", "uk")
        expect(subject).to_have_attribute("placeholder", "Дякуємо за замовлення {order}! +{points} на ваш рахунок")
        assert len(asked) == 2 and opened.errors == []


def test_a_dashboard_period_that_fails_to_load_says_so(api_server, shop, chromium_browser):
    from playwright.sync_api import expect

    _shop_with_a_customer(api_server, shop)
    with chromium_page(chromium_browser, 1400, 900) as opened:
        page = opened.page
        sign_in(page, api_server, _key(api_server, shop, "marketer"), shop)
        expect(page.locator("#dashboard .cards").first).to_be_visible()
        page.route("**/dashboard?days=90", lambda route: route.fulfill(
            status=500, content_type="application/json", body='{"message": "the dashboard could not be read"}'))
        page.select_option("#dashboard-days", "90")
        expect(page.locator("#dashboard-error")).to_have_text("the dashboard could not be read")
        expect(page.locator("#dashboard .cards")).to_have_count(0)  # no figures of the other period left standing
        assert opened.errors == []
