"""Order follow-up: a shipment created or updated → the "on its way" or "delivered" e-mail,
decided against what its customer was already told and committed with the notice marker and
the webhook's event record in one conditional transaction (never twice for one shipment)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from chalicelib.domain.orders.shipments import notices_owed, points_kept, shipment_message
from chalicelib.domain.platform_events import Shipment
from chalicelib.domain.shops.shop import Shop
from chalicelib.mail import outbox
from chalicelib.services.loyalty.ledger import with_retries
from chalicelib.store.loyalty.repository import Change


def apply_shipments(deps, shop: Shop, shipments: Iterable[Shipment], now: datetime, *,
                    event_id: Optional[str] = None, topic: str = "") -> dict:
    """Each shipment's owed notices; the answer lists them per shipment."""
    shipments = list(shipments)
    # The event record marks a delivery of one shipment; several parcels of one order payload
    # (WooCommerce, which has no event ids) are told apart by their notice markers alone.
    event_id = event_id if len(shipments) == 1 else None
    answers = [with_retries(lambda shipment=shipment: _apply_one(deps, shop, shipment, now, event_id, topic))
               for shipment in shipments]
    if len(answers) == 1:
        return answers[0]
    return {"result": "applied" if any(a["result"] == "applied" for a in answers) else "duplicate",
            "shipments": answers}


def _apply_one(deps, shop: Shop, shipment: Shipment, now: datetime, event_id: Optional[str], topic: str) -> dict:
    loyalty = deps.repos.loyalty(shop.shop_id)
    notices_store = deps.repos.shipments(shop.shop_id)
    if event_id and loyalty.event_seen(event_id):
        return {"result": "duplicate", "shipment_id": shipment.shipment_id}
    record = loyalty.load_order(shipment.order_id)
    customer_id = record.customer_id if record and record.customer_id else (
        shop.customer_id_for(shipment.email) if shipment.email else None)
    answer = {"shipment_id": shipment.shipment_id, "order_id": shipment.order_id, "status": shipment.status}
    if customer_id is not None:
        answer["customer_id"] = customer_id
    if customer_id is None:
        return {"result": "ignored", "reason": "neither the order nor the shipment names a customer", **answer}
    notices = notices_store.load(shipment.order_id, shipment.shipment_id)
    owed = notices_owed(shipment, notices.told)
    if not owed:
        return {"result": "duplicate", **answer, "told": sorted(notices.told)}
    messages = [shipment_message(shop.shop_id, customer_id, shipment, notice, order_name=record.name if record else "",
                                 points_earned=points_kept(record), now=now) for notice in owed]
    notices.told.update(owed)
    # One delivery may carry several parcels (WooCommerce): the event record goes with the first.
    loyalty.commit(Change(event_id=event_id, event_topic=topic, outbox=messages,
                          items=[notices_store.write(notices)]), now)
    outbox.publish(deps, messages)
    return {"result": "applied", **answer, "emails": owed}
