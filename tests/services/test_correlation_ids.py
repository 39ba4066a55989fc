"""Every HTTP answer and every line its request logs carry one correlation id: the caller's
well-formed X-Correlation-Id, else API Gateway's request id."""
from __future__ import annotations

import json

import pytest

from tests.support.logs import json_log_lines
from tests.support.shops import register_shop

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def shop(client):
    return register_shop(client, "corr-shop", "shopify")


def _answered(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("route") is not None and "answered" in line["message"]]


def test_the_callers_id_is_in_the_answer_and_in_every_line_the_request_logs(client, shop):
    token = "not-a-real-token"
    with json_log_lines() as lines:
        response = client.http.post(f"/u/{token}", headers={**FORM, "X-Correlation-Id": "order-sync-7f3a:42"},
                                    body=b"List-Unsubscribe=One-Click")
    assert response.status_code == 404
    assert response.headers["X-Correlation-Id"] == "order-sync-7f3a:42"
    assert lines and all(line["correlation_id"] == "order-sync-7f3a:42" for line in lines)
    (access,) = _answered(lines)
    # The route's template, not its path: tokens in paths stay out of the logs.
    assert (access["http_method"], access["route"], access["status"]) == ("POST", "/u/{token}", 404)
    assert token not in json.dumps(lines)


@pytest.mark.parametrize("forged", [
    "abc\r\nX-Admin: yes",              # header or log-field injection
    "a" * 129,                           # too long
    "id with spaces",
    "\"quoted\"",
    "ünïcode-id",
    "",
])
def test_a_malformed_incoming_id_is_replaced_never_echoed(client, shop, forged):
    with json_log_lines() as lines:
        response = client.http.get("/u/x", headers={"X-Correlation-Id": forged} if forged else {})
    used = response.headers["X-Correlation-Id"]
    assert used and (not forged or forged not in used)
    assert len(used) == 32 and int(used, 16) >= 0  # a fresh random id: no gateway in the test client
    assert {line["correlation_id"] for line in lines} == {used}


def test_two_requests_get_two_ids(client, shop):
    first = client.http.get("/u/x").headers["X-Correlation-Id"]
    second = client.http.get("/u/x").headers["X-Correlation-Id"]
    assert first != second


def test_api_gateways_request_id_is_the_id_when_the_caller_sends_none(client, shop):
    from app import app

    def invoke(headers: dict) -> dict:
        event = {"resource": "/u/{token}", "path": "/u/x", "httpMethod": "GET", "headers": headers,
                 "multiValueHeaders": {k: [v] for k, v in headers.items()},
                 "queryStringParameters": None, "multiValueQueryStringParameters": None,
                 "pathParameters": {"token": "x"}, "stageVariables": None, "body": None, "isBase64Encoded": False,
                 "requestContext": {"resourcePath": "/u/{token}", "httpMethod": "GET", "path": "/api/u/x",
                                    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "stage": "api",
                                    "identity": {"sourceIp": "203.0.113.9"}}}
        return app(event, None)

    with json_log_lines() as lines:
        answer = invoke({"accept-language": "de"})
    assert answer["statusCode"] == 404
    assert answer["headers"]["X-Correlation-Id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert {line["correlation_id"] for line in lines} == {"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}
    assert invoke({"x-correlation-id": "shop-backend-1"})["headers"]["X-Correlation-Id"] == "shop-backend-1"
