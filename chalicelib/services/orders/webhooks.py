"""Receiving a shop's webhook: size, shop, signature, payload, then the ledger."""
from __future__ import annotations

from typing import Mapping

from chalicelib.errors import BadRequest, NotFound, Unauthorized
from chalicelib.platforms.body import refuse_oversized
from chalicelib.services.loyalty.ledger import apply_delivery
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.orders.webhook_health import note_delivery, note_refused


def receive_webhook(deps, platform: str, shop_id: str, headers: Mapping[str, str], raw_body: bytes,
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
    context = WebhookContext(shop_id, shop.webhook_secrets_at(now), shop.currency, shop.currency_exponent)
    try:
        delivery = parse_webhook(platform, context, headers, raw_body, now, content_type)
    except (Unauthorized, BadRequest) as error:
        # The one write a refused delivery makes: its reason's counter (webhook health).
        note_refused(deps, shop_id, error, now)
        record_webhook_metric(deps, "WebhooksRefused", now)
        raise
    result = apply_delivery(deps, shop, delivery, now)
    note_delivery(deps, shop_id, now)
    if result.get("result") == "applied":
        record_webhook_metric(deps, "OrdersApplied" if result.get("order_id") else "ChangesApplied", now)
    return result


def record_webhook_metric(deps, name: str, now) -> None:
    if deps.metrics is not None:
        deps.metrics.count(name, now)
