"""The webhooks' function URL answers every delivery as the REST route does, with the same effect.

Each delivery goes, byte for byte, to two shops set up alike: through API Gateway's REST route
(Chalice's test client) to one, as the event Lambda builds for a function URL request
(devstack.function_url.url_event) to the other. The answers (status, body, content type, Allow) must
be equal, and so must what the ledger holds afterwards: the customer, their history and the
shop's webhook health.
"""
from __future__ import annotations

import base64
import json

import pytest

from devstack.function_url import response_bytes, url_event
from devstack.samples import DEFAULT_EMAIL, sample_order_payload, sample_refund_payload, signed_request
from tests.support.shops import ADMIN, register_shop

EMAIL = DEFAULT_EMAIL


class TwoEntries:
    """One shop behind each entry, alike but for its id: ``<platform>-rest`` and ``<platform>-url``."""

    def __init__(self, client, platform: str):
        self.client = client
        self.platform = platform
        self.rest = register_shop(client, f"{platform}-rest", platform, sender_email=f"loyalty@{platform}-rest.example")
        self.url = register_shop(client, f"{platform}-url", platform, sender_email=f"loyalty@{platform}-url.example")
        self.answers: list[tuple[dict, dict]] = []

    def send(self, headers: dict, body: bytes, *, method: str = "POST", platform: str | None = None,
             shop_path: str = "{shop}") -> tuple[dict, dict]:
        """The same request to both entries; both answers, each as {status, body, content type, allow}."""
        platform = platform or self.platform
        rest_path = f"/webhooks/{platform}/{shop_path.format(shop=self.rest.shop_id)}"
        url_path = f"/webhooks/{platform}/{shop_path.format(shop=self.url.shop_id)}"
        rest = self.client.http.request(method, rest_path, headers=headers, body=body)
        url = self.client.lambda_.invoke("webhook_url", url_event(method, url_path, headers, body)).payload
        answers = (_answer(rest.status_code, rest.headers, rest.body, self.rest.shop_id),
                   _answer(url["statusCode"], url["headers"], response_bytes(url), self.url.shop_id))
        self.answers.append(answers)
        return answers

    def deliver(self, payload: dict, *, topic: str | None = None, secret: str | None = None, **options):
        headers, body = signed_request(self.platform, secret or self.rest.secret, payload, topic=topic)
        return self.send(headers, body, **options)

    def effects(self, shop) -> dict:
        """What the deliveries left for ``shop``: its customer, their history and its webhook health."""
        status, customer = shop.customer(EMAIL)
        if isinstance(customer.get("referral"), dict):  # a code drawn at random for each customer
            customer["referral"] = {**customer["referral"], "code": "<code>", "share_url": "<code>"}
        history = shop.history(EMAIL)[1] if status == 200 else None
        health = json.loads(self.client.http.get(f"/admin/shops/{shop.shop_id}/webhook-health", headers=ADMIN).body)
        return _without_moments(_named_alike({"customer": [status, customer], "history": history, "health": health},
                                             shop.shop_id))


def _answer(status: int, headers, body: bytes, shop_id: str) -> dict:
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = body.decode("utf-8", "replace")
    return {"status": status, "body": _named_alike(parsed, shop_id), "content-type": lowered.get("content-type"),
            "allow": lowered.get("allow"), "has correlation id": bool(lowered.get("x-correlation-id"))}


def _named_alike(value, shop_id: str):
    """The shop's id as one placeholder, and its customers' ids (derived from the shop's id and the
    e-mail address) as another, so two shops' answers compare."""
    if isinstance(value, dict):
        return {key: "<customer>" if key == "customer_id" and isinstance(item, str) else _named_alike(item, shop_id)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_named_alike(item, shop_id) for item in value]
    return value.replace(shop_id, "<shop>") if isinstance(value, str) else value


_MOMENT_KEYS = {"at", "created_at", "updated_at", "earned_at", "last_delivery_at", "last_refused_at", "first_seen",
                "last_seen", "since"}


def _without_moments(value):
    """Times the two deliveries were made at (a few milliseconds apart) left out; what happened is compared."""
    if isinstance(value, dict):
        return {key: _without_moments(item) for key, item in value.items()
                if key not in _MOMENT_KEYS and not key.endswith("_at")}
    if isinstance(value, list):
        return [_without_moments(item) for item in value]
    return value


def _assert_same(entries: TwoEntries) -> None:
    for rest, url in entries.answers:
        assert url == rest
    assert entries.effects(entries.url) == entries.effects(entries.rest)


@pytest.fixture
def shopify(client) -> TwoEntries:
    return TwoEntries(client, "shopify")


