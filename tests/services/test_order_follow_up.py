"""Order follow-up through the webhook route: a paid order, then its shipment's "on its way" and
"delivered" e-mails from the platforms' own payloads, each once, in the customer's language."""
from __future__ import annotations

import copy
import email
import json
import os
from datetime import timedelta
from email import policy
from pathlib import Path

import boto3

import pytest

from chalicelib.services.mail import mailer
from devstack.samples import sample_order_payload
from tests.support.clock import T0
from tests.support.mail import RecordingMessenger
from tests.support.queues import drain_queue
from tests.support.shops import register_shop
from tests.support.webhooks import run_together

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
EMAIL = "olena.koval+orders@example.com"
ORDER_ID = "5318008123"
PAID_AT = T0 - timedelta(days=3)  # the test's clock (T0), never today
ORDER_POINTS = 189


@pytest.fixture
def deps(fake_deps):
    return fake_deps


@pytest.fixture
def shopify_shop(memory_client):
    return register_shop(memory_client, "shopify-shop", "shopify")


@pytest.fixture
def woo_shop(memory_client):
    return register_shop(memory_client, "woo-shop", "woocommerce", sender_email="loyalty@woo-shop.example")


@pytest.fixture
def generic_shop(memory_client):
    return register_shop(memory_client, "generic-shop", "generic", sender_email="loyalty@generic-shop.example")


def fixture(name: str, **changes) -> dict:
    payload = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    payload.update({"order_id": int(ORDER_ID), "email": EMAIL, **changes})
    return payload


def answer(response) -> dict:
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def queued() -> list[dict]:
    return drain_queue(os.environ["LOYALTY_SEND_QUEUE"])


def paid_order(shop, locale: str = "de") -> None:
    order = sample_order_payload("shopify", order_id=ORDER_ID, email=EMAIL, locale=locale, created_at=PAID_AT)
    assert answer(shop.deliver(order, topic="orders/paid"))["points_earned"] == ORDER_POINTS
    # the sample order's spend reaches the first tier: its mail goes beside the order's own
    assert sorted(m["template"] for m in queued()) == ["post_purchase", "tier_upgrade"]


def rendered(deps, message: dict):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    messenger = RecordingMessenger()
    assert mailer.send_message(deps, message, messenger=messenger)["status"] == "sent"
    (sent,) = messenger.sent
    parsed = email.message_from_bytes(sent["raw"], policy=policy.default)
    return sent["recipient"], str(parsed["Subject"]), parsed.get_body(("plain",)).get_content(), \
        parsed.get_body(("html",)).get_content()


def test_fulfillment_sends_on_its_way_then_delivered_each_once_in_the_customers_language(deps, shopify_shop):
    paid_order(shopify_shop)
    created = fixture("shopify_fulfillments_create.json")
    first = answer(shopify_shop.deliver(created, topic="fulfillments/create", event_id="evt-f1"))
    assert first["result"] == "applied" and first["emails"] == ["shipped"]
    assert answer(shopify_shop.deliver(created, topic="fulfillments/create", event_id="evt-f1"))["result"] == "duplicate"
    # A carrier scan that changes nothing the customer cares about sends nothing.
    scan = fixture("shopify_fulfillments_create.json", shipment_status="in_transit")
    assert answer(shopify_shop.deliver(scan, topic="fulfillments/update", event_id="evt-f2"))["result"] == "duplicate"

    (shipped,) = queued()
    assert shipped["template"] == "shipment_update" and shipped["category"] == "transactional"
    assert shipped["data"]["points_earned"] == ORDER_POINTS
    recipient, subject, text, html = rendered(deps, shipped)
    assert recipient == EMAIL
    assert subject.startswith("Ihre Bestellung #") and subject.endswith(" ist unterwegs")
    assert "https://www.dhl.com/en/express/tracking.html?AWB=1234567890&amp;brand=DHL" in html
    assert "Sendung 1234567890 verfolgen: https://www.dhl.com/en/express/tracking.html?AWB=1234567890&brand=DHL" in text
    assert "+189 Punkte" in text and "DHL Express" in text

    delivered = fixture("shopify_fulfillments_update_delivered.json")
    assert answer(shopify_shop.deliver(delivered, topic="fulfillments/update", event_id="evt-f3"))["emails"] == \
        ["delivered"]
    assert answer(shopify_shop.deliver(delivered, topic="fulfillments/update", event_id="evt-f4"))["result"] == \
        "duplicate"
    (arrived,) = queued()
    _, subject, text, _ = rendered(deps, arrived)
    assert "ist angekommen" in subject and "zugestellt" in text


