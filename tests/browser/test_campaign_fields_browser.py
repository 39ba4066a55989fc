"""The campaign planner shows a refusal where the refused field is typed (as the template words form
does), in Chromium against ``chalice local``: a send_at already past, an offer that ends before the
campaign sends (a nested field), a holdout above 50 % asked by "Check the plan" (pydantic's own
refusal): each input marked, the reason beside it, the mark gone once the marketer edits it; and
"Send now" sends at once whatever the planned time says."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.browser import chromium_page, needs_chromium, sign_in

pytestmark = needs_chromium

SHOP_ZONE = ZoneInfo("Europe/Kyiv")  # the tests' shops plan in Kyiv time (tests/support/shops.py)
INVALID = re.compile(r"\binvalid\b")


def _local(moment: datetime) -> str:
    return moment.astimezone(SHOP_ZONE).strftime("%Y-%m-%dT%H:%M")


def test_a_refused_field_is_marked_in_the_planner_with_its_reason(api_server, shop, demo_shop, chromium_browser):
    from playwright.sync_api import expect

    now = datetime.now(SHOP_ZONE)
    with chromium_page(chromium_browser, 1400, 1000, timeout_ms=20_000) as opened:
        page, errors = opened.page, opened.errors
        page.on("dialog", lambda dialog: dialog.accept())
        sign_in(page, api_server, demo_shop, shop)
        page.click("nav >> text=Campaigns")
        expect(page.locator("#segment-count")).to_contain_text("customers")
        page.fill("#campaign-name", "Yesterday by mistake")
        page.fill("#data-title-uk", "Кавові вихідні")
        send_at = page.locator("#campaign-send-at")
        problem_of = lambda selector: page.locator(f"{selector} + .field-problem")  # noqa: E731

        # 1. Yesterday's date: refused, and the send time says why.
        send_at.fill(_local(now - timedelta(days=1)))
        page.click("#create-campaign")
        expect(send_at).to_have_class(INVALID)
        expect(problem_of("#campaign-send-at")).to_contain_text("has already passed")
        expect(page.locator("#campaign-message")).to_contain_text("send_at")
        expect(page.locator("#campaign-list")).to_contain_text("No campaigns yet")
        send_at.fill(_local(now + timedelta(days=1)))  # editing it takes the mark away
        expect(send_at).not_to_have_class(INVALID)
        expect(problem_of("#campaign-send-at")).to_have_text("")

        # 2. A nested field: the offer ends before the campaign sends.
        page.select_option("#offer-codes", "per_customer")
        page.fill("#offer-discount", "10")
        page.fill("#offer-from", _local(now + timedelta(hours=1)))
        page.fill("#offer-until", _local(now + timedelta(hours=2)))
        page.click("#create-campaign")
        expect(page.locator("#offer-until")).to_have_class(INVALID)
        expect(problem_of("#offer-until")).to_contain_text("the offer ends before the campaign sends")
        expect(send_at).not_to_have_class(INVALID)
        page.select_option("#offer-codes", "")

        # 3. Pydantic's refusal, from "Check the plan": the holdout's field, marked where it is typed.
        page.fill("#campaign-holdout", "80")
        page.click("#check-plan")
        expect(page.locator("#campaign-holdout")).to_have_class(INVALID)
        expect(problem_of("#campaign-holdout")).to_contain_text("50")
        expect(page.locator("#offer-until")).not_to_have_class(INVALID)  # only the field refused now
        page.fill("#campaign-holdout", "0")

        # 4. "Send now" means now, whatever the planned time shows (it is yesterday again).
        send_at.fill(_local(now - timedelta(days=1)))
        page.click("#send-now")
        expect(page.locator("#campaign-message")).to_contain_text("goes out now")
        expect(send_at).not_to_have_class(INVALID)
        expect(page.locator("#campaign-list tbody tr")).to_have_count(1)
        assert errors == [], errors
