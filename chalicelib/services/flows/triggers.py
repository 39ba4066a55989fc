"""What starts flows: a paid order (first order, any paid order, points earned, tier reached),
a delivered shipment. Starting is idempotent per occurrence, so it runs again on a retried
webhook (the order's own commit may have landed before a crash) without starting twice."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.platform_events import Order, Shipment
from chalicelib.domain.shops.shop import Shop
from chalicelib.services.flows.checkouts import complete_checkout
from chalicelib.services.flows.definitions import enabled_flows
from chalicelib.services.flows.runner import start_flows

_ORDER_TRIGGERS = ("paid_order", "first_order", "points_earned", "tier_reached")


def after_order(deps, shop: Shop, order: Order, result: dict, now: datetime) -> list[str]:
    if not order.paid or order.cancelled or result.get("result") == "ignored":
        return []
    if order.checkout_token:
        complete_checkout(deps, shop, order.checkout_token, now)
    if not any(enabled_flows(deps, shop.shop_id, trigger) for trigger in _ORDER_TRIGGERS):
        return []
    email = order.customer.email
    customer_id = shop.customer_id_for(email) if email else result.get("customer_id")
    if not customer_id:
        return []
    started = start_flows(deps, shop, "paid_order", customer_id, f"order:{order.order_id}", now,
                          context={"order_id": order.order_id})
    if enabled_flows(deps, shop.shop_id, "first_order"):
        account = deps.repos.loyalty(shop.shop_id).load_profile(customer_id)
        if account is not None and account.orders_count == 1:
            started += start_flows(deps, shop, "first_order", customer_id, "first-order", now,
                                   context={"order_id": order.order_id})
    if result.get("result") == "applied" and result.get("points_earned", 0) > 0:
        started += start_flows(deps, shop, "points_earned", customer_id, f"points:{order.order_id}", now,
                               points=int(result["points_earned"]))
    if result.get("tier"):
        started += start_flows(deps, shop, "tier_reached", customer_id, f"tier:{result['tier']}", now,
                               tier=result["tier"])
    return started


def after_shipment(deps, shop: Shop, shipment: Shipment, result: dict, now: datetime) -> list[str]:
    if shipment.status != "delivered" or result.get("result") == "ignored":
        return []
    customer_id = result.get("customer_id")
    if not customer_id:
        return []
    return start_flows(deps, shop, "shipment_delivered", customer_id, f"shipment:{shipment.shipment_id}", now,
                       context={"order_id": shipment.order_id, "shipment_id": shipment.shipment_id})