def test_racing_delivered_updates_send_one_mail(deps, shopify_shop):
    paid_order(shopify_shop, locale="uk")
    delivered = fixture("shopify_fulfillments_update_delivered.json")
    results = run_together([lambda n=n: answer(shopify_shop.deliver(delivered, topic="fulfillments/update",
                                                                     event_id=f"evt-race-{n}")) for n in range(4)])
    assert sorted(r["result"] for r in results) == ["applied", "duplicate", "duplicate", "duplicate"]
    (message,) = queued()
    assert message["data"]["stage"] == "delivered"  # the first news is the delivery: no late "on its way"
    _, subject, text, _ = rendered(deps, message)
    assert "доставлено" in subject


def test_refunded_points_are_not_promised(deps, shopify_shop):
    from devstack.samples import sample_refund_payload

    paid_order(shopify_shop, locale="en")
    answer(shopify_shop.deliver(sample_refund_payload("shopify", refund_id="r-1", order_id=ORDER_ID),
                                topic="refunds/create"))
    answer(shopify_shop.deliver(fixture("shopify_fulfillments_create.json"), topic="fulfillments/create"))
    (message,) = queued()
    assert message["data"]["points_earned"] == ORDER_POINTS - 22  # one of line 1's two units came back


def test_woocommerce_completed_order_with_tracking_meta_notifies_each_parcel_once(deps, woo_shop):
    payload = json.loads((FIXTURES / "woocommerce_order_completed_tracking.json").read_text(encoding="utf-8"))
    paid = (PAID_AT.replace(tzinfo=None)).isoformat()  # WooCommerce's *_gmt: naive UTC, near the test's clock
    payload.update({"date_created_gmt": paid, "date_paid_gmt": paid, "date_completed_gmt": paid, "date_modified_gmt": paid})
    first = answer(woo_shop.deliver(payload, topic="order.updated"))
    assert [s["emails"] for s in first["shipments"]["shipments"]] == [["shipped"], ["shipped"]]
    again = answer(woo_shop.deliver(payload, topic="order.updated"))  # WooCommerce resends the whole order
    assert again["shipments"]["result"] == "duplicate"
    messages = [m for m in queued() if m["template"] == "shipment_update"]
    assert sorted(m["data"]["carrier"] for m in messages) == ["Nova Poshta", "Ukrposhta"]
    assert all(m["data"]["points_earned"] > 0 for m in messages)
    _, _, text, _ = rendered(deps, messages[0])
    assert "https://" in text and "{{" not in text


def test_generic_shipment_for_an_unknown_order_uses_the_shipments_address(deps, generic_shop, memory_client):
    from devstack.samples import signed_request

    body = {"type": "shipment", "event_id": "s-9-1", "occurred_at": T0.isoformat(),
            "shipment": {"id": "s-9", "order_id": "never-seen", "status": "out_for_delivery",
                         "carrier": "DPD", "tracking_numbers": ["0123"], "email": EMAIL}}
    headers, raw = signed_request("generic", generic_shop.secret, body, now=T0)  # signed at the test's now
    result = answer(memory_client.http.post(f"/webhooks/generic/{generic_shop.shop_id}", headers=headers, body=raw))
    assert result["result"] == "applied" and result["emails"] == ["shipped"]
    (message,) = queued()
    assert message["data"]["points_earned"] == 0 and message["data"]["tracking"] == [{"number": "0123", "url": None}]
