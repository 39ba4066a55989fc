"""The catalog's use cases: a product webhook, the admin's list and one product's setting."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.domain.platform_events import ProductFacts
from chalicelib.domain.products.catalog import Product
from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import NotFound
from chalicelib.services.retries import retry_on_conflict
from chalicelib.store.loyalty.repository import Change

MAX_PAGE = 200


def apply_product(deps, shop: Shop, facts: ProductFacts, now: datetime, *, event_id: Optional[str] = None,
                  topic: str = "") -> dict:
    """The platform's facts of one product, committed with the delivery's event record; an older
    update arriving after a newer one (platforms retry out of order) changes nothing."""
    def attempt() -> dict:
        store = deps.repos.products(shop.shop_id)
        loyalty = deps.repos.loyalty(shop.shop_id)
        if event_id and loyalty.event_seen(event_id):
            return {"result": "duplicate", "product_id": facts.product_id}
        stored, version = store.platform_facts(facts.product_id)
        if (stored is not None and stored.updated_at and facts.updated_at and facts.updated_at < stored.updated_at
                and not facts.deleted):
            return {"result": "ignored", "reason": "an older update than the one kept", "product_id": facts.product_id}
        kept = facts
        if facts.deleted and stored is not None:
            kept = ProductFacts(facts.product_id, title=stored.title, price_minor=stored.price_minor, available=False,
                                deleted=True, updated_at=stored.updated_at)
        loyalty.commit(Change(event_id=event_id, event_topic=topic, items=[store.platform_write(kept, version)]), now)
        return {"result": "applied", "product_id": facts.product_id, "available": kept.available,
                "deleted": kept.deleted}

    return retry_on_conflict(attempt)


def product_view(product: Product) -> dict:
    ordered = product.ordered
    return {"product_id": product.product_id, "title": product.title, "url": product.url,
            "image_url": product.image_url, "price_minor": product.price_minor, "available": product.available,
            "consumable": product.consumable, "consumable_set_by_shop": product.consumable_set_by_shop,
            "source": product.source, "recommendable": product.recommendable,
            "orders": {"orders": ordered.orders, "buyers": ordered.buyers, "repeat_buyers": ordered.repeat_buyers,
                       "last_ordered_at": ordered.last_ordered_at.isoformat(),
                       "unit_price_minor": ordered.unit_price_minor,
                       "bought_with": [product_id for product_id, _ in ordered.bought_with]} if ordered else None}


def list_products(deps, shop_id: str, limit: int = 50, after: Optional[str] = None) -> dict:
    limit = max(1, min(int(limit), MAX_PAGE))
    products, next_after = deps.repos.products(shop_id).page(limit, after)
    return {"products": [product_view(product) for product in products], "next": next_after}


def get_product(deps, shop_id: str, product_id: str) -> dict:
    found = deps.repos.products(shop_id).products([product_id])
    if product_id not in found:
        raise NotFound(f"product: no product {product_id!r} in shop {shop_id!r}", field="product_id")
    return product_view(found[product_id])


def set_consumable(deps, shop_id: str, product_id: str, consumable: Optional[bool], now: datetime) -> dict:
    """The shop says whether a product is consumable (None: let the order history decide)."""
    store = deps.repos.products(shop_id)
    if product_id not in store.products([product_id]):
        raise NotFound(f"product: no product {product_id!r} in shop {shop_id!r}", field="product_id")
    store.save_setting(product_id, consumable, now)
    return product_view(store.products([product_id])[product_id])
