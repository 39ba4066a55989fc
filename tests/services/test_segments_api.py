"""Segment preview through the admin API, and the customer directory it reads."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from chalicelib import composition
import pytest

from chalicelib.domain.loyalty.account import Account
from devstack.samples import sample_order_payload, signed_request
from chalicelib.services.campaigns.segments import iter_segment, validate_segment
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store import keys
from chalicelib.store.models import Item
from chalicelib.store.loyalty.repository import LoyaltyRepository
from tests.support.shops import ADMIN, SECRET, register_shop
from tests.support.profiles import stored_profile

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
TIERS = ("Gold", "Silver", None)


def _customer(shop_id: str, n: int) -> Account:
    return Account(
        shop_id, f"c_{n:05d}", created_at=NOW - timedelta(days=400), email=f"c{n}@example.com",
        first_name=f"Name{n}", locale="uk-UA" if n % 2 else "en", marketing_consent=n % 5 != 0,
        tier_name=TIERS[n % 3], points_balance=n, orders_count=1 + n % 4, lifetime_spend_minor=100000 * (n % 7),
        last_order_at=NOW - timedelta(days=n), bought_categories={"Coffee"} if n % 4 == 0 else {"Tea"})


def _seed(shop_id: str, customers: int) -> list[Account]:
    LoyaltyRepository(shop_id)  # points the models at the test's table
    accounts = [_customer(shop_id, n) for n in range(customers)]
    with Item.batch_write() as batch:
        for account in accounts:
            batch.save(stored_profile(shop_id, account))
    return accounts


def _preview(client, shop_id: str, rules, headers=ADMIN):
    response = client.http.post(f"/admin/shops/{shop_id}/segments/preview", headers=headers,
                                body=json.dumps({"rules": rules}).encode())
    return response.status_code, json.loads(response.body)


@pytest.fixture
def fixed_now(monkeypatch):
    composition.use_clock(lambda: NOW)


def test_preview_counts_and_samples_from_the_shops_directory_only(client, fixed_now):
    register_shop(client, "seg-shop", "generic")
    register_shop(client, "other-shop", "generic", sender_email="loyalty@other-shop.example")
    _seed("seg-shop", 300)
    _seed("other-shop", 40)  # same customer ids, another shop: never read
    rules = {"all": [{"field": "tier", "op": "=", "value": "Gold"},
                     {"field": "days_since_last_order", "op": ">=", "value": 60}]}

    status, body = _preview(client, "seg-shop", rules)

    assert status == 200, body
    expected = {f"c_{n:05d}": n for n in range(300) if n % 3 == 0 and n >= 60}
    assert body["count"] == len(expected) == 80
    assert body["customers_read"] == 300
    assert len(body["sample"]) == 10
    for row in body["sample"]:
        n = expected[row["customer_id"]]
        assert row == {"customer_id": f"c_{n:05d}", "email": f"c{n}@example.com", "first_name": f"Name{n}",
                       "tier": "Gold", "points_balance": n}


def test_preview_of_a_nested_segment(client, fixed_now):
    register_shop(client, "seg-shop", "generic")
    _seed("seg-shop", 300)
    rules = {"all": [{"field": "bought_category", "op": "contains", "value": "coffee"},
                     {"field": "marketing_consent", "op": "=", "value": True},
                     {"any": [{"field": "tier", "op": "=", "value": "gold"},
                              {"not": {"field": "points_balance", "op": "<", "value": 200}}]}]}
    status, body = _preview(client, "seg-shop", rules)
    expected = [n for n in range(300) if n % 4 == 0 and n % 5 != 0 and (n % 3 == 0 or n >= 200)]
    assert status == 200 and body["count"] == len(expected) == 33
    status, body = _preview(client, "seg-shop", rules["all"][:2])  # a list is not a rule
    assert status == 400 and body["field"] == "rules"


def test_customer_pages_cover_every_customer_exactly_once(table):
    accounts = _seed("seg-shop", 300)
    repo = LoyaltyRepository("seg-shop")
    seen: list[str] = []
    shards_used = 0
    for shard in range(keys.CUSTOMER_SHARDS):
        cursor, pages = None, 0
        while True:
            page, cursor = repo.customer_page(shard, cursor, 7)
            pages += 1
            assert len(page) <= 7
            assert all(keys.customer_shard(a.customer_id) == shard and a.lots is None for a in page)
            seen += [a.customer_id for a in page]
            if cursor is None:
                break
            assert pages < 100
        shards_used += bool(pages > 1 or page)
    assert sorted(seen) == sorted(a.customer_id for a in accounts)
    assert len(seen) == len(set(seen))
    assert shards_used == keys.CUSTOMER_SHARDS
    with pytest.raises(ValueError):
        repo.customer_page(1, repo.customer_page(0, None, 1)[1], 1)  # a cursor of another shard


def test_iter_segment_resumes_from_a_checkpoint_without_gaps_or_repeats(deps, client):
    register_shop(client, "seg-shop", "generic")
    _seed("seg-shop", 300)
    shop = load_shop(deps, "seg-shop")
    segment = validate_segment({"rules": {"field": "tier", "op": "in", "value": ["Gold", "Silver"]}})
    everyone = [a.customer_id for a, _, _ in iter_segment(deps, shop, segment, NOW, page_size=9)]
    assert sorted(everyone) == [f"c_{n:05d}" for n in range(300) if n % 3 != 2]

    handled, checkpoint, previous = [], None, None
    for account, shard, cursor in iter_segment(deps, shop, segment, NOW, page_size=9):
        if previous is not None and (shard, cursor) != previous and len(handled) >= 40:
            checkpoint = previous  # every account of the pages before this one is handled
            break
        handled.append(account.customer_id)
        previous = (shard, cursor)
    assert checkpoint is not None
    rest = [a.customer_id for a, _, _ in iter_segment(deps, shop, segment, NOW, shard=checkpoint[0],
                                                       cursor=checkpoint[1], page_size=9)]
    assert handled + rest == everyone
    last = list(iter_segment(deps, shop, segment, NOW, page_size=500))[-1]
    assert last[1:] == (keys.CUSTOMER_SHARDS, None)


def _deliver_order(deps, shop_id: str, order_id: str, email: str, categories: list[str], **facts) -> dict:
    from chalicelib.services.orders.webhooks import receive_webhook

    lines = [{"id": "1", "sku": f"SKU-{order_id}", "title": "Item", "quantity": 1, "unit_price": "2500.00",
              "discount": "0.00", "categories": categories}]
    headers, body = signed_request("generic", SECRET, sample_order_payload(
        "generic", order_id=order_id, email=email, lines=lines, **facts))
    return receive_webhook(deps, "generic", shop_id, headers, body, headers["Content-Type"])


def test_bought_category_segment_after_real_orders(deps, client):
    register_shop(client, "generic-shop", "generic")
    _deliver_order(deps, "generic-shop", "1001", "olena@example.com", ["Кава", "Зерно"], first_name="Olena")
    _deliver_order(deps, "generic-shop", "1002", "taras@example.com", ["Кава"], marketing_consent=False)
    _deliver_order(deps, "generic-shop", "1003", "anna@example.com", ["Кава"], locale="en")
    _deliver_order(deps, "generic-shop", "1004", "ivan@example.com", ["Чай"])
    rules = {"all": [{"field": "bought_category", "op": "contains", "value": "кава"},
                     {"field": "marketing_consent", "op": "=", "value": True},
                     {"field": "locale", "op": "=", "value": "uk"}]}

    status, body = _preview(client, "generic-shop", rules)

    assert status == 200, body
    assert body["count"] == 1 and body["customers_read"] == 4
    assert body["sample"][0]["email"] == "olena@example.com"
    assert body["sample"][0]["first_name"] == "Olena"
    status, body = _preview(client, "generic-shop", {"field": "bought_sku", "op": "contains",
                                                     "value": ["SKU-1003", "SKU-1004"]})
    assert sorted(row["email"] for row in body["sample"]) == ["anna@example.com", "ivan@example.com"]
    status, body = _preview(client, "generic-shop", {"field": "rfm_score", "op": "=", "value": "514"})
    assert body["count"] == 4  # ordered today (5), once (1), 2,500 UAH: at least the 2,000 Silver base (4)


def test_preview_errors(client, fixed_now):
    register_shop(client, "seg-shop", "generic")
    status, body = _preview(client, "seg-shop", {"all": [{"field": "tier", "op": "=", "value": "Gold"},
                                                         {"field": "tier", "op": "<", "value": 3}]})
    assert status == 400 and body["field"] == "rules.all.1.op", body
    status, body = _preview(client, "seg-shop", {"any": [{"field": "shoe_size", "op": "=", "value": 3}]})
    assert status == 400 and body["field"] == "rules.any.0.field"
    response = client.http.post("/admin/shops/seg-shop/segments/preview", headers=ADMIN, body=b'{"rule": {}}')
    assert response.status_code == 400 and json.loads(response.body)["message"] == "rules: required"
    status, body = _preview(client, "seg-shop", {"field": "tier", "op": "exists"},
                            headers={"Content-Type": "application/json"})
    assert status == 401
    status, body = _preview(client, "no-such-shop", {"field": "tier", "op": "exists"})
    assert status == 404 and body["field"] == "shop_id"
