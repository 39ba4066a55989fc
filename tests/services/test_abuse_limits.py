"""Abuse limits (issue 14, item 6): per key and per client address on the storefront API, code
checks, redemptions, workspace sign-in and the admin API; 429 with Retry-After; counters in
DynamoDB that every Lambda instance shares. The tests pass small limits in and hold the clock."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

from chalicelib import composition
import pytest

from chalicelib.domain.access import limits
from tests.support.shops import ADMIN, issue_workspace_key, register_shop

NOW = datetime(2031, 3, 14, 9, 30, 30, tzinfo=timezone.utc)  # 30 s into a 60-second window
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def clock(monkeypatch):
    moment = [NOW]
    composition.use_clock(lambda: moment[0])
    return moment


@pytest.fixture
def address(monkeypatch):
    """The client address API Gateway reports (requestContext.identity.sourceIp)."""
    def use(ip: str):
        monkeypatch.setattr("chalice.local.LambdaEventConverter.LOCAL_SOURCE_IP", ip)
    use("198.51.100.10")
    return use


def _limit(monkeypatch, action: str, scope: str, value: str):
    """The app's configuration with one limit changed (the same parser as LOYALTY_LIMIT_* variables)."""
    configured = dict(composition.dependencies().config.limits)
    configured[(action, scope)] = limits.parse_limit(value, limits.variable_name(action, scope))
    composition.use(config={"limits": configured})


def _lookup(client, shop, key, email="nobody@example.com", **headers):
    return client.http.get(f"/shops/{shop.shop_id}/customers/{email}", headers={"X-Api-Key": key, **headers})


def _refused(response, retry_after: int):
    body = json.loads(response.body)
    headers = {k.lower(): v for k, v in response.headers.items()}
    return (response.status_code == 429 and headers["retry-after"] == str(retry_after)
            and body["error"] == "too_many_requests" and body["retry_after"] == retry_after)


def _second_key(client, shop) -> str:
    response = client.http.post(f"/admin/shops/{shop.shop_id}/api-keys", headers=ADMIN, body=b"{}")
    return json.loads(response.body)["api_key"]


def test_lookups_per_key_then_429_with_retry_after_until_the_next_window(client, clock, address, shopify_shop,
                                                                       monkeypatch):
    _limit(monkeypatch, limits.LOOKUP, limits.PER_KEY, "3/60")
    for n in range(3):
        address(f"198.51.100.{20 + n}")  # other addresses do not help: the key is counted
        assert _lookup(client, shopify_shop, shopify_shop.api_key).status_code == 404
    refused = _lookup(client, shopify_shop, shopify_shop.api_key)
    assert _refused(refused, retry_after=30)
    history = client.http.get(f"/shops/{shopify_shop.shop_id}/customers/nobody@example.com/history",
                              headers={"X-Api-Key": shopify_shop.api_key})
    assert history.status_code == 429  # the history counts as a lookup
    assert _lookup(client, shopify_shop, _second_key(client, shopify_shop)).status_code == 404  # another key
    clock[0] = NOW + timedelta(seconds=30)  # the next window
    assert _lookup(client, shopify_shop, shopify_shop.api_key).status_code == 404


def test_code_checks_per_address_whatever_the_key_and_forwarded_for_say(client, clock, address, shopify_shop,
                                                                      monkeypatch):
    _limit(monkeypatch, limits.CODE_CHECK, limits.PER_ADDRESS, "2/60")
    keys = [shopify_shop.api_key, _second_key(client, shopify_shop), "lk_not-a-key"]

    def check(key, code, **headers):
        return client.http.get(f"/shops/{shopify_shop.shop_id}/codes/{code}", headers={"X-Api-Key": key, **headers})

    assert check(keys[0], "DAY-AAAAA").status_code == 404
    assert check(keys[1], "DAY-BBBBB").status_code == 404
    for n, key in enumerate(keys):  # a spoofed X-Forwarded-For is not the address
        assert _refused(check(key, f"DAY-CCCC{n}", **{"X-Forwarded-For": f"203.0.113.{n}"}), retry_after=30)
    address("198.51.100.99")
    assert check(keys[0], "DAY-DDDDD").status_code == 404


def test_guessing_storefront_keys_is_limited_per_address_before_any_key_is_read(client, clock, address,
                                                                                shopify_shop, monkeypatch):
    _limit(monkeypatch, limits.LOOKUP, limits.PER_ADDRESS, "3/60")
    for n in range(3):
        assert _lookup(client, shopify_shop, f"lk_guess-{n}").status_code == 401
    assert _refused(_lookup(client, shopify_shop, shopify_shop.api_key), retry_after=30)


