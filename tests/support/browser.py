"""The workspace's browser tests' shared parts: Debian's Chromium, the API served by ``chalice
local`` on the emulator (``api_server``), each test's own shop (``shop``), the demo shop with four
weeks of orders (``demo_shop``), the emulator's outbox and screenshots (tests/browser/conftest.py
makes the fixtures visible there).

One ``chalice local`` server and one Chromium serve a worker's whole session (``local_server``,
``chromium_browser``): starting them, and the server's first call of each route (its use cases are
imported on first use), cost every test again. Tests stay apart and order-free all the same: each
has its own table and queues (the server, in this process, serves the test's ``table``), its own
shop id and its own browser context (cookies, storage)."""
from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from devstack.samples import sample_order_payload, signed_request
from devstack.sent_mail import SentMail
from tests.support.shops import SECRET, shop_document
from tests.support.chalice_local import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "out" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ADMIN_TOKEN = "test-admin-token"
# A browser test module's mark: without Debian's Chromium it is skipped, saying how to get it.
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="Debian's chromium is not installed (make test installs it: "
                                           "apt-get install -y chromium)")
_SHOPS_MADE: set[str] = set()  # shop ids handed out in this session: never one twice


def _call(base: str, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path}: {error.code} {error.read()[:500]!r}") from None


@dataclass(frozen=True)
class LocalServer:
    base_url: str
    app: object  # app.app, the Chalice app it serves
    local_class: type  # the class chalice local gives the app: its current_request kept per thread

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """The app as chalice local runs it, for one test; as it was (other tests' worker) after."""
        own_class = self.app.__class__
        self.app.__class__ = self.local_class
        try:
            yield
        finally:
            self.app.__class__ = own_class


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """The server ``chalice local --stage local`` runs (chalice's ``LocalDevServer``: the API
    Gateway emulation, a thread per connection), built by chalice's own CLI code, listening in a
    thread of this worker for its whole session. In this process the app's dependencies are this
    process's: each test's ``table`` (its environment) is what it serves, and the app's use cases,
    imported on first use, are imported once per worker, not once per test."""
    from chalice.cli import create_local_server
    from chalice.cli.factory import CLIFactory

    import app as app_module

    app, app_class = app_module.app, app_module.app.__class__
    port = free_port()
    # chalice local's own steps: the stage's config, the routes validated, the app's
    # current_request made per thread (the server answers the browser's requests side by side)
    server = create_local_server(CLIFactory(project_dir=str(ROOT)), "127.0.0.1", port, "local")
    local_class, app.__class__ = app.__class__, app_class  # the local class only while a test runs
    thread = threading.Thread(target=server.server.serve_forever, name="chalice-local", daemon=True)
    thread.start()
    try:
        yield LocalServer(f"http://127.0.0.1:{port}", app, local_class)
    finally:
        server.shutdown()
        thread.join(10)
        server.server.server_close()


@pytest.fixture
def table(table, local_server, monkeypatch):
    """The test's own table and queues (tests/conftest.py), which the session's server serves
    during the test, as ``chalice local`` did when started with this environment: no shop cache
    (the test changes shops over HTTP and in this process alike), links to the server's address."""
    from chalicelib import composition

    monkeypatch.setenv("LOYALTY_SHOP_CACHE_SECONDS", "0")
    monkeypatch.setenv("LOYALTY_PUBLIC_URL", local_server.base_url)
    composition.reset()  # the next request (or ``deps``) is a cold start on this environment
    with local_server.serving():
        yield table


@pytest.fixture
def api_server(local_server, table) -> str:
    """The base URL of the session's ``chalice local`` server, serving this test's table."""
    return local_server.base_url


