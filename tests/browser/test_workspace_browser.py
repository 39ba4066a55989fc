"""The marketers' workspace end to end in headless Chromium (Debian's package) against the API
served by ``chalice local`` on the test's emulator: sign in, edit a template and watch the
preview change, save, roll back, send a test and find it in the outbox, plan and pause a
campaign, preview a program change, adjust a customer's points.

Screenshots land in ``out/screenshots/`` (test artifacts); with ``UPDATE_DOCS_SCREENSHOTS=1``
the editor, planner and dashboard shots are also written to ``docs/screenshots/``.
"""
from __future__ import annotations

import re
import urllib.parse
from datetime import datetime, timedelta

from tests.support.browser import _call, _outbox, _shot, chromium_page, needs_chromium, sender_domain

pytestmark = needs_chromium


def _replace_editor_text(page, selector: str, text: str) -> None:
    page.click(f"{selector} .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def test_marketer_edits_previews_saves_rolls_back_tests_and_plans(api_server, shop, demo_shop, chromium_browser):
    from playwright.sync_api import expect

    first = ("<mj-section><mj-column>\n  <mj-text font-size=\"20px\">Thank you, {{ customer.first_name }}!"
             "</mj-text>\n  <mj-text>Spring edition: {{ points(points_earned) }}</mj-text>\n"
             "</mj-column></mj-section>")
    second = first.replace("Spring edition", "Summer edition")
    with chromium_page(chromium_browser, 1680, 1000) as opened:
        browser, page, errors = opened.browser, opened.page, opened.errors
        page.goto(f"{api_server}/admin")

        # sign in with the shop's key: an HttpOnly cookie, invisible to scripts
        page.fill("#signin-key", "wrong-key")
        page.click("form.signin button[type=submit]")
        expect(page.locator(".signin-message")).to_contain_text("unknown key")
        page.fill("#signin-key", demo_shop)
        page.click("form.signin button[type=submit]")
        expect(page.locator("#shop-name")).to_have_text(shop)
        assert page.evaluate("document.cookie") == ""
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["lm_session"]["httpOnly"] and cookies["lm_session"]["secure"]

        # the dashboard, from the counters the orders wrote
        customers = _call(api_server, "POST", f"/admin/shops/{shop}/segments/preview",
                          {"rules": {"field": "orders_count", "op": ">=", "value": 1}})["count"]
        expect(page.locator("#dashboard .stat").first).to_contain_text(str(customers))
        expect(page.locator("#chart-points canvas")).to_have_count(1)
        # the program's effect: the liability by the month the orders' points expire, in the locale
        expect(page.locator("#program-effect")).to_contain_text("Redemption rate")
        expect(page.locator("#liability-months tbody tr").first).to_be_visible()
        assert "customers" in page.locator("#program-effect").inner_text()
        _shot(page, "dashboard", "workspace-dashboard")

        # the sending domain: verified, its DNS records shown; a test recipient added and confirmed
        # by its owner through the link in the e-mail it got (the link's page, then Confirm)
        page.click("nav >> text=Sending")
        domain = sender_domain(shop)
        expect(page.locator("#sending-status")).to_contain_text(f"Mail goes out from hello@{domain}")
        expect(page.locator(f".domain[data-domain='{domain}'] .badge")).to_have_text("verified")
        expect(page.locator(f".domain[data-domain='{domain}'] .records tbody tr")).to_have_count(6)
        before = len(_outbox())
        page.fill("#new-test-recipient", "olena.marketing@agency.example")
        page.click("#add-test-recipient")
        expect(page.locator("#test-recipients")).to_contain_text("waiting for the owner's confirmation")
        (confirmation,) = _outbox()[before:]
        link = re.search(r"http\S+/test-recipients/confirm/\S+", confirmation.part("text/plain")).group(0)
        owner = browser.new_page()
        owner.goto(api_server + urllib.parse.urlsplit(link).path)
        owner.click("button[type=submit]")
        expect(owner.locator("h1")).to_have_text("Confirmed")
        owner.close()
        page.reload()
        expect(page.locator("#test-recipients")).to_contain_text("confirmed")
        _shot(page, "sending", "workspace-sending")

        # the template editor: the preview follows the unsaved text
        page.click("nav >> text=Templates")
        # the flows: win-back switched off for this shop; campaigns are always sent
        winback = page.locator("#template-list tr[data-template='winback']")
        winback.locator(".flow-switch input").uncheck()
        expect(winback.locator(".flow-note")).to_have_text("off")
        assert _call(api_server, "GET", f"/admin/shops/{shop}")["flows_off"] == ["winback"]
        expect(page.locator("#template-list tr[data-template='special_day'] .flow-switch")).to_have_text("always")
        expect(winback.locator(".last-sent")).to_have_text("never")
        _shot(page, "flows", "workspace-flows")
        page.click("#template-list >> text=post_purchase")
        expect(page.frame_locator("#preview-desktop").locator("body")).to_contain_text("#1042", timeout=20_000)
        _shot(page, "editor-default", "workspace-editor")
        page.click("#mode-code")  # the words are a form; the layout is the designer's code tab
        _replace_editor_text(page, "#mjml-editor", first)
        expect(page.frame_locator("#preview-desktop").locator("body")).to_contain_text("Spring edition")
        expect(page.frame_locator("#preview-mobile").locator("body")).to_contain_text("Spring edition")
        page.select_option("#preview-locale", "de")
        expect(page.frame_locator("#preview-desktop").locator("body")).to_contain_text("Jonas")

        # an error shows its line and marks it
        _replace_editor_text(page, "#mjml-editor", first.replace("{{ points(points_earned) }}", "{{ points_earnd }}"))
        expect(page.locator("#preview-error-message")).to_contain_text("Line 3")
        expect(page.locator(".cm-error-line")).to_have_count(1)
        _replace_editor_text(page, "#mjml-editor", first)
        expect(page.locator("#preview-error-message")).to_have_count(0)

        page.click("#save-template")
        expect(page.locator("#editor-status")).to_contain_text("Saved as version 1")
        _replace_editor_text(page, "#mjml-editor", second)
        expect(page.frame_locator("#preview-desktop").locator("body")).to_contain_text("Summer edition")
        page.click("#save-template")
        expect(page.locator("#editor-status")).to_contain_text("Saved as version 2")
        _shot(page, "editor-saved")

        # history: the diff of version 1, then roll back to it (saved as version 3)
        page.click("#template-history button[data-version='1']")
        expect(page.locator("#revision-diff pre")).to_contain_text("Spring edition")
        page.click("#rollback")
        expect(page.locator("#editor-status")).to_contain_text("saved as version 3")
        expect(page.frame_locator("#preview-desktop").locator("body")).to_contain_text("Spring edition")
        saved = _call(api_server, "GET", f"/admin/shops/{shop}/templates/post_purchase")
        assert saved["version"] == 3 and saved["mjml"] == first

        # a test send, found in the emulator's outbox
        before = len(_outbox())
        page.fill("#test-to", "olena.marketing@agency.example")
        page.click("#send-test")
        expect(page.locator("#test-result")).to_contain_text("Sent")
        (mail,) = _outbox()[before:]
        assert mail.recipients == ["olena.marketing@agency.example"] and mail.subject.startswith("[TEST] ")
        assert "Spring edition" in mail.part("text/html")

        # plan a special-day campaign with a live segment count, then pause it
        page.click("nav >> text=Campaigns")
        expect(page.locator("#segment-count")).to_contain_text(f"{customers} customers")
        page.fill("#campaign-name", "Coffee weekend")
        page.fill("#data-title-uk", "Кавові вихідні")
        page.fill("#data-starts_at", (datetime.now() + timedelta(days=2)).date().isoformat())
        page.fill("#data-ends_at", (datetime.now() + timedelta(days=3)).date().isoformat())
        # the plan before scheduling: who gets it, and when on each time zone's clock
        page.check("#campaign-local-time")
        page.fill("#campaign-holdout", "10")
        page.click("#check-plan")
        expect(page.locator("#campaign-plan")).to_contain_text("customers can get it")
        expect(page.locator("#campaign-plan")).to_contain_text(re.compile(r"Holdout 10\s?%"))
        expect(page.locator("#plan-zones tbody tr").first).to_be_visible()
        _shot(page, "campaign-plan", "workspace-campaign-plan")
        page.uncheck("#campaign-local-time")
        page.fill("#campaign-holdout", "0")
        page.select_option("#offer-codes", "per_customer")
        page.fill("#offer-discount", "10")
        page.click("#create-campaign")
        expect(page.locator("#campaign-message")).to_contain_text("Planned")
        row = page.locator("#campaign-list tr", has_text="Coffee weekend")
        expect(row).to_contain_text("scheduled")
        _shot(page, "campaign-planner", "workspace-campaigns")
        row.locator("button[data-action='pause']").click()
        expect(page.locator("#campaign-list tr", has_text="Coffee weekend")).to_contain_text("paused")

        # program settings: the impact before saving
        page.click("nav >> text=Program")
        page.fill("#point-value", "2")
        page.click("#preview-program")
        expect(page.locator("#program-impact")).to_contain_text(f"of {customers} customers change tier")
        _shot(page, "program")

        # customer lookup and an audited adjustment
        page.click("nav >> text=Customers")
        page.fill("#customer-email", "taras@example.com")
        page.click("#look-up")
        expect(page.locator("#customer-balance")).to_contain_text("points")
        balance = int(re.sub(r"\D", "", page.locator("#customer-balance").inner_text().split()[0]))
        page.fill("#adjust-points", "15")
        page.fill("#adjust-reason", "parcel arrived late")
        page.click("#adjust-form button[type=submit]")
        expect(page.locator("#customer-balance")).to_have_text(f"{balance + 15:,} points")  # the browser's locale: en-US
        expect(page.locator("#customer-timeline")).to_contain_text("“parcel arrived late” by key Olena")
        _shot(page, "customer")
        assert errors == []
