"""The function URL adapter on its own: any event gets an answer, and only the route's requests reach
the view, with their path parameters decoded and their body as the bytes the client sent."""
from __future__ import annotations

import base64

from chalice import Response
from hypothesis import given, settings, strategies as st

from chalicelib.api.function_url import UrlRoute, serve, to_url_response
from devstack.function_url import url_event
from tests.support.examples import examples

ROUTE = UrlRoute("/webhooks/{platform}/{shop_id}", methods=("POST",),
                 content_types=("application/json", "application/x-www-form-urlencoded", "text/plain"))


class RecordingView:
    def __init__(self):
        self.calls = []

    def __call__(self, request, **parameters):
        self.calls.append((parameters, request.raw_body, dict(request.headers)))
        return Response({"ok": True}, status_code=200, headers={"Content-Type": "application/json"})


def test_the_routes_request_reaches_the_view_decoded():
    view = RecordingView()
    body = "{\"note\": \"ціна 450,00 ₴\"}".encode()
    answer = serve(url_event("POST", "/webhooks/shopify/kyiv%2Dshop", [("Content-Type", "application/json; charset=utf-8"),
                                                                        ("X-Shopify-Topic", "orders/paid")], body),
                   ROUTE, view)
    assert answer["statusCode"] == 200 and answer["headers"]["X-Correlation-Id"]
    ((parameters, raw_body, headers),) = view.calls
    assert parameters == {"platform": "shopify", "shop_id": "kyiv-shop"}
    assert raw_body == body and headers["x-shopify-topic"] == "orders/paid"


def test_a_base64_body_reaches_the_view_as_its_bytes():
    view = RecordingView()
    raw = b"webhook_id=17&\xff"
    event = url_event("POST", "/webhooks/woocommerce/shop", {"Content-Type": "application/x-www-form-urlencoded"}, raw)
    assert event["isBase64Encoded"] is True
    assert serve(event, ROUTE, view)["statusCode"] == 200
    assert view.calls[0][1] == raw


def test_what_the_route_refuses_never_reaches_the_view():
    view = RecordingView()
    cases = {
        ("POST", "/webhooks/shopify"): 404, ("POST", "/webhooks/shopify/a/b"): 404, ("POST", "/other/shopify/a"): 404,
        ("GET", "/webhooks/shopify/a"): 405, ("OPTIONS", "/webhooks/shopify/a"): 405,
    }
    for (method, path), status in cases.items():
        answer = serve(url_event(method, path, {"Content-Type": "application/json"}, b"{}"), ROUTE, view)
        assert answer["statusCode"] == status, (method, path)
    refused = serve(url_event("POST", "/webhooks/shopify/a", {"Content-Type": "text/html"}, b"<p>"), ROUTE, view)
    assert refused["statusCode"] == 415
    bad_path = serve(url_event("POST", "/webhooks/shopify/%C3%28", {"Content-Type": "application/json"}, b"{}"),
                     ROUTE, view)
    assert bad_path["statusCode"] == 400
    assert view.calls == []


def test_a_json_body_is_the_default_content_type_as_on_the_rest_route():
    view = RecordingView()
    assert serve(url_event("POST", "/webhooks/generic/a", {}, b"{}"), ROUTE, view)["statusCode"] == 200


def test_repeated_headers_are_joined_and_cookies_kept_apart():
    answer = to_url_response(Response("x", status_code=201, headers={
        "Content-Type": "text/plain", "Vary": ["Accept", "Origin"], "Set-Cookie": ["a=1", "b=2"]}))
    assert answer == {"statusCode": 201, "headers": {"Content-Type": "text/plain", "Vary": "Accept, Origin"},
                      "body": "x", "isBase64Encoded": False, "cookies": ["a=1", "b=2"]}
    binary = to_url_response(Response(b"\x00\x01", headers={"Content-Type": "application/octet-stream"}))
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\x00\x01"


_text = st.text(max_size=40)
_events = st.fixed_dictionaries({}, optional={
    "rawPath": st.one_of(_text, st.sampled_from(["/webhooks/shopify/a", "/webhooks//", "/webhooks/a/%ZZ"]), st.integers()),
    "headers": st.one_of(st.none(), st.dictionaries(_text, _text, max_size=4), st.lists(_text, max_size=2)),
    "body": st.one_of(st.none(), _text, st.integers()),
    "isBase64Encoded": st.one_of(st.booleans(), st.none(), _text),
    "requestContext": st.one_of(_text, st.fixed_dictionaries({}, optional={
        "requestId": st.one_of(_text, st.none(), st.integers()),
        "http": st.one_of(_text, st.fixed_dictionaries({}, optional={
            "method": st.one_of(st.sampled_from(["POST", "GET", "post"]), _text, st.none())}))})),
})


@settings(max_examples=examples(300), deadline=None)
@given(_events)
def test_any_event_gets_an_answer_and_only_the_routes_requests_reach_the_view(event):
    view = RecordingView()
    answer = serve(event, ROUTE, view)
    assert isinstance(answer["statusCode"], int) and answer["headers"]["X-Correlation-Id"]
    assert isinstance(answer["body"], str)
    if view.calls:
        assert answer["statusCode"] == 200
        assert str((event.get("requestContext") or {}).get("http", {}).get("method", "")).upper() == "POST"
