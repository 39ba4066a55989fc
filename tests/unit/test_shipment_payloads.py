"""Shipments from the platforms' own payloads: Shopify fulfillments, WooCommerce Shipment
Tracking's order meta and the generic ``shipment`` event, and which e-mail each state owes."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib.domain.orders.shipments import DELIVERED, ON_ITS_WAY, notices_owed
from chalicelib.domain.platform_events import OrderEvent, Shipment, ShipmentEvent
from chalicelib.errors import BadRequest
from chalicelib.platforms import WebhookContext, parse_webhook
from devstack.samples import signed_request

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
SECRET = "whsec_unit"
NOW = datetime(2025, 3, 6, 12, 0, tzinfo=timezone.utc)
CTX = WebhookContext("shop-1", (SECRET,), "UAH", 2)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def parse(platform: str, payload: dict, topic: str | None = None):
    headers, raw = signed_request(platform, SECRET, payload, topic=topic, now=NOW)
    return parse_webhook(platform, CTX, headers, raw, NOW)


def test_shopify_fulfillment_create_is_a_shipment_with_its_carrier_link():
    delivery = parse("shopify", fixture("shopify_fulfillments_create.json"), "fulfillments/create")
    assert isinstance(delivery.event, ShipmentEvent)
    shipment = delivery.event.shipment
    assert (shipment.shipment_id, shipment.order_id, shipment.status) == ("4655836758127", "5318008123", "in_transit")
    assert shipment.carrier == "DHL Express"
    assert shipment.tracking_numbers == ("1234567890",)
    assert shipment.tracking_urls == ("https://www.dhl.com/en/express/tracking.html?AWB=1234567890&brand=DHL",)
    assert shipment.email == "olena.koval@example.com"


def test_shopify_documented_sample_pending_with_tracking_is_on_its_way():
    shipment = parse("shopify", fixture("shopify_fulfillments_create_docs_sample.json"),
                     "fulfillments/create").event.shipment
    assert shipment.order_id == "820982911946154508"  # beyond 2**53: kept exact
    assert shipment.status == "in_transit" and notices_owed(shipment, set()) == [ON_ITS_WAY]


def test_shopify_fulfillment_update_delivered():
    shipment = parse("shopify", fixture("shopify_fulfillments_update_delivered.json"),
                     "fulfillments/update").event.shipment
    assert shipment.status == "delivered"
    assert notices_owed(shipment, {ON_ITS_WAY}) == [DELIVERED]


@pytest.mark.parametrize("status, owed", [("pending", []), ("open", []), ("cancelled", []), ("failure", []),
                                          ("success", [ON_ITS_WAY])])
def test_shopify_fulfillment_without_tracking_owes_by_its_status(status, owed):
    payload = fixture("shopify_fulfillments_create.json")
    for key in ("tracking_number", "tracking_url"):
        payload[key] = None
    payload["tracking_numbers"], payload["tracking_urls"] = [], []
    payload["status"] = status
    shipment = parse("shopify", payload, "fulfillments/create").event.shipment
    assert notices_owed(shipment, set()) == owed


def test_hostile_tracking_links_never_reach_a_mail():
    payload = fixture("shopify_fulfillments_create.json")
    payload["tracking_url"] = "javascript:alert(document.cookie)"
    payload["tracking_urls"] = ["javascript:alert(1)", "/relative/path", "https://track.example/ok?n=1"]
    shipment = parse("shopify", payload, "fulfillments/update").event.shipment
    assert shipment.tracking_urls == ("https://track.example/ok?n=1",)


def test_shopify_fulfillment_missing_order_id_is_refused_with_the_field():
    payload = fixture("shopify_fulfillments_create.json")
    del payload["order_id"]
    with pytest.raises(BadRequest) as refused:
        parse("shopify", payload, "fulfillments/create")
    assert refused.value.field == "order_id"


def test_woocommerce_shipment_tracking_meta_gives_each_parcel_its_link():
    delivery = parse("woocommerce", fixture("woocommerce_order_completed_tracking.json"), "order.updated")
    assert isinstance(delivery.event, OrderEvent)
    order = delivery.event.order
    assert order.paid
    custom, predefined = order.shipments
    assert custom.carrier == "Nova Poshta" and custom.shipment_id == "5e7c1d9a3b0f4a6c8d2e1f0a9b8c7d6e"
    assert custom.tracking_urls == ("https://novaposhta.ua/tracking/?cargo_number=20450123456789",)
    assert predefined.carrier == "Ukrposhta"
    assert predefined.tracking_urls == ("https://track.ukrposhta.ua/tracking_UA.html?barcode=0500123456789",)
    assert {s.status for s in order.shipments} == {"in_transit"}


def test_woocommerce_malformed_tracking_meta_keeps_the_order():
    payload = fixture("woocommerce_order_completed_tracking.json")
    tracking = next(m for m in payload["meta_data"] if m["key"] == "_wc_shipment_tracking_items")
    tracking["value"] = [{"tracking_number": ["not", "text"]}, "junk", {"tracking_number": "RR123456785UA"}]
    order = parse("woocommerce", payload, "order.updated").event.order
    assert order.paid and [s.tracking_numbers for s in order.shipments] == [("RR123456785UA",)]


def test_generic_shipment_event():
    body = {"type": "shipment", "event_id": "ship-1-delivered", "occurred_at": "2025-03-06T10:00:00Z",
            "shipment": {"id": "ship-1", "order_id": "A-1001", "status": "delivered", "carrier": "DPD",
                         "tracking_numbers": ["01234567890123"],
                         "tracking_urls": ["https://tracking.dpd.de/parcelstatus?query=01234567890123"]}}
    delivery = parse("generic", body)
    assert delivery.event_id == "ship-1-delivered"
    shipment = delivery.event.shipment
    assert (shipment.status, shipment.carrier) == ("delivered", "DPD")
    body["shipment"]["status"] = "teleported"
    with pytest.raises(BadRequest) as refused:
        parse("generic", body)
    assert refused.value.field == "shipment.status"


def test_never_twice_and_never_a_late_on_its_way():
    moving = Shipment("s1", "o1", status="out_for_delivery")
    delivered = Shipment("s1", "o1", status="delivered")
    assert notices_owed(moving, set()) == [ON_ITS_WAY]
    assert notices_owed(moving, {ON_ITS_WAY}) == []
    assert notices_owed(delivered, set()) == [DELIVERED]  # first news is the delivery: one mail
    assert notices_owed(delivered, {ON_ITS_WAY, DELIVERED}) == []
    assert notices_owed(moving, {DELIVERED}) == []  # a late scan after the delivery
    assert notices_owed(Shipment("s1", "o1", status="label_printed"), set()) == []
