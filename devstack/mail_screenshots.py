"""Screenshots of a special-day campaign mail with free shipping, as phones show it.

    python -m devstack.mail_screenshots [OUT_DIR]     (default docs/screenshots)

The mail is made the way a campaign makes it: the offer (10 % off, free shipping from a
minimum order, a per-customer code) fills the template data through the campaign service's
``offer_data``, then the sample shop's customer gets it rendered in Ukrainian (Kyiv, UAH) and
German (Berlin, EUR). Debian's Chromium (never a downloaded browser) shoots each at 375 px
wide, with ``prefers-color-scheme`` light and dark.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from chalicelib.domain.loyalty.codes import SPECIAL_DAY_PREFIX, new_code
from chalicelib.mail.contexts import SAMPLE_NOW, sample_account, sample_links, sample_shop
from chalicelib.mail.rendering import TemplateSet, build_context
from chalicelib.services.campaigns.campaigns import OfferSettings, offer_data

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TITLES = {"uk": {"uk": "Кавові вихідні"}, "de": {"de": "Kaffee-Wochenende"}}


def special_day_mail(locale: str):
    shop = sample_shop(locale)
    zone = ZoneInfo(shop.timezone)
    start = (SAMPLE_NOW + timedelta(days=11)).astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    offer = OfferSettings(codes="per_customer", discount_percent=Decimal("10"), free_shipping=True,
                          min_order=Decimal("25") if shop.currency == "EUR" else Decimal("500"),
                          valid_from=start, valid_until=start + timedelta(days=3) - timedelta(minutes=1))
    data = {"title": TITLES[locale], **offer_data(offer, "special_day", shop.currency_exponent, zone),
            "code": new_code(SPECIAL_DAY_PREFIX)}
    account = sample_account(locale, shop, "special_day")
    context = build_context("special_day", shop=shop, account=account, data=data, links=sample_links(locale),
                            now=SAMPLE_NOW)
    return TemplateSet.default().render("special_day", locale, context)


def shoot(out_dir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            for locale in ("uk", "de"):
                email = special_day_mail(locale)
                page_file = Path(scratch) / f"special_day.{locale}.html"
                page_file.write_text(email.html, encoding="utf-8")
                for scheme in ("light", "dark"):
                    page = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                            color_scheme=scheme)
                    page.goto(page_file.as_uri())
                    target = out_dir / f"special_day-free-shipping-{locale}-375-{scheme}.png"
                    page.screenshot(path=str(target), full_page=True)
                    page.close()
                    written.append(target)
                print(f"{locale}: {email.subject} | {email.preheader}")
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.mail_screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print("Debian's chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 1
    for path in shoot(args.out_dir):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
