"""Tier history on the customer's timeline: each change of tier is written with the change that moved
it, in its one transaction: on the paid order's or the refund's entry (``detail["tier"]``), or as a
``tier`` entry of its own when the daily review drops a tier."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote


from chalicelib.services.lifecycle.daily import run_daily
from devstack.samples import sample_order_payload, sample_refund_payload, signed_request
from tests.support.clock import T0, FakeClock, app_clock  # noqa: F401 (app_clock: the ``clock`` fixture)
from tests.support.shops import ADMIN, register_shop

UTC = timezone.utc
EMAIL = "Olena+tiers@example.com"
FIRST_PAID = T0  # where the ``clock`` fixture starts: 14 March 2031, 09:00 UTC


def _deliver(client, shop, payload: dict, topic: str, now: datetime) -> None:
    headers, raw = signed_request("shopify", shop.secret, payload, topic=topic, now=now)
    response = client.http.post(f"/webhooks/shopify/{shop.shop_id}", headers=headers, body=raw)
    assert response.status_code == 200 and json.loads(response.body)["result"] == "applied", response.body


def _pays(client, shop, clock, order_id: str, amount: str) -> None:
    payload = sample_order_payload("shopify", order_id=order_id, email=EMAIL, created_at=clock.now,
                                   lines=[{"id": "1", "title": "Kettle", "quantity": 1, "unit_price": amount}],
                                   shipping="0.00")
    _deliver(client, shop, payload, "orders/paid", clock.now)


def _tier_events(client, shop) -> list[dict]:
    response = client.http.get(f"/admin/shops/{shop.shop_id}/customers/{quote(EMAIL)}/timeline", headers=ADMIN)
    assert response.status_code == 200, response.body
    return [e for e in json.loads(response.body)["events"] if e["type"] == "tier"]


def test_tier_changes_from_orders_refunds_and_the_daily_review_show_on_the_timeline(client, deps, clock):
    shop = register_shop(client, "tier-history", "shopify", program={"tier_period": "rolling_12_months"})
    _pays(client, shop, clock, "7001", "500.00")  # below Silver (2,000): no tier, no tier entry
    assert _tier_events(client, shop) == []

    clock.set(FIRST_PAID + timedelta(days=3))
    _pays(client, shop, clock, "7002", "2000.00")  # 2,500 in the window: Silver
    events = _tier_events(client, shop)
    assert [(e["tier_from"], e["tier_to"], e["at"][:10]) for e in events] == [(None, "Silver", "2031-03-17")]
    assert events[0]["cause"] == "order:7002"  # told on the order's own entry, not a separate one

    clock.set(FIRST_PAID + timedelta(days=5))
    refund = sample_refund_payload("shopify", refund_id="R-7002", order_id="7002", email=EMAIL,
                                   lines=[{"line_id": "1", "quantity": 0, "amount": "1000.00"}],
                                   order_lines=[{"id": "1", "title": "Kettle", "quantity": 1, "unit_price": "0"}],
                                   created_at=clock.now)
    _deliver(client, shop, refund, "refunds/create", clock.now)  # 1,500 left: Silver lost
    assert [(e["tier_from"], e["tier_to"]) for e in _tier_events(client, shop)] == [("Silver", None), (None, "Silver")]


def test_the_daily_review_records_the_drop_when_the_spend_leaves_the_window(client, deps, clock):
    shop = register_shop(client, "tier-drop", "shopify", program={"tier_period": "rolling_12_months"})
    _pays(client, shop, clock, "8001", "2500.00")
    anniversary = datetime(2032, 3, 14, 6, 0, tzinfo=UTC)
    clock.set(anniversary)
    run_daily(deps, anniversary, [shop.shop_id])
    events = _tier_events(client, shop)
    assert [(e["tier_from"], e["tier_to"], e["at"][:10]) for e in events] == [
        ("Silver", None, "2032-03-14"), (None, "Silver", "2031-03-14")]
