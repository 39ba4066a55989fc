"""Numbers people read (issue 17, item 7), page by page, in Chromium with a German and a Ukrainian
browser: money with the shop's currency and numbers in the browser's locale, times in the shop's time
zone (Europe/Kyiv), the earn rate as people say it, refusals in plain words with the field named;
no raw ISO timestamps, raw decimals or JSON error blobs anywhere. The dashboard draws the program
holdout's answer: the plain-words reason while the groups are small, the incremental revenue with its
interval once they are not.

Screenshots land in ``out/screenshots/``; with ``UPDATE_DOCS_SCREENSHOTS=1`` also in
``docs/screenshots/locale-*.png`` (linked from docs/workspace.md).
"""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone

from tests.support.browser import _call, _shot, chromium_page, needs_chromium, sign_in, zerno_settings

pytestmark = needs_chromium

RAW_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
RAW_DECIMAL = re.compile(r"(?<![\d.,])\d+\.\d{2}(?![\d.])")  # 1250.00 as the API writes it (not 14.03.2031)
JSON_BLOB = re.compile(r"[{\[]\s*\"\w+\"\s*:")
# What each locale writes: money in hryvnias, a time in Kyiv (medium date, short time).
LOCALES = {
    "de-DE": {"money": re.compile(r"\d,\d{2}\s?UAH"), "time": re.compile(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}"),
              "thousand": "1.000"},
    "uk-UA": {"money": re.compile(r"\d,\d{2}\s?грн"), "time": re.compile(r"\d{1,2} \S+ \d{4} р\., \d{2}:\d{2}"),
              "thousand": "1\u00a0000"},
}


def _readable(page, where: str = "main") -> str:
    text = page.locator(where).inner_text()
    for pattern, what in ((RAW_ISO, "a raw ISO time"), (RAW_DECIMAL, "a raw decimal"), (JSON_BLOB, "a JSON blob")):
        found = pattern.search(text)
        assert found is None, f"{what} on the page: …{text[max(found.start() - 60, 0):found.end() + 60]}…"
    return text


def _open(page, tab: str) -> None:
    page.click(f"nav >> text={tab}")


def _seed_program_holdout(deps, shop: str, holdout_percent: int) -> None:
    """Enough customers in both groups for the program holdout to give an interval: 600 customers who
    ordered in the last two weeks or not at all (the mailed buying a little more often)."""
    from chalicelib.domain.campaigns.program_holdout import in_program_holdout
    from chalicelib.domain.loyalty.account import Account
    from chalicelib.store.models import Item
    from tests.support.profiles import stored_profile

    rng = random.Random(17)
    today = datetime.now(timezone.utc)
    with Item.batch_write() as batch:
        for n in range(600):
            customer_id = f"seed_{n:04d}"
            held = in_program_holdout(shop, customer_id, holdout_percent)
            bought = rng.random() < (0.10 if held else 0.22)
            batch.save(stored_profile(shop, Account(
                shop, customer_id, created_at=today - timedelta(days=200), email=f"{customer_id}@example.com",
                marketing_consent=True,
                spend_by_day={(today - timedelta(days=rng.randint(1, 14))).date(): rng.randint(30_000, 180_000)}
                if bought else {})))


def _check_dashboard(page, locale: str, reason_expected: bool) -> None:
    from playwright.sync_api import expect

    _open(page, "Dashboard")
    expect(page.locator("#program-effect")).to_contain_text("Redemption rate")
    expect(page.locator("#program-holdout")).to_contain_text("What the program adds")
    if reason_expected:
        expect(page.locator("#program-note")).to_contain_text("too few customers to tell yet")
        assert "customers of the 100 needed" in page.locator("#program-note").inner_text()
    else:
        expect(page.locator("#program-increment")).to_contain_text("95 % interval")
        increment = page.locator("#program-increment").inner_text()
        assert len(LOCALES[locale]["money"].findall(increment)) == 3, increment  # estimate, low, high
    text = _readable(page)
    assert LOCALES[locale]["money"].search(page.locator("#program-effect").inner_text())
    groups = page.locator("#program-groups").inner_text()
    assert LOCALES[locale]["money"].search(groups), groups


