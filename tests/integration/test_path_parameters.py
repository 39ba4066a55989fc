"""Path parameters arrive percent-encoded (API Gateway and ``chalice local`` pass them on as the
client sent them, chalice issue 511) and are decoded once, for every route: tried over real
HTTP against ``chalice local``, with the spellings storefront HTTP clients send: ``%40``,
plus addressing raw and as ``%2B``, an IDN domain as UTF-8 escapes and as punycode, a
Unicode local part; the storefront, admin, code, template, unsubscribe and link routes."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from chalicelib import composition

from devstack.samples import sample_order_payload
from tests.support.shops import ADMIN, register_shop
from tests.support.chalice_local import chalice_local

SHOP = "encoded-shop"
SIGNING_KEY = "path-test-link-signing-key-0123456789"
PLAIN = "bob@example.com"
PLUS = "bob+shop@example.com"
IDN = "kunde@bücher.example"
UNICODE_LOCAL = "юлія@приклад.укр"


def encoded(text: str) -> str:
    """Every reserved character escaped, as JavaScript's encodeURIComponent and most clients do."""
    return quote(text, safe="")


def _shop_with_orders(client, monkeypatch):
    monkeypatch.setenv("LOYALTY_LINK_SIGNING_KEY", SIGNING_KEY)  # also for chalice local's process
    composition.reset()  # read at the next cold start
    handle = register_shop(client, SHOP, "shopify")
    for number, email in enumerate([PLAIN, PLUS, IDN, UNICODE_LOCAL], start=1):
        response = handle.deliver(sample_order_payload("shopify", order_id=f"70{number}", email=email),
                                  topic="orders/paid")
        assert json.loads(response.body)["result"] == "applied", response.body
    return handle


@pytest.fixture
def shop(client, monkeypatch):
    return _shop_with_orders(client, monkeypatch)


@pytest.fixture
def api(shop, moto_endpoint):
    with chalice_local(moto_endpoint, LOYALTY_LINK_SIGNING_KEY=SIGNING_KEY) as served:
        yield served


@pytest.fixture(scope="module")
def read_only(_emulator):
    """The shop, its customers' ids and ``chalice local`` made once for the twelve spellings of an
    address, which only read (a table, a shop, four orders and a server process were 1.2-1.5 s a
    spelling); the tests that write get their own (``shop``, ``api``)."""
    from chalice.test import Client

    from app import app
    from chalicelib.services.shops.lookup import load_shop
    from tests.support.emulator_table import emulator_table

    with pytest.MonkeyPatch.context() as monkeypatch, emulator_table(_emulator, monkeypatch), \
            Client(app, stage_name="local") as client:
        handle = _shop_with_orders(client, monkeypatch)
        loaded = load_shop(composition.dependencies(), SHOP)
        ids = {email: loaded.customer_id_for(email) for email in (PLAIN, PLUS, IDN, UNICODE_LOCAL)}
        with chalice_local(_emulator, LOYALTY_LINK_SIGNING_KEY=SIGNING_KEY) as served:
            yield served, handle, ids


def storefront(api, shop, path: str, method: str = "GET", body: bytes | None = None):
    headers = {"X-Api-Key": shop.api_key}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return api.request(method, f"/shops/{SHOP}{path}", headers=headers, body=body)


def customer_id(deps, shop, email: str) -> str:
    from chalicelib.services.shops.lookup import load_shop

    return load_shop(deps, SHOP).customer_id_for(email)


@pytest.mark.parametrize("raw, email", [
    ("bob%40example.com", PLAIN),
    ("bob@example.com", PLAIN),
    ("BOB%40Example.COM", PLAIN),
    ("bob%2Bshop%40example.com", PLUS),
    ("bob+shop@example.com", PLUS),  # a literal + in a path is a plus sign, never a space
    ("bob+shop%40example.com", PLUS),
    (encoded(IDN), IDN),  # kunde%40b%C3%BCcher.example
    ("kunde%40xn--bcher-kva.example", IDN),  # the same domain as punycode
    ("kunde@XN--BCHER-KVA.EXAMPLE", IDN),
    (encoded("KUNDE@BÜCHER.EXAMPLE"), IDN),
    (encoded(UNICODE_LOCAL), UNICODE_LOCAL),
    (encoded("ЮЛІЯ@ПРИКЛАД.УКР"), UNICODE_LOCAL),
])
def test_customer_found_however_the_client_encodes_the_address(read_only, raw, email):
    api, shop, customer_ids = read_only
    answer = storefront(api, shop, f"/customers/{raw}")
    assert answer.status == 200, answer.body
    view = answer.json()
    assert view["customer_id"] == customer_ids[email] and view["orders_count"] == 1
    assert view["email"] == email.lower() if email != IDN else view["email"] == "kunde@bücher.example"


