"""The marketers' workspace end to end in headless Chromium (Debian's package) against the API
served by ``chalice local`` on the test's emulator: sign in, edit a template and watch the
preview change, save, roll back, send a test and find it in the outbox, plan and pause a
campaign, preview a program change, adjust a customer's points.

Screenshots land in ``out/screenshots/`` (test artifacts); with ``UPDATE_DOCS_SCREENSHOTS=1``
the editor, planner and dashboard shots are also written to ``docs/screenshots/``.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from devstack.samples import sample_order_payload, signed_request
from devstack.sent_mail import SentMail
from tests.support.shops import SECRET, shop_document

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "out" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ADMIN_TOKEN = "test-admin-token"
SHOP = "zerno-kyiv"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (make test installs it: "
                                       "apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(base: str, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path}: {error.code} {error.read()[:500]!r}") from None


@pytest.fixture
def api_server(table, moto_endpoint):
    """``chalice local`` in its own process group, on the test's table and emulator."""
    port = _free_port()
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_endpoint, "LOYALTY_SHOP_CACHE_SECONDS": "0",
           "LOYALTY_PUBLIC_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([str(Path(sys.executable).parent / "chalice"), "local", "--stage", "local",
                                "--host", "127.0.0.1", "--port", str(port), "--no-autoreload"],
                               cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/admin", timeout=2).read()
                break
            except (OSError, urllib.error.URLError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chalice local did not start")
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


def _four_weeks_of_orders(deps, monkeypatch) -> int:
    """Orders (and a few redemptions) on each of the last 16 days, through the real webhook and
    storefront services in this process with the clock set to that day, so the dashboard's
    counters were written the way production writes them. Returns the customers made."""
    from chalicelib import composition
    from chalicelib.errors import NotFound
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.services.loyalty import storefront
    from chalicelib.services.orders import webhooks

    real_clock = deps.clock
    rng = random.Random(7)
    today = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    customers = [f"customer{n:02d}@example.com" for n in range(14)]
    number = 0
    for days_ago in range(16, 0, -1):
        day = today - timedelta(days=days_ago)
        composition.use_clock(lambda day=day: day)
        for _ in range(rng.randint(1, 2)):
            number += 1
            email = rng.choice(customers[: 4 + (16 - days_ago) * 10 // 16])  # new customers join over time
            lines = [{"id": "1", "sku": "COFFEE-1KG", "title": "Coffee, 1 kg", "quantity": rng.randint(1, 3),
                      "unit_price": str(rng.choice([450, 780, 1250, 1900]))}]
            headers, body = signed_request("shopify", SECRET, sample_order_payload(
                "shopify", order_id=str(1000 + number), email=email, lines=lines, created_at=day),
                topic="orders/paid")
            assert webhooks.receive_webhook(deps, "shopify", SHOP, headers, body, "application/json")["result"] == "applied"
        if days_ago % 4 == 0:
            shop = load_shop(deps, SHOP)
            for email in customers[:4]:
                try:
                    balance = storefront.customer_view(deps, shop, email)["points_balance"]
                except NotFound:  # has not ordered yet
                    continue
                if balance >= 150:
                    storefront.redeem_points(deps, shop, email, {"points": max(100, balance // 2)})
                    break
    composition.use_clock(real_clock)
    return len(customers)


@pytest.fixture
def demo_shop(deps, api_server, monkeypatch):
    """A shop with four weeks of customers and orders, and a workspace key for its owner (the tour
    ends with a points adjustment, which is an owner's)."""
    _call(api_server, "PUT", f"/admin/shops/{SHOP}", shop_document(
        "shopify", name="Zerno", storefront_url="https://zerno.example", sender_email="hello@zerno.example"))
    _four_weeks_of_orders(deps, monkeypatch)
    for number, email in enumerate(["olena@example.com", "taras@example.com", "olena@example.com",
                                    "iryna@example.com"], start=1):
        headers, body = signed_request("shopify", SECRET, sample_order_payload(
            "shopify", order_id=str(5000 + number), email=email), topic="orders/paid")
        answer = _call(api_server, "POST", f"/webhooks/shopify/{SHOP}", raw=body,
                       headers={k: v for k, v in headers.items()})
        assert answer["result"] == "applied"
    key = _call(api_server, "POST", f"/admin/shops/{SHOP}/admin-keys", {"label": "Olena", "role": "owner"})["admin_key"]
    return key


def _outbox() -> list[SentMail]:
    """What the emulator's SES accepted, read from its backend in this process (the emulator runs
    here): the emulator's /moto-api/data.json dump grows slow with a session's worth of items."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import RawMessage, ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]
    return [SentMail(m.id, m.source, sorted(set(m.destinations)), m.raw_data)
            for m in backend.sent_messages if isinstance(m, RawMessage)]


def _shot(page, name: str, docs_name: str | None = None) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if docs_name and os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{docs_name}.png"), full_page=True)


def _replace_editor_text(page, selector: str, text: str) -> None:
    page.click(f"{selector} .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def test_marketer_edits_previews_saves_rolls_back_tests_and_plans(api_server, demo_shop, moto_endpoint):
    from playwright.sync_api import expect, sync_playwright

    first = ("<mj-section><mj-column>\n  <mj-text font-size=\"20px\">Thank you, {{ customer.first_name }}!"
             "</mj-text>\n  <mj-text>Spring edition: {{ points(points_earned) }}</mj-text>\n"
             "</mj-column></mj-section>")
    second = first.replace("Spring edition", "Summer edition")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1680, "height": 1000})
            page.set_default_timeout(15_000)
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{api_server}/admin")

            # sign in with the shop's key: an HttpOnly cookie, invisible to scripts
            page.fill("#signin-key", "wrong-key")
            page.click("form.signin button[type=submit]")
            expect(page.locator(".signin-message")).to_contain_text("unknown key")
            page.fill("#signin-key", demo_shop)
            page.click("form.signin button[type=submit]")
            expect(page.locator("#shop-name")).to_have_text(SHOP)
            assert page.evaluate("document.cookie") == ""
            cookies = {c["name"]: c for c in page.context.cookies()}
            assert cookies["lm_session"]["httpOnly"] and cookies["lm_session"]["secure"]

            # the dashboard, from the counters the orders wrote
            customers = _call(api_server, "POST", f"/admin/shops/{SHOP}/segments/preview",
                              {"rules": {"field": "orders_count", "op": ">=", "value": 1}})["count"]
            expect(page.locator("#dashboard .stat").first).to_contain_text(str(customers))
            expect(page.locator("#chart-points canvas")).to_have_count(1)
            _shot(page, "dashboard", "workspace-dashboard")

            # the sending domain: verified, its DNS records shown; a test recipient added and confirmed
            # by its owner through the link in the e-mail it got (the link's page, then Confirm)
            page.click("nav >> text=Sending")
            expect(page.locator("#sending-status")).to_contain_text("Mail goes out from hello@zerno.example")
            expect(page.locator(".domain[data-domain='zerno.example'] .badge")).to_have_text("verified")
            expect(page.locator(".domain[data-domain='zerno.example'] .records tbody tr")).to_have_count(6)
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
            assert _call(api_server, "GET", f"/admin/shops/{SHOP}")["flows_off"] == ["winback"]
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
            saved = _call(api_server, "GET", f"/admin/shops/{SHOP}/templates/post_purchase")
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
            # the plan before scheduling: who gets it, and when on each time zone's clock
            page.check("#campaign-local-time")
            page.fill("#campaign-holdout", "10")
            page.click("#check-plan")
            expect(page.locator("#campaign-plan")).to_contain_text("customers can get it")
            expect(page.locator("#campaign-plan")).to_contain_text("Holdout 10 %")
            expect(page.locator("#plan-zones tbody tr").first).to_be_visible()
            _shot(page, "campaign-plan", "workspace-campaign-plan")
            page.uncheck("#campaign-local-time")
            page.fill("#campaign-holdout", "0")
            page.select_option("#offer-codes", "per_customer")
            page.fill("#offer-discount", "10")
            page.fill("#campaign-name", "Coffee weekend")
            page.fill("#data-title-uk", "Кавові вихідні")
            page.fill("#data-starts_at", (datetime.now() + timedelta(days=2)).date().isoformat())
            page.fill("#data-ends_at", (datetime.now() + timedelta(days=3)).date().isoformat())
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
            balance = int(page.locator("#customer-balance").inner_text().split()[0])
            page.fill("#adjust-points", "15")
            page.fill("#adjust-reason", "parcel arrived late")
            page.click("#adjust-form button[type=submit]")
            expect(page.locator("#customer-balance")).to_have_text(f"{balance + 15} points")
            expect(page.locator("#customer-timeline")).to_contain_text("“parcel arrived late” by key Olena")
            _shot(page, "customer")
            assert errors == []
        finally:
            browser.close()
