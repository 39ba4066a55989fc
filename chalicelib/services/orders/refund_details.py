"""What a WooCommerce refund paid back for, asked of the shop's REST API.

The order webhook lists a refund as its id, reason and total: a total cannot tell goods from
shipping or fees, so on its own it counts as goods (docs/data-model.md, "WooCommerce money"). A shop that gave
REST API credentials (``platform_api``, the ones reconciliation reads orders with) is asked once
per refund the ledger does not know yet, ``GET /wc/v3/orders/{id}/refunds``: with each refund's
own lines a shipping-only refund takes nothing back. The question is best effort and short (one
try, 5 s): unreachable, refused or throttled, the refund counts by its total, as without
credentials, and a refund the ledger applied is never asked about again.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Optional

from chalicelib.domain.platform_events import Delivery, Order, OrderEvent
from chalicelib.errors import BadRequest
from chalicelib.platforms import order_api, woocommerce
from chalicelib.platforms.body import load_json_object
from chalicelib.platforms.fields import validate

_log = logging.getLogger("loyalty.refund_details")


def with_refund_details(deps, shop, delivery: Delivery, raw_body: bytes) -> Delivery:
    """The delivery's order with its new refunds' own lines, where the shop's API can say."""
    event = delivery.event
    if not isinstance(event, OrderEvent) or shop.platform != "woocommerce":
        return delivery
    order = itemized_if_new(deps, shop, event.order, lambda: load_json_object(raw_body))
    return delivery if order is event.order else replace(delivery, event=OrderEvent(order))


def itemized_if_new(deps, shop, order: Order, payload, fetch: Optional[order_api.Fetch] = None) -> Order:
    """``order`` again, parsed with its refunds' lines when it lists a refund the ledger has not
    applied and the shop has API credentials; ``payload`` gives the order's raw object."""
    if not order.refunds or not shop.platform_api_url:
        return order
    record = deps.repos.loyalty(shop.shop_id).load_order(order.order_id)
    if record is not None and all(record.knows_refund(refund.refund_id) for refund in order.refunds):
        return order
    credentials = shop.platform_api_credentials or {}
    try:
        refunds = order_api.woocommerce_refunds(shop.platform_api_url, credentials["consumer_key"],
                                                credentials["consumer_secret"], order.order_id,
                                                **({"fetch": fetch} if fetch else {}))
        raw = payload() if callable(payload) else payload
        parsed = validate(woocommerce.WooOrder, woocommerce.with_refund_lines(raw, refunds))
    except (order_api.PlatformApiError, KeyError, BadRequest) as error:
        _log.warning("shop %s order %s: refund details not read (%s); refunds count by their totals",
                     shop.shop_id, order.order_id, getattr(error, "message", error))
        return order
    return woocommerce.order_from_payload(parsed, shop.currency_exponent, shop.currency)