def _check_campaigns_and_segments(page, locale: str) -> None:
    from playwright.sync_api import expect

    _open(page, "Campaigns")
    expect(page.locator("#segment-count")).to_contain_text("customers")
    page.fill("#campaign-name", "Kava day")
    page.fill("#data-title-uk", "Кавовий день")
    page.fill("#data-starts_at", (datetime.now() + timedelta(days=2)).date().isoformat())
    page.fill("#data-ends_at", (datetime.now() + timedelta(days=3)).date().isoformat())
    page.click("#check-plan")
    expect(page.locator("#plan-zones")).to_be_visible()
    plan = page.locator("#campaign-plan").inner_text()
    assert "Europe/Kyiv" in plan and LOCALES[locale]["time"].search(plan), plan
    _readable(page)


def _check_customer(page, locale: str) -> None:
    from playwright.sync_api import expect

    _open(page, "Customers")
    page.fill("#customer-email", "olena@example.com")
    page.click("#look-up")
    expect(page.locator("#customer-timeline tbody tr").first).to_be_visible()
    timeline = page.locator("#customer-timeline").inner_text()
    assert "When (Europe/Kyiv)" in timeline
    assert LOCALES[locale]["time"].search(timeline), timeline
    assert LOCALES[locale]["money"].search(timeline), timeline  # what the orders spent
    assert "paid order" in timeline  # the ledger's kinds in words
    assert LOCALES[locale]["money"].search(page.locator("#customer").inner_text())
    _readable(page)


def _check_templates(page, locale: str) -> None:
    from playwright.sync_api import expect

    _open(page, "Templates")
    expect(page.locator("#template-list tbody tr").first).to_be_visible()
    assert "Last sent (Europe/Kyiv)" in page.locator("#template-list").inner_text()
    _readable(page)
    _shot(page, f"locale-flows-{locale}", f"locale-flows-{locale}")
    page.click("#template-list >> text=post_purchase")
    expect(page.frame_locator("#preview-desktop").locator("body")).to_contain_text("#1042", timeout=20_000)
    _readable(page, "#template-history")


def _check_brand(page) -> None:
    from playwright.sync_api import expect

    _open(page, "Brand")
    colour = page.locator("#brand-primary_color")
    expect(colour).to_be_visible()
    colour.fill("red; x")
    expect(page.locator("#brand-error")).to_contain_text("brand.primary_color")
    said = page.locator("#brand-error").inner_text()
    assert not JSON_BLOB.search(said), said
    _readable(page)


def _check_program(page, locale: str) -> None:
    from playwright.sync_api import expect

    _open(page, "Program")
    expect(page.locator("#earn-rate-text")).to_contain_text("per")
    page.fill("#earn-rate", "0.001")
    expect(page.locator("#earn-rate-text")).to_have_text(f"1 point per {LOCALES[locale]['thousand']} UAH")
    page.fill("#earn-rate", "0.05")
    expect(page.locator("#earn-rate-text")).to_have_text("5 points per 100 UAH")
    assert LOCALES[locale]["money"].search(page.locator("#point-value-text").inner_text())
    page.fill("#earn-rate", "five")
    page.click("#preview-program")
    expect(page.locator("#program-impact .notice.error")).to_have_text("program.earn_rate: should be a number, such as 0.05")
    refusal = page.locator("#program-impact .notice.error").inner_text()
    assert not JSON_BLOB.search(refusal), refusal
    page.fill("#earn-rate", "0.05")
    page.click("#preview-program")
    expect(page.locator("#program-impact")).to_contain_text("Outstanding points")
    assert LOCALES[locale]["money"].search(page.locator("#program-impact").inner_text())
    _readable(page)


def test_every_page_reads_in_german_and_ukrainian(api_server, shop, demo_shop, deps, chromium_browser):
    from playwright.sync_api import expect

    _call(api_server, "PUT", f"/admin/shops/{shop}", zerno_settings(shop, program_holdout_percent=30))
    for locale in LOCALES:
        if locale == "uk-UA":
            _seed_program_holdout(deps, shop, 30)
        with chromium_page(chromium_browser, 1600, 1000, timeout_ms=30_000, locale=locale) as opened:
            page, errors = opened.page, opened.errors
            sign_in(page, api_server, demo_shop, shop)
            assert page.evaluate("navigator.language") == locale

            _check_dashboard(page, locale, reason_expected=locale == "de-DE")
            _shot(page, f"locale-dashboard-{locale}", f"locale-dashboard-{locale}")
            _check_campaigns_and_segments(page, locale)
            _shot(page, f"locale-campaigns-{locale}", f"locale-campaigns-{locale}")
            _check_customer(page, locale)
            _shot(page, f"locale-customer-{locale}", f"locale-customer-{locale}")
            _check_templates(page, locale)
            _check_brand(page)
            _check_program(page, locale)
            _shot(page, f"locale-program-{locale}", f"locale-program-{locale}")
            assert errors == []
