"""A tracked link sends the customer on even when nothing can be recorded or read: the
destination is in the signed token (issue 14, item 10)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib import composition
import pytest
from botocore.exceptions import ClientError
from chalicelib.mail import tokens

NOW = datetime(2031, 3, 14, 9, 30, tzinfo=timezone.utc)  # a fixed instant: no test reads today's date
DESTINATION = "https://shop.example/collections/spring?utm_source=loyalty"


@pytest.fixture
def clock(table):
    composition.use_clock(lambda: NOW)


def _link(deps, shop_id: str, **changes) -> str:
    fields = dict(shop_id=shop_id, customer_id="c_0123456789abcdef", send_key="campaign:spring:c_0123456789abcdef",
                  subject="campaign:spring", url=DESTINATION, expires_at=NOW + timedelta(days=30))
    fields.update(changes)
    return deps.tokens.make_tracked_link(tokens.TrackedLink(**fields))


def _dynamodb_down(monkeypatch):
    """Every DynamoDB call fails from here on: the service is pointed at a table that does not exist."""
    monkeypatch.setenv("LOYALTY_TABLE", "loyalty-no-such-table")
    composition.reset()  # a new cold start on that table: also forgets the cached shop
    composition.use_clock(lambda: NOW)


def test_a_click_that_cannot_be_recorded_still_redirects(deps, client, shopify_shop, clock, monkeypatch):
    def failing_record(self, customer_id, click):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "UpdateItem")

    monkeypatch.setattr("chalicelib.store.campaigns.clicks.ClickStore.record", failing_record)
    response = client.http.get(f"/r/{_link(deps, shopify_shop.shop_id)}")
    assert response.status_code == 302 and response.headers["Location"] == DESTINATION


def test_with_the_store_down_plain_and_code_links_still_redirect(deps, client, shopify_shop, clock, monkeypatch):
    plain, with_code = _link(deps, shopify_shop.shop_id), _link(deps, shopify_shop.shop_id, reward={"code": "DAY-ABCDE"})
    _dynamodb_down(monkeypatch)
    for token in (plain, with_code):  # the code cannot be checked, so it is not applied
        response = client.http.get(f"/r/{token}")
        assert response.status_code == 302 and response.headers["Location"] == DESTINATION


def test_with_the_store_down_only_intact_current_web_links_redirect(deps, client, shopify_shop, clock, monkeypatch):
    good = _link(deps, shopify_shop.shop_id)
    expired = _link(deps, shopify_shop.shop_id, expires_at=NOW - timedelta(seconds=1))
    script = _link(deps, shopify_shop.shop_id, url="javascript:alert(1)")
    claim = _link(deps, shopify_shop.shop_id, reward={"points": 50, "reward_id": "campaign:spring"})
    payload, signature = good.split(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    _dynamodb_down(monkeypatch)
    for token in (expired, script, tampered):
        response = client.http.get(f"/r/{token}")
        assert response.status_code == 404 and "Location" not in response.headers, token
    response = client.http.get(f"/r/{claim}")  # a points claim needs the account: try again later
    assert response.status_code == 503 and "Location" not in response.headers
    assert client.http.get(f"/r/{good}").headers["Location"] == DESTINATION
