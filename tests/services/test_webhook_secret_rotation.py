"""Webhook secret rotation through the admin API and real signed deliveries of each platform:
a replaced secret keeps verifying until its grace period ends or the shop retires it, and
saving the settings again (same secret, no secret, any other change) never drops it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from devstack.samples import sample_order_payload, signed_request
from tests.support.shops import ADMIN, SECRET, shop_document
from tests.support.clock import install_clock

NEW = "whsec-rotated-secret-0123456789"
NEWER = "whsec-rotated-again-0123456789"
TOPICS = {"shopify": "orders/paid", "woocommerce": "order.updated", "generic": None}


@pytest.fixture
def clock(monkeypatch, table):
    return install_clock()


class Shop:
    def __init__(self, client, clock, platform: str):
        self.client, self.clock, self.platform = client, clock, platform
        self.shop_id = f"rot-{platform}"
        self.orders = 0

    def put(self, **changes) -> dict:
        document = shop_document(self.platform, **changes)
        for name in [k for k, v in changes.items() if v is None]:
            del document[name]
        response = self.client.http.put(f"/admin/shops/{self.shop_id}", headers=ADMIN,
                                        body=json.dumps(document).encode())
        assert response.status_code in (200, 201), response.body
        return json.loads(response.body)

    def deliver(self, secret: str) -> int:
        """A new paid order signed with ``secret``, sent at the clock's time: its status code."""
        self.orders += 1
        payload = sample_order_payload(self.platform, order_id=f"o-{self.orders}", email="olena@example.com",
                                       created_at=self.clock.now - timedelta(minutes=5))
        headers, raw = signed_request(self.platform, secret, payload, topic=TOPICS[self.platform],
                                      now=self.clock.now)
        response = self.client.http.post(f"/webhooks/{self.platform}/{self.shop_id}", headers=headers, body=raw)
        if response.status_code == 200:
            assert json.loads(response.body)["result"] == "applied", response.body
        return response.status_code

    def view(self) -> dict:
        response = self.client.http.get(f"/admin/shops/{self.shop_id}", headers=ADMIN)
        assert response.status_code == 200
        assert SECRET not in response.body.decode() and NEW not in response.body.decode()
        return json.loads(response.body)


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "generic"])
def test_replaced_secret_survives_resaving_and_retires_after_the_grace_period(client, clock, platform):
    shop = Shop(client, clock, platform)
    shop.put()
    assert shop.deliver(SECRET) == 200

    clock.advance(hours=1)
    rotated_at = clock.now
    shop.put(webhook_secret=NEW)
    assert shop.deliver(SECRET) == 200 and shop.deliver(NEW) == 200

    clock.advance(hours=1)
    shop.put(webhook_secret=NEW)  # the same settings saved again
    assert shop.deliver(SECRET) == 200, "re-saving the same secret dropped the previous one"

    clock.advance(hours=1)
    shop.put(webhook_secret=None, name="Renamed shop")  # another change, secret not sent
    assert shop.deliver(SECRET) == 200
    assert shop.view()["previous_secrets"] == [
        {"retire_at": (rotated_at + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}]

    clock.now = rotated_at + timedelta(days=7) - timedelta(seconds=1)
    assert shop.deliver(SECRET) == 200
    clock.now = rotated_at + timedelta(days=7, seconds=1)
    assert shop.deliver(SECRET) == 401
    assert shop.deliver(NEW) == 200
    shop.put(webhook_secret=NEW)
    assert shop.view()["previous_secrets"] == []


def test_retiring_by_hand_stops_the_old_secret_at_once(client, clock):
    shop = Shop(client, clock, "shopify")
    shop.put()
    shop.put(webhook_secret=NEW)
    assert shop.deliver(SECRET) == 200
    response = client.http.post(f"/admin/shops/{shop.shop_id}/webhook-secrets/retire", headers=ADMIN)
    assert response.status_code == 200 and json.loads(response.body)["previous_secrets"] == []
    assert SECRET not in response.body.decode()
    assert shop.deliver(SECRET) == 401 and shop.deliver(NEW) == 200
    assert client.http.post("/admin/shops/nobody/webhook-secrets/retire", headers=ADMIN).status_code == 404
    assert client.http.post(f"/admin/shops/{shop.shop_id}/webhook-secrets/retire").status_code == 401


def test_two_rotations_within_the_grace_period_keep_both_old_secrets(client, clock):
    shop = Shop(client, clock, "woocommerce")
    shop.put()
    shop.put(webhook_secret=NEW)
    clock.advance(days=2)
    shop.put(webhook_secret=NEWER)
    assert [shop.deliver(s) for s in (SECRET, NEW, NEWER)] == [200, 200, 200]
    clock.advance(days=5, seconds=1)  # the first replaced secret's week is over, not the second's
    assert [shop.deliver(s) for s in (SECRET, NEW, NEWER)] == [401, 200, 200]


def test_rotating_back_to_a_previous_secret_and_a_shorter_grace_period(client, clock):
    shop = Shop(client, clock, "generic")
    shop.put(previous_secret_grace_days=1)
    shop.put(webhook_secret=NEW, previous_secret_grace_days=1)
    shop.put(webhook_secret=SECRET, previous_secret_grace_days=1)  # back to the first one
    assert len(shop.view()["previous_secrets"]) == 1  # only NEW is previous now
    clock.advance(hours=23)
    assert shop.deliver(NEW) == 200 and shop.deliver(SECRET) == 200
    clock.advance(hours=2)
    assert shop.deliver(NEW) == 401 and shop.deliver(SECRET) == 200


def test_no_grace_period_drops_the_replaced_secret_at_once(client, clock):
    shop = Shop(client, clock, "shopify")
    shop.put()
    shop.put(webhook_secret=NEW, previous_secret_grace_days=0)
    assert shop.deliver(SECRET) == 401 and shop.deliver(NEW) == 200


def test_a_previous_secret_stored_before_retire_times_is_kept_and_given_one(deps, client, clock):
    from chalicelib.store.shops.shops import ShopRepository, StoredShop

    shop = Shop(client, clock, "shopify")
    shop.put(webhook_secret=NEW)
    repo = ShopRepository()
    stored = repo.get(shop.shop_id)
    legacy = {"webhook_secret": NEW, "previous_webhook_secret": SECRET,
              "customer_key_salt": stored.secrets["customer_key_salt"]}
    repo.save(StoredShop(shop.shop_id, stored.config, legacy, stored.version))
    deps.caches.shops.clear()
    assert shop.deliver(SECRET) == 200
    clock.advance(days=30)
    assert shop.deliver(SECRET) == 200  # no retire time yet: kept until the next save
    saved_at = clock.now
    shop.put(webhook_secret=None, name="Saved again")
    assert shop.view()["previous_secrets"] == [
        {"retire_at": (saved_at + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}]
    clock.advance(days=7, seconds=1)
    assert shop.deliver(SECRET) == 401 and shop.deliver(NEW) == 200


def test_grace_period_is_validated(client, clock):
    response = client.http.put("/admin/shops/rot-bad", headers=ADMIN,
                               body=json.dumps(shop_document("shopify", previous_secret_grace_days=91)).encode())
    assert response.status_code == 400 and json.loads(response.body)["field"] == "previous_secret_grace_days"