def test_every_customer_route_decodes_the_address(api, shop):
    raw = "bob%2Bshop%40example.com"
    history = storefront(api, shop, f"/customers/{raw}/history")
    assert history.status == 200 and history.json()["entries"][0]["cause"] == "order:702"
    admin = {**ADMIN}
    assert api.request("GET", f"/admin/shops/{SHOP}/customers/{raw}", headers=admin).json()["email"] == PLUS
    admin_history = api.request("GET", f"/admin/shops/{SHOP}/customers/{raw}/history", headers=admin)
    assert admin_history.status == 200 and {e["cause"] for e in admin_history.json()["entries"]} == {"order:702"}
    adjusted = api.request("POST", f"/admin/shops/{SHOP}/customers/{raw}/adjustments", headers=admin,
                           body=json.dumps({"points": 50, "reason": "goodwill", "request_id": "adjust-path-1"}).encode())
    assert adjusted.status == 201, adjusted.body
    redeemed = storefront(api, shop, f"/customers/{raw}/redemptions", "POST", json.dumps({"points": 100}).encode())
    assert redeemed.status == 201, redeemed.body
    code = redeemed.json()["code"]
    assert "-" in code
    checked = storefront(api, shop, "/codes/" + code.replace("-", "%2D"))
    assert checked.status == 200 and checked.json()["code"] == code
    reward = api.request("PUT", f"/admin/shops/{SHOP}/rewards/free-shipping", headers=admin, body=json.dumps(
        {"name": "Free shipping", "kind": "free_shipping", "points": 20}).encode())
    assert reward.status == 201, reward.body
    rewards = storefront(api, shop, f"/customers/{raw}/rewards")
    assert rewards.status == 200 and [r["reward_id"] for r in rewards.json()["rewards"]] == ["free-shipping"]
    chosen = storefront(api, shop, f"/customers/{raw}/rewards/free%2Dshipping/redemptions", "POST", b"")
    assert chosen.status == 201, chosen.body
    assert storefront(api, shop, f"/codes/{chosen.json()['code']}").json()["free_shipping"] is True


def test_decoded_once_and_refused_when_not_utf8(api, shop):
    twice = storefront(api, shop, "/customers/bob%2540example.com")  # %25 is "%": decoded once, no account
    assert twice.status == 404
    bad = storefront(api, shop, "/customers/%C3%28%40example.com")
    assert bad.status == 400 and bad.json()["field"] == "email"
    control = storefront(api, shop, "/customers/bob%0A%40example.com")
    assert control.status == 400 and control.json()["field"] == "email"
    other_route = api.request("GET", f"/admin/shops/{SHOP}/templates/%FF", headers=ADMIN)
    assert other_route.status == 400 and other_route.json()["field"] == "template"


def test_templates_and_shop_ids_decoded(api, shop):
    template = api.request("GET", f"/admin/shops/{SHOP}/templates/post%5Fpurchase", headers=ADMIN)
    assert template.status == 200, template.body
    assert api.request("GET", "/admin/shops/encoded%2Dshop", headers=ADMIN).json()["shop_id"] == SHOP


def test_signed_tokens_still_verify_when_encoded(api, shop):
    from chalicelib.mail import tokens

    deps = composition.dependencies()  # after the shop fixture's cold start: the key chalice local has too
    token = deps.tokens.make_token(SHOP, customer_id(deps, shop, PLUS))
    assert "." in token
    for raw in (token, token.replace(".", "%2E"), encoded(token).replace("-", "%2D").replace("_", "%5F")):
        page = api.request("GET", f"/u/{raw}")
        assert page.status == 200, (raw, page.body[:300])
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert api.request("GET", f"/u/{tampered.replace('.', '%2E')}").status == 404

    link = deps.tokens.make_tracked_link(tokens.TrackedLink(
        shop_id=SHOP, customer_id=customer_id(deps, shop, PLUS), send_key="post_purchase:702", subject="flow:post_purchase",
        url="https://shop.example/catalog?x=1", expires_at=datetime.now(timezone.utc) + timedelta(days=30)))
    followed = api.request("GET", "/r/" + link.replace(".", "%2E"))
    assert followed.status == 302 and followed.headers["location"].startswith("https://shop.example/catalog")


def test_the_in_process_client_sees_the_same_decoding(shop):
    for raw in ("bob%2Bshop%40example.com", "bob+shop@example.com", encoded(IDN), "kunde%40xn--bcher-kva.example"):
        response = shop.client.http.get(f"/shops/{SHOP}/customers/{raw}", headers={"X-Api-Key": shop.api_key})
        assert response.status_code == 200, (raw, response.body)