def test_shopify_order_duplicate_refund_and_cancel_answer_and_count_alike(shopify):
    order = sample_order_payload("shopify", order_id="1001", email=EMAIL)
    rest, _ = shopify.deliver(order, topic="orders/paid")
    assert rest["status"] == 200 and rest["body"]["result"] == "applied" and rest["body"]["points_earned"] > 0
    again, _ = shopify.deliver(order, topic="orders/paid")
    assert again["body"]["result"] == "duplicate"
    shopify.deliver(sample_refund_payload("shopify", refund_id="r-1", order_id="1001"), topic="refunds/create")
    shopify.deliver(sample_order_payload("shopify", order_id="1002", email=EMAIL, paid=False), topic="orders/create")
    shopify.deliver(sample_order_payload("shopify", order_id="1002", email=EMAIL), topic="orders/paid")
    shopify.deliver(sample_order_payload("shopify", order_id="1002", email=EMAIL, cancelled=True),
                    topic="orders/cancelled")
    assert [rest["status"] for rest, _ in shopify.answers] == [200] * 6
    _assert_same(shopify)


def test_refused_shopify_deliveries_are_refused_alike_and_store_nothing(shopify):
    order = sample_order_payload("shopify", order_id="9", email=EMAIL)
    shopify.deliver(order, topic="orders/paid", secret="not-the-secret-at-all")  # bad signature
    headers, raw = signed_request("shopify", shopify.rest.secret, order, topic="orders/paid")
    shopify.send(headers, raw.replace(b'"2899.00"', b'"28990.00"'))  # tampered
    shopify.send({name: value for name, value in headers.items() if name != "X-Shopify-Hmac-Sha256"}, raw)
    shopify.send({name: value for name, value in headers.items() if name != "X-Shopify-Topic"}, raw)
    shopify.send({**headers, "Content-Type": "text/html"}, raw)  # a type the route does not take: 415
    shopify.send(headers, raw, method="GET")
    shopify.send(headers, raw, method="PUT")
    shopify.send(headers, raw, platform="woocommerce")  # not this shop's platform
    shopify.send(headers, raw, platform="magento")
    shopify.send(headers, raw, shop_path="no-such-shop")
    statuses = [rest["status"] for rest, _ in shopify.answers]
    assert statuses == [401, 401, 401, 400, 415, 405, 405, 404, 404, 404]
    assert shopify.answers[5][0]["allow"] == "POST"
    assert shopify.effects(shopify.rest)["customer"][0] == 404
    _assert_same(shopify)


def test_hostile_bodies_are_refused_alike(client):
    from chalicelib.platforms.body import MAX_BODY_BYTES
    from chalicelib.platforms.signing import sign_generic

    generic = TwoEntries(client, "generic")
    secret = generic.rest.secret

    def signed(raw: bytes) -> dict:
        return {"Content-Type": "application/json", "X-Loyalty-Signature": sign_generic(secret, raw, _now())}

    for raw in (b'{"type": "order", ',  # cut short
                b'{"type": "order", "type": "refund"}',  # a key twice
                b"[" * 5000 + b"]" * 5000,  # nested past any limit
                b'{"type": "order", "note": "\xff\xfe"}',  # not UTF-8: reaches the function as base64
                b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}',  # over the body limit
                b"",  # no body
                "{\"type\": \"order\", \"note\": \"\\ud800\"}".encode()):  # a lone surrogate escape
        generic.send(signed(raw), raw)
    statuses = [rest["status"] for rest, _ in generic.answers]
    assert statuses[:3] == [400, 400, 400] and statuses[3] == 400 and statuses[4] == 413
    assert all(status in (400, 401) for status in statuses[5:])
    _assert_same(generic)


