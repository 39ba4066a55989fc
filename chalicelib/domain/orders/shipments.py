"""Order follow-up: which e-mail a shipment owes its customer, and once only.

A shipment owes at most two e-mails over its life: "on its way" when it first leaves with a
carrier, "delivered" when the carrier says so. Platforms repeat themselves (Shopify sends
fulfillments/update for every carrier scan, WooCommerce resends the whole order with its
tracking meta on every change), so what was already said is remembered per shipment and
every later event is compared against it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from chalicelib.domain.loyalty.order_record import OrderRecord
from chalicelib.domain.mail.outbox import TRANSACTIONAL
from chalicelib.domain.platform_events import Shipment

ON_ITS_WAY, DELIVERED = "shipped", "delivered"
# Carrier states before the parcel is with the carrier: nothing is on its way yet.
_NOT_YET_SENT = frozenset({"label_printed"})


@dataclass
class ShipmentNotices:
    """What the customer was already told about one shipment (the stored marker)."""

    order_id: str
    shipment_id: str
    told: set[str] = field(default_factory=set)
    version: int = 0


def notices_owed(shipment: Shipment, told: set[str]) -> list[str]:
    """The e-mails this state of the shipment owes, given what was already said.

    A delivered parcel never gets a late "on its way" (the first news of it may well be the
    delivery, e.g. a fulfillment created for a hand-delivered order); a cancelled fulfillment,
    a failed one and one whose label is merely printed owe nothing yet.
    """
    if shipment.cancelled or shipment.status in _NOT_YET_SENT or shipment.status == "failure":
        return []
    if shipment.status == DELIVERED:
        return [] if DELIVERED in told else [DELIVERED]
    return [] if (ON_ITS_WAY in told or DELIVERED in told) else [ON_ITS_WAY]


def points_kept(record: Optional[OrderRecord]) -> int:
    """The points this order earned and still holds after its refunds (0 for an unknown order)."""
    if record is None:
        return 0
    return max(sum(line.points - line.reversed_so_far()[0] for line in record.lines), 0)


def tracking_links(shipment: Shipment) -> list[dict]:
    """One {number, url} per parcel number; numbers without a URL keep their number (the carrier's
    page is then the shop's to name), URLs without a number stand alone."""
    links = []
    count = max(len(shipment.tracking_numbers), len(shipment.tracking_urls))
    for index in range(count):
        number = shipment.tracking_numbers[index] if index < len(shipment.tracking_numbers) else ""
        url = shipment.tracking_urls[index] if index < len(shipment.tracking_urls) else None
        links.append({"number": number, "url": url})
    return links


def shipment_message(shop_id: str, customer_id: str, shipment: Shipment, notice: str, *, order_name: str,
                     points_earned: int, now) -> dict:
    """The transactional e-mail of one notice; its idempotency key is the shipment's and the
    notice's, so a republished outbox item or a racing duplicate is sent once."""
    return {
        "idempotency_key": f"shipment:{shipment.order_id}:{shipment.shipment_id}:{notice}",
        "shop_id": shop_id,
        "customer_id": customer_id,
        "template": "shipment_update",
        "category": TRANSACTIONAL,
        "campaign_id": None,
        "created_at": now.isoformat(),
        "data": {
            "stage": notice,
            "order_id": shipment.order_id,
            "order_name": order_name or f"#{shipment.order_id}",
            "carrier": shipment.carrier,
            "tracking": tracking_links(shipment),
            "points_earned": points_earned,
        },
    }
