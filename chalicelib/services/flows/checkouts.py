"""Abandoned checkouts: a checkout the platform describes is kept (its recovery URL and items,
never the address: that stays on the customer's profile) and starts the shop's
checkout_abandoned flows; an order with its token, or any order by the customer, stops them."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.domain.platform_events import Checkout
from chalicelib.domain.shops.shop import Shop
from chalicelib.services.flows.runner import CHECKOUT_OPEN, start_flows
from chalicelib.services.loyalty.ledger import apply_customer_facts, with_retries
from chalicelib.store import keys
from chalicelib.store.loyalty.repository import Change

COMPLETED = "completed"


def apply_checkout(deps, shop: Shop, checkout: Checkout, now: datetime, *, event_id: Optional[str] = None,
                   topic: str = "") -> dict:
    if not checkout.customer.email:
        return {"result": "ignored", "reason": "the checkout has no e-mail yet", "token": checkout.token}
    if checkout.currency and checkout.currency != shop.currency:
        return {"result": "ignored", "reason": f"checkout currency {checkout.currency} is not the shop's"}
    # The profile the reminders go to (consent only as the checkout states it; no welcome mail).
    customer = apply_customer_facts(deps, shop, checkout.customer, now, notify=False)
    customer_id = customer.get("customer_id")
    if not customer_id:
        return {"result": "ignored", "reason": customer.get("reason", "no customer")}
    status = COMPLETED if checkout.completed else CHECKOUT_OPEN
    state = {"customer_id": customer_id, "recovery_url": checkout.recovery_url,
             "items": [{"title": line.title or "—", "quantity": line.quantity, "total_minor": line.total_minor}
                       for line in checkout.lines],
             "total_minor": checkout.total_minor, "updated_at": keys.iso(checkout.updated_at or now)}
    saved = with_retries(lambda: _save(deps, shop, checkout.token, state, status, now, event_id, topic))
    if saved is not None:
        return saved
    started = [] if checkout.completed else start_flows(
        deps, shop, "checkout_abandoned", customer_id, f"checkout:{checkout.token}", now,
        context={"checkout_token": checkout.token})
    return {"result": "applied", "token": checkout.token, "status": status, "customer_id": customer_id,
            "flows_started": started}


def complete_checkout(deps, shop: Shop, token: str, now: datetime) -> bool:
    """An order completed the checkout: its reminders stop (a no-op for unknown tokens)."""
    store = deps.repos.flows(shop.shop_id)
    found = store.load_checkout(token)
    if found is None or found[1] == COMPLETED:
        return False
    state, _, version = found
    deps.repos.loyalty(shop.shop_id).commit(Change(items=[store.checkout_write(token, state, COMPLETED, version)]), now)
    return True


def _save(deps, shop: Shop, token: str, state: dict, status: str, now: datetime, event_id, topic) -> Optional[dict]:
    store = deps.repos.flows(shop.shop_id)
    if event_id and deps.repos.loyalty(shop.shop_id).event_seen(event_id):
        return {"result": "duplicate", "token": token}
    found = store.load_checkout(token)
    version = 0
    if found is not None:
        _, stored_status, version = found
        if stored_status == COMPLETED:
            # An update after the order (Shopify sends some) never reopens a checkout.
            return {"result": "duplicate", "token": token, "status": COMPLETED}
    deps.repos.loyalty(shop.shop_id).commit(Change(event_id=event_id, event_topic=topic,
                                                   items=[store.checkout_write(token, state, status, version)]), now)
    return None