def test_woocommerce_ping_order_and_refund_answer_and_count_alike(client):
    woo = TwoEntries(client, "woocommerce")
    # WooCommerce's ping when a hook is saved: a form body (which a function URL hands over as base64)
    woo.send({"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=17")
    woo.deliver(sample_order_payload("woocommerce", order_id="501", email=EMAIL), topic="order.created")
    woo.deliver(sample_refund_payload("woocommerce", refund_id="77", order_id="501", amount="450.00"),
                topic="order.updated")
    woo.deliver(sample_refund_payload("woocommerce", refund_id="77", order_id="501", amount="450.00"),
                topic="order.updated")
    assert [rest["status"] for rest, _ in woo.answers] == [200] * 4
    assert [rest["body"]["result"] for rest, _ in woo.answers[:3]] == ["ignored", "applied", "applied"]
    assert woo.answers[1][0]["body"]["points_earned"] > 0
    _assert_same(woo)


def test_generic_order_refund_and_bad_signature_answer_and_count_alike(client):
    generic = TwoEntries(client, "generic")
    generic.deliver(sample_order_payload("generic", order_id="g-1", email=EMAIL))
    generic.deliver(sample_refund_payload("generic", refund_id="gr-1", order_id="g-1",
                                          lines=[{"line_id": "2", "quantity": 1}]))
    generic.deliver(sample_order_payload("generic", order_id="g-2", email=EMAIL), secret="whsec-some-other-secret")
    assert [rest["status"] for rest, _ in generic.answers] == [200, 200, 401]
    _assert_same(generic)


def test_percent_encoded_shop_ids_are_decoded_as_api_gateway_hands_them_over(shopify):
    order = sample_order_payload("shopify", order_id="1003", email=EMAIL)
    # What an HTTP client that encodes every unreserved character sends: the shop id decoded, the order applied.
    shopify.deliver(order, topic="orders/paid", shop_path="{shop}".replace("-", "%2D"))
    shopify.deliver(order, topic="orders/paid", shop_path="%ff{shop}")  # not UTF-8 once decoded
    shopify.deliver(order, topic="orders/paid", shop_path="{shop}%0A")  # a control character
    shopify.deliver(order, topic="orders/paid", shop_path="{shop}%2Fx")  # one segment, with a slash in it
    statuses = [rest["status"] for rest, _ in shopify.answers]
    assert statuses == [200, 400, 400, 404]
    assert shopify.answers[1][0]["body"]["field"] == "shop_id"
    _assert_same(shopify)


def test_one_delivery_through_both_entries_counts_once(client, shopify):
    """A shop moving its hooks from the REST address to the function URL: a retry of a delivery
    made to the old address, arriving at the new one, is a duplicate."""
    headers, raw = signed_request("shopify", shopify.rest.secret,
                                  sample_order_payload("shopify", order_id="2001", email=EMAIL), topic="orders/paid")
    first = client.http.post(f"/webhooks/shopify/{shopify.rest.shop_id}", headers=headers, body=raw)
    retried = client.lambda_.invoke("webhook_url", url_event("POST", f"/webhooks/shopify/{shopify.rest.shop_id}",
                                                             headers, raw)).payload
    assert json.loads(first.body)["result"] == "applied"
    assert retried["statusCode"] == 200 and json.loads(response_bytes(retried))["result"] == "duplicate"


def test_the_function_url_answers_other_paths_404_and_any_event_without_crashing(client):
    register_shop(client, "shop-a", "shopify", sender_email="loyalty@shop-a.example")
    for path in ("/", "/webhooks/shopify", "/webhooks/shopify/shop-a/extra", "/webhooks//shop-a",
                 "/admin/shops/shop-a", "/api/webhooks/shopify/shop-a", "webhooks/shopify/shop-a"):
        answer = client.lambda_.invoke("webhook_url", url_event("POST", path, {"Content-Type": "application/json"},
                                                                b"{}")).payload
        assert answer["statusCode"] == 404 and json.loads(answer["body"])["field"] == "path", path
    for event in ({}, {"rawPath": 7, "requestContext": "x"}, {"rawPath": "/webhooks/shopify/shop-a", "headers": None,
                                                             "requestContext": {"http": {"method": "POST"}},
                                                             "body": "%%%", "isBase64Encoded": True}):
        answer = client.lambda_.invoke("webhook_url", event).payload
        assert answer["statusCode"] in (400, 404) and answer["headers"]["X-Correlation-Id"]


def test_the_answer_carries_the_callers_correlation_id(client):
    answer = client.lambda_.invoke("webhook_url", url_event(
        "POST", "/webhooks/shopify/shop-a", {"Content-Type": "application/json", "X-Correlation-Id": "order-sync-42"},
        b"{}", request_id="lambda-request-1")).payload
    assert answer["headers"]["X-Correlation-Id"] == "order-sync-42"
    answer = client.lambda_.invoke("webhook_url", url_event(
        "POST", "/webhooks/shopify/shop-a", {"Content-Type": "application/json"}, b"{}",
        request_id="lambda-request-1")).payload
    assert answer["headers"]["X-Correlation-Id"] == "lambda-request-1"  # Lambda's id of the URL's request


def _now() -> int:
    import time

    return int(time.time())  # the generic signature's timestamp must be fresh: the service reads the real clock


def test_url_event_hands_over_what_lambda_does():
    event = url_event("post", "/webhooks/a/b%2Dc", [("X-Thing", "1"), ("x-thing", "2"), ("Content-Type", "text/plain")],
                      b"hello")
    assert event["headers"] == {"x-thing": "1,2", "content-type": "text/plain"}
    assert event["rawPath"] == "/webhooks/a/b%2Dc" and event["requestContext"]["http"]["method"] == "POST"
    assert (event["body"], event["isBase64Encoded"]) == ("hello", False)
    form = url_event("POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1")
    assert form["isBase64Encoded"] is True and base64.b64decode(form["body"]) == b"a=1"


def test_a_stack_with_a_function_url_shows_it_as_the_shops_webhook_address(memory_store):
    from chalicelib.services.shops import shops
    from tests.support.fakes.deps import deps_on_fakes
    from tests.support.shops import shop_document

    plain = deps_on_fakes(memory_store)
    view, created = shops.put_shop(plain, "demo-shop", shop_document("woocommerce"))
    assert created and "webhook_url" not in view  # no function URL: the API's path, as before
    assert view["webhook_url_path"] == "/webhooks/woocommerce/demo-shop"
    with_url = deps_on_fakes(memory_store, environ={"LOYALTY_WEBHOOK_URL": "https://abc123.lambda-url.eu-central-1.on.aws/"})
    shown = shops.get_shop_view(with_url, "demo-shop")
    assert shown["webhook_url"] == "https://abc123.lambda-url.eu-central-1.on.aws/webhooks/woocommerce/demo-shop"
    assert shown["webhook_url_path"] == "/webhooks/woocommerce/demo-shop"  # the REST route still takes deliveries
