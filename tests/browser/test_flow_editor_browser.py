"""The flow editor in headless Chromium (Debian's package) against ``chalice local`` on the test's
emulator: the shop's flows listed with trigger, switch and steps; the second-purchase flow's wait
edited and saved through the flow API, a bad wait refused with its step named, and the per-step
funnel from the runs two first orders started.

The screenshot lands in ``out/screenshots/``; with ``UPDATE_DOCS_SCREENSHOTS=1`` also in
``docs/screenshots/workspace-flow-editor.png`` (docs/workspace.md)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from devstack.samples import sample_order_payload, signed_request
from tests.support.browser import ADMIN_TOKEN, _call, _shot, chromium_page, needs_chromium, zerno_settings
from tests.support.shops import SECRET

pytestmark = needs_chromium


def _first_orders_waiting(api_server, deps, shop: str) -> None:
    """The second-purchase flow on, two first orders through the webhook, the schedule once:
    both runs take the 14-day wait."""
    from chalicelib.services.flows.runner import run_due_flows
    from chalicelib.services.shops.lookup import load_shop

    _call(api_server, "PUT", f"/admin/shops/{shop}", zerno_settings(shop))
    flow = _call(api_server, "GET", f"/admin/shops/{shop}/flow-definitions/second-purchase")
    _call(api_server, "PUT", f"/admin/shops/{shop}/flow-definitions/second-purchase", {**flow, "enabled": True})
    for number, email in enumerate(["olena@example.com", "taras+coffee@example.com"], start=1):
        headers, body = signed_request("shopify", SECRET, sample_order_payload(
            "shopify", order_id=str(7100 + number), email=email), topic="orders/paid")
        answer = _call(api_server, "POST", f"/webhooks/shopify/{shop}", raw=body, headers=dict(headers))
        assert answer["flows_started"] == ["second-purchase"], answer
    report = run_due_flows(deps, [load_shop(deps, shop)], datetime.now(timezone.utc) + timedelta(minutes=1))
    assert report["steps"] == 2, report


def test_marketer_edits_the_second_purchase_wait_and_reads_the_funnel(api_server, shop, deps, chromium_browser):
    from playwright.sync_api import expect

    _first_orders_waiting(api_server, deps, shop)
    with chromium_page(chromium_browser, 1400, 1000, timeout_ms=15_000) as opened:
        page, errors = opened.page, opened.errors
        page.goto(f"{api_server}/admin")
        page.fill("#signin-key", ADMIN_TOKEN)
        page.click("form.signin button[type=submit]")
        page.click("nav >> text=Flows")
        row = page.locator("#flow-list tr[data-flow='second-purchase']")
        expect(row.locator(".flow-on")).to_have_text("on")
        expect(row.locator(".flow-steps")).to_have_text("wait 14 d → if not ordered since start → send second_purchase + code")
        expect(page.locator("#flow-list tr[data-flow='review-request'] .flow-on")).to_have_text("off")

        row.locator("a").click()
        first = page.locator("#funnel-table tr[data-step='0']")
        expect(page.locator("#funnel-summary")).to_have_text("Started 2 · completed 0")
        expect(first.locator(".entered")).to_have_text("2")
        expect(first.locator(".waiting")).to_have_text("2")
        expect(page.locator("#funnel-table tr[data-step='2'] .entered")).to_have_text("0")

        # A wait of nothing is refused, and the error stands at its step.
        days = page.locator("fieldset[data-step='0'] .wait-days")
        days.fill("0")
        days.dispatch_event("change")
        page.click("#save-flow")
        expect(page.locator("[data-step-error='0']")).to_contain_text("steps.0.wait: a wait needs hours or days above 0")
        assert _call(api_server, "GET", f"/admin/shops/{shop}/flow-definitions/second-purchase")["steps"][0]["days"] == 14

        days.fill("10")
        days.dispatch_event("change")
        page.click("#save-flow")
        expect(page.locator("#flow-message")).to_contain_text("Saved (version 2)")
        expect(page.locator("[data-step-error='0']")).to_have_text("")
        saved = _call(api_server, "GET", f"/admin/shops/{shop}/flow-definitions/second-purchase")
        assert (saved["version"], saved["steps"][0]["days"]) == (2, 10)
        expect(page.locator("#funnel-table tr[data-step='0'] .waiting")).to_have_text("2")
        _shot(page, "flow-editor", "workspace-flow-editor")

        page.click("text=← All flows")
        expect(row.locator(".flow-steps")).to_contain_text("wait 10 d")
        assert errors == []
