"""Receiving a shop's webhook: size, shop, signature, payload, then the ledger."""
from __future__ import annotations

from typing import Mapping

from chalicelib.errors import BadRequest, NotFound, Unauthorized
from chalicelib.logs import log_context
from chalicelib.platforms.body import refuse_oversized
from chalicelib.services.loyalty.ledger import apply_delivery
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.orders.refund_details import with_refund_details
from chalicelib.services.orders.shipments import apply_shipments
from chalicelib.services.orders.webhook_health import note_delivery, note_ignored, note_refused


# The platform's id of one delivery: what ties the shop's own logs to ours.
_DELIVERY_ID_HEADERS = ("x-shopify-webhook-id", "x-wc-webhook-delivery-id")


def receive_webhook(deps, platform: str, shop_id: str, headers: Mapping[str, str], raw_body: bytes,
                    content_type: str) -> dict:
    lowered = {str(name).lower(): value for name, value in (headers or {}).items()}
    delivery_id = next((str(lowered[name])[:128] for name in _DELIVERY_ID_HEADERS if lowered.get(name)), None)
    with log_context(shop=shop_id, correlation_id=delivery_id):
        return _receive_webhook(deps, platform, shop_id, headers, raw_body, content_type)


def _receive_webhook(deps, platform: str, shop_id: str, headers: Mapping[str, str], raw_body: bytes,
                     content_type: str) -> dict:
    from chalicelib.platforms import PLATFORMS, WebhookContext, parse_webhook

    refuse_oversized(raw_body)
    if platform not in PLATFORMS:
        raise NotFound(f"platform: no webhooks for {platform!r} (one of {', '.join(PLATFORMS)})", field="platform")
    shop = load_shop(deps, shop_id)
    if platform not in (shop.platform, "generic"):
        raise NotFound(f"platform: shop {shop_id!r} receives {shop.platform} and generic webhooks, not {platform}",
                       field="platform")
    now = deps.clock()
    context = WebhookContext(shop_id, shop.webhook_secrets_at(now), shop.currency, shop.currency_exponent,
                             storefront_url=shop.storefront_url)
    try:
        delivery = parse_webhook(platform, context, headers, raw_body, now, content_type)
    except (Unauthorized, BadRequest) as error:
        # The one write a refused delivery makes: its reason's counter (webhook health).
        note_refused(deps, shop_id, error, now)
        record_webhook_metric(deps, "WebhooksRefused", now)
        raise
    delivery = with_refund_details(deps, shop, delivery, raw_body)
    result = _apply(deps, shop, delivery, now)
    note_delivery(deps, shop_id, now)
    note_ignored(deps, shop_id, result, now)
    if result.get("result") == "applied":
        record_webhook_metric(deps, "OrdersApplied" if result.get("order_id") else "ChangesApplied", now)
    return result


def _apply(deps, shop, delivery, now) -> dict:
    """The ledger's effect of a delivery, the order follow-up its shipments owe and the flows
    it starts (each idempotent, so a retried delivery completes what a crash left undone)."""
    from chalicelib.domain.platform_events import CheckoutEvent, OrderEvent, ProductEvent, ShipmentEvent
    from chalicelib.services.flows import checkouts, triggers
    from chalicelib.services.products.catalog import apply_product

    event = delivery.event
    if isinstance(event, ProductEvent):
        return apply_product(deps, shop, event.product, now, event_id=delivery.event_id, topic=delivery.topic)
    if isinstance(event, CheckoutEvent):
        return checkouts.apply_checkout(deps, shop, event.checkout, now, event_id=delivery.event_id,
                                        topic=delivery.topic)
    if isinstance(event, ShipmentEvent):
        result = apply_shipments(deps, shop, [event.shipment], now, event_id=delivery.event_id, topic=delivery.topic)
        flows = triggers.after_shipment(deps, shop, event.shipment, result, now)
        return {**result, "flows_started": flows} if flows else result
    result = apply_delivery(deps, shop, delivery, now)
    if isinstance(event, OrderEvent) and event.order.shipments and result.get("result") != "ignored":
        # After the order's own commit, so the notices carry the points it earned; each parcel's
        # marker makes a resent order (WooCommerce resends it whole on every change) owe nothing.
        result["shipments"] = apply_shipments(deps, shop, event.order.shipments, now, topic=delivery.topic)
    if isinstance(event, OrderEvent):
        flows = triggers.after_order(deps, shop, event.order, result, now)
        if flows:
            result["flows_started"] = flows
    return result


def record_webhook_metric(deps, name: str, now) -> None:
    if deps.metrics is not None:
        deps.metrics.count(name, now)