@pytest.fixture
def shop(request) -> str:
    """This test's own shop id: named after its module (the screenshots stay the same from run to
    run), never handed out twice in a session."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    base = "zerno-" + module.removeprefix("test_").removesuffix("_browser").replace("_", "-")
    shop_id, number = base, 1
    while shop_id in _SHOPS_MADE:
        number += 1
        shop_id = f"{base}-{number}"
    _SHOPS_MADE.add(shop_id)
    return shop_id


def _four_weeks_of_orders(deps, shop_id: str) -> int:
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
            assert webhooks.receive_webhook(deps, "shopify", shop_id, headers, body, "application/json")["result"] == "applied"
        if days_ago % 4 == 0:
            shop = load_shop(deps, shop_id)
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


def sender_domain(shop_id: str) -> str:
    """The shop's own sending domain (a domain sends for one shop only)."""
    return f"{shop_id}.example"


def zerno_settings(shop_id: str, **fields) -> dict:
    """The settings the tests give their shop: Zerno, a Shopify coffee roaster, sending from its own domain."""
    return shop_document("shopify", name="Zerno", storefront_url="https://zerno.example",
                         sender_email=f"hello@{sender_domain(shop_id)}", **fields)


@pytest.fixture
def demo_shop(deps, api_server, shop):
    """``shop`` with four weeks of customers and orders, and a workspace key for its owner (the tour
    ends with a points adjustment, which is an owner's)."""
    _call(api_server, "PUT", f"/admin/shops/{shop}", zerno_settings(shop))
    _four_weeks_of_orders(deps, shop)
    for number, email in enumerate(["olena@example.com", "taras@example.com", "olena@example.com",
                                    "iryna@example.com"], start=1):
        headers, body = signed_request("shopify", SECRET, sample_order_payload(
            "shopify", order_id=str(5000 + number), email=email), topic="orders/paid")
        answer = _call(api_server, "POST", f"/webhooks/shopify/{shop}", raw=body,
                       headers={k: v for k, v in headers.items()})
        assert answer["result"] == "applied"
    key = _call(api_server, "POST", f"/admin/shops/{shop}/admin-keys", {"label": "Olena", "role": "owner"})["admin_key"]
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


@dataclass
class BrowserPage:
    browser: object  # playwright's Browser: more pages (another person's) open from it
    page: object  # the marketer's page
    errors: list[str] = field(default_factory=list)  # the page's uncaught script errors, as they came


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[object]:
    """Debian's Chromium, headless (playwright's Browser), for the worker's whole session: each
    test's pages open in contexts of their own (``open_page``), so no cookie or storage is shared."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, width: int, height: int, *, timeout_ms: int = 15_000, **page_options) -> BrowserPage:
    """A page of ``width`` × ``height`` in a new context of ``browser`` whose actions and ``expect``
    assertions wait up to ``timeout_ms`` (``expect``'s own default, 5 s, failed the dashboard's
    first load on a busy machine) and whose uncaught script errors are collected (a test ends
    asserting there were none). Closing the page closes its context."""
    from playwright.sync_api import expect

    expect.set_options(timeout=timeout_ms)
    page = browser.new_page(viewport={"width": width, "height": height}, **page_options)
    page.set_default_timeout(timeout_ms)
    opened = BrowserPage(browser, page)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    return opened


@contextlib.contextmanager
def chromium_page(browser, width: int, height: int, *, timeout_ms: int = 15_000,
                  **page_options) -> Iterator[BrowserPage]:
    """One page (``open_page``) in ``browser``, closed with its context however the test ends."""
    opened = open_page(browser, width, height, timeout_ms=timeout_ms, **page_options)
    try:
        yield opened
    finally:
        opened.page.context.close()


def sign_in(page, api_server: str, key: str, shop_id: str) -> None:
    """The marketer opens the workspace and signs in with ``key``; returns once the shop's name
    shows (the session cookie is set and the first page loaded)."""
    from playwright.sync_api import expect

    page.goto(f"{api_server}/admin")
    page.fill("#signin-key", key)
    page.click("form.signin button[type=submit]")
    expect(page.locator("#shop-name")).to_have_text(shop_id)
