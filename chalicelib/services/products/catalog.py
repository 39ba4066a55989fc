"""The catalog's use cases: a product webhook, the admin's list and one product's setting."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.domain.platform_events import ProductFacts
from chalicelib.domain.products.catalog import Product
from chalicelib.domain.shops.shop import Shop
from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from chalicelib.errors import BadRequest, NotFound
from chalicelib.services.retries import retry_on_conflict
from chalicelib.services.shops.lookup import load_shop
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


def list_products(deps, shop_id: str, query: Optional[dict] = None) -> dict:
    load_shop(deps, shop_id)
    limit, after = page_arguments(query or {})
    products, next_after = deps.repos.products(shop_id).page(limit, after)
    return {"products": [product_view(product) for product in products], "next": next_after}


def get_product(deps, shop_id: str, product_id: str) -> dict:
    load_shop(deps, shop_id)
    found = deps.repos.products(shop_id).products([product_id])
    if product_id not in found:
        raise NotFound(f"product: no product {product_id!r} in shop {shop_id!r}", field="product_id")
    return product_view(found[product_id])


def set_consumable(deps, shop_id: str, product_id: str, consumable: Optional[bool], now: datetime) -> dict:
    """The shop says whether a product is consumable (None: let the order history decide)."""
    load_shop(deps, shop_id)
    store = deps.repos.products(shop_id)
    if product_id not in store.products([product_id]):
        raise NotFound(f"product: no product {product_id!r} in shop {shop_id!r}", field="product_id")
    store.save_setting(product_id, consumable, now)
    return product_view(store.products([product_id])[product_id])


class ProductSetting(BaseModel):
    """What the shop says of one of its products."""

    model_config = ConfigDict(extra="forbid")
    # True: recommended again right after it is bought (coffee, filters); False: never (a grinder);
    # null: the order history decides (consumable when customers buy it again).
    consumable: Optional[StrictBool] = None


def page_arguments(query: dict) -> tuple[int, Optional[str]]:
    """``limit`` (1–200, default 50) and ``after`` (a product id) of the list, or a 400 naming them."""
    raw = (query or {}).get("limit", "50")
    if not str(raw).isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadRequest(f"limit: a whole number from 1 to {MAX_PAGE}", field="limit")
    after = (query or {}).get("after") or None
    if after is not None and len(after) > 255:
        raise BadRequest("after: a product id of at most 255 characters", field="after")
    return int(raw), after


def put_setting(deps, shop_id: str, product_id: str, body: dict, now: datetime) -> dict:
    try:
        setting = ProductSetting.model_validate(body)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        path = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadRequest(f"{path}: {first['msg'][:1].lower()}{first['msg'][1:]}", field=path) from None
    return set_consumable(deps, shop_id, product_id, setting.consumable, now)