def test_redemptions_per_key_across_addresses(client, clock, address, shopify_shop, monkeypatch):
    _limit(monkeypatch, limits.REDEEM, limits.PER_KEY, "2/60")
    url = f"/shops/{shopify_shop.shop_id}/customers/nobody@example.com/redemptions"
    for n in range(2):
        address(f"192.0.2.{n + 1}")
        response = client.http.post(url, headers={"X-Api-Key": shopify_shop.api_key, **JSON},
                                    body=json.dumps({"points": 100}).encode())
        assert response.status_code == 404  # nobody to redeem for, but counted
    address("192.0.2.77")
    for path in ("redemptions", "cashback-codes", "withdrawals"):  # money moves share the limit
        response = client.http.post(url.replace("redemptions", path), headers={"X-Api-Key": shopify_shop.api_key,
                                                                                 **JSON}, body=b"{}")
        assert _refused(response, retry_after=30), path


def _sign_in(client, key):
    return client.http.post("/admin/session", headers=JSON, body=json.dumps({"key": key}).encode())


def test_sign_in_attempts_per_address_even_the_right_key_waits(client, clock, address, shopify_shop,
                                                               monkeypatch):
    _limit(monkeypatch, limits.SIGN_IN, limits.PER_ADDRESS, "3/300")
    key = issue_workspace_key(client, shopify_shop.shop_id)
    for guess in ("wrong", f"lka.{shopify_shop.shop_id}.guess", "another guess"):
        assert _sign_in(client, guess).status_code == 401
    refused = _sign_in(client, key)  # refused before the key is looked at: a guess learns nothing
    assert _refused(refused, retry_after=270)  # 09:30:30 in the window 09:30:00-09:35:00
    assert "set-cookie" not in {k.lower() for k in refused.headers}
    address("198.51.100.200")
    assert _sign_in(client, key).status_code == 201


def test_sign_in_attempts_per_shop_across_addresses(client, clock, address, shopify_shop, monkeypatch):
    _limit(monkeypatch, limits.SIGN_IN, limits.PER_KEY, "2/300")
    other = register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    for n in range(2):
        address(f"203.0.113.{n + 1}")
        assert _sign_in(client, f"lka.{shopify_shop.shop_id}.guess-{n}").status_code == 401
    address("203.0.113.50")
    assert _sign_in(client, f"lka.{shopify_shop.shop_id}.guess-3").status_code == 429
    assert _sign_in(client, issue_workspace_key(client, other.shop_id)).status_code == 201  # another shop's keys
    for n in range(2):  # the admin token's attempts are counted together too
        assert _sign_in(client, f"token guess {n}").status_code == 401
    assert _sign_in(client, "test-admin-token").status_code == 429


def test_admin_requests_per_address(client, clock, address, shopify_shop, monkeypatch):
    _limit(monkeypatch, limits.ADMIN, limits.PER_ADDRESS, "2/60")
    address("198.51.100.40")  # not the address that registered the shop
    assert client.http.get("/admin/shops", headers={"Authorization": "Bearer guess"}).status_code == 401
    assert client.http.get("/admin/shops", headers=ADMIN).status_code == 200
    assert _refused(client.http.get("/admin/shops", headers=ADMIN), retry_after=30)


def test_a_limit_can_be_turned_off(client, clock, address, shopify_shop, monkeypatch):
    _limit(monkeypatch, limits.LOOKUP, limits.PER_KEY, "off")
    _limit(monkeypatch, limits.LOOKUP, limits.PER_ADDRESS, "1/60")
    assert _lookup(client, shopify_shop, shopify_shop.api_key).status_code == 404
    assert _lookup(client, shopify_shop, shopify_shop.api_key).status_code == 429
    _limit(monkeypatch, limits.LOOKUP, limits.PER_ADDRESS, "off")
    assert all(_lookup(client, shopify_shop, shopify_shop.api_key).status_code == 404 for _ in range(3))


def test_the_counter_holds_across_instances_racing_for_the_last_requests(deps, table):
    """Many Lambda instances at once (threads here, each with its own connection) share the
    DynamoDB counter: exactly ``count`` requests pass, however they interleave."""
    from chalicelib.errors import TooManyRequests
    from chalicelib.services.access import throttle

    configured = {(limits.CODE_CHECK, limits.PER_KEY): limits.Limit(7, 60)}
    passed, refused, start = [], [], threading.Barrier(20)

    def instance():
        start.wait()
        try:
            throttle.enforce(deps, limits.CODE_CHECK, limits.PER_KEY, "key-hash", now=NOW, configured=configured)
            passed.append(1)
        except TooManyRequests as error:
            refused.append(error.headers["Retry-After"])

    threads = [threading.Thread(target=instance) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == 7 and refused == ["30"] * 13
