"""The templates list as a list of flows: each automated e-mail switched on or off per shop (a shop
that switches win-back off gets none from the daily job, and one queued before is skipped), and
when each last went out, from the send outcomes counted per flow."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

from chalicelib import composition
from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.timestamps import iso
from chalicelib.mail.contexts import sample_data
from chalicelib.services.lifecycle.occasions import run_occasions
from chalicelib.services.mail import send_consumer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import Item
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, shop_document

# 22:30 UTC on 24 Nov is already 25 Nov in Kyiv (the demo shops' time zone).
NOW = datetime(2026, 11, 24, 22, 30, tzinfo=timezone.utc)


def _switch(client, shop_id: str, template: str, body) -> tuple[int, dict]:
    response = client.http.put(f"/admin/shops/{shop_id}/flows/{template}/switch", headers=ADMIN,
                               body=json.dumps(body).encode())
    return response.status_code, json.loads(response.body)


def _flows(client, shop_id: str) -> dict:
    answer = json.loads(client.http.get(f"/admin/shops/{shop_id}/flows/stats", headers=ADMIN).body)
    return {flow["template"]: flow for flow in answer["flows"]}


def _lapsed_customer(shop_id: str, n: int, last_order_at: datetime) -> None:
    with Item.batch_write() as batch:
        batch.save(stored_profile(shop_id, Account(
            shop_id, f"c_{n:04d}", created_at=NOW - timedelta(days=400), email=f"c{n}+lapsed@example.com",
            marketing_consent=True, last_order_at=last_order_at, points_balance=300, orders_count=2)))


def _message(deps, shop_id: str, customer_id: str, template: str, at: datetime) -> dict:
    shop = load_shop(deps, shop_id)
    return {"idempotency_key": f"{template}:{customer_id}:{at.date()}", "shop_id": shop_id,
            "customer_id": customer_id, "template": template, "category": "marketing", "campaign_id": None,
            "created_at": at.isoformat(), "data": json.loads(json.dumps(
                sample_data(template, "en", shop), default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))}


def _deliver(deps, message: dict, at: datetime) -> dict:
    composition.use_clock(lambda: at)
    return send_consumer.deliver(deps, json.dumps(message))


def test_a_shop_that_switches_winback_off_gets_none_from_the_daily_job(deps, client, shopify_shop):
    import boto3

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop_id = shopify_shop.shop_id
    _lapsed_customer(shop_id, 1, NOW - timedelta(days=90))
    queued_before = _message(deps, shop_id, "c_0001", "winback", NOW - timedelta(hours=1))

    assert _flows(client, shop_id)["winback"]["on"] is True
    status, answer = _switch(client, shop_id, "winback", {"on": False})
    assert (status, answer) == (200, {"template": "winback", "on": False, "flows_off": ["winback"]})
    # a later save of the shop's settings that does not name the switches keeps them
    client.http.put(f"/admin/shops/{shop_id}", headers=ADMIN, body=json.dumps(shop_document("shopify")).encode())
    assert json.loads(client.http.get(f"/admin/shops/{shop_id}", headers=ADMIN).body)["flows_off"] == ["winback"]

    assert run_occasions(deps, load_shop(deps, shop_id), NOW).winbacks == 0
    assert drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) == []
    outcome = _deliver(deps, queued_before, NOW)  # queued before the switch: skipped, not sent
    assert (outcome["status"], outcome["reason"]) == ("skipped", "flow_off")
    flows = _flows(client, shop_id)
    assert flows["winback"]["on"] is False and flows["winback"]["last_sent_at"] is None
    assert flows["birthday"]["on"] is True and flows["special_day"]["switchable"] is False

    for day in (1, 2):
        assert run_occasions(deps, load_shop(deps, shop_id), NOW + timedelta(days=day)).winbacks == 0

    # switched on again: the days it was off are not gone through again (each off day was checked off)
    assert _switch(client, shop_id, "winback", {"on": True}) == (200, {"template": "winback", "on": True, "flows_off": []})
    _lapsed_customer(shop_id, 2, NOW + timedelta(days=3) - timedelta(days=90))  # lapses while it is on
    assert run_occasions(deps, load_shop(deps, shop_id), NOW + timedelta(days=3)).winbacks == 1
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert message["customer_id"] == "c_0002"


def test_each_flow_says_when_it_last_went_out(deps, client, shopify_shop):
    import boto3

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop_id = shopify_shop.shop_id
    _lapsed_customer(shop_id, 1, NOW - timedelta(days=90))
    _lapsed_customer(shop_id, 2, NOW - timedelta(days=90))
    first, later = NOW - timedelta(days=3), NOW - timedelta(hours=5)
    assert _deliver(deps, _message(deps, shop_id, "c_0002", "winback", later), later)["status"] == "sent"
    assert _deliver(deps, _message(deps, shop_id, "c_0001", "winback", first), first)["status"] == "sent"
    assert _deliver(deps, _message(deps, shop_id, "c_0001", "birthday", first), first)["status"] == "sent"

    flows = _flows(client, shop_id)
    # the latest of the sends, whichever was counted last
    assert flows["winback"]["last_sent_at"] == iso(later) and flows["winback"]["sent"] == 2
    assert flows["birthday"]["last_sent_at"] == iso(first)
    assert flows["post_purchase"]["last_sent_at"] is None


def test_a_switch_names_what_is_wrong(client, shopify_shop):
    shop_id = shopify_shop.shop_id
    status, answer = _switch(client, shop_id, "special_day", {"on": False})
    assert status == 400 and answer["field"] == "template" and "winback" in answer["message"]
    status, answer = _switch(client, shop_id, "winback", {"on": "no"})
    assert status == 400 and answer["field"] == "on"
    status, answer = _switch(client, shop_id, "winback", {"on": False, "also": 1})
    assert status == 400 and answer["field"] == "on"
    status, _ = _switch(client, "no-such-shop", "winback", {"on": False})
    assert status == 404
