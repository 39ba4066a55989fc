"""A shop's products as we know them: what the platform says of each (Shopify products/create|update,
WooCommerce product.created|updated) merged with what its orders show (the title and unit price
customers paid, how many bought it, how many bought it again).

A product the platform never described is still in the catalog from its order lines, but it has no
address to link to: it is listed, never recommended.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from chalicelib.domain.platform_events import ProductFacts


@dataclass(frozen=True)
class OrderedProduct:
    """What the shop's own orders say of a product (the recommendations job keeps it)."""

    product_id: str
    title: str
    unit_price_minor: Optional[int]  # what the last order paid for one unit, after discounts
    last_ordered_at: datetime
    orders: int  # orders with it
    buyers: int  # distinct customers
    repeat_buyers: int  # customers who bought it in two orders or more
    # The products bought with it, best first: (product id, score) (domain/products/recommendations).
    bought_with: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Product:
    product_id: str
    title: str
    url: Optional[str]
    image_url: Optional[str]
    price_minor: Optional[int]
    available: bool
    consumable: bool
    # Where the facts come from: "platform" (its product webhooks) or "orders" (order lines only).
    source: str
    ordered: Optional[OrderedProduct] = None
    consumable_set_by_shop: Optional[bool] = None

    @property
    def recommendable(self) -> bool:
        """In stock, with a title and a link to show."""
        return self.available and bool(self.title) and bool(self.url)


def merge(product_id: str, platform: Optional[ProductFacts], ordered: Optional[OrderedProduct],
          consumable_set_by_shop: Optional[bool] = None) -> Product:
    """The platform's facts win over the order lines'. A product is consumable when the shop says
    so, else when some customer bought it again (the order history shows it is reordered)."""
    auto_consumable = bool(ordered and ordered.repeat_buyers > 0)
    consumable = auto_consumable if consumable_set_by_shop is None else consumable_set_by_shop
    if platform is not None and not platform.deleted:
        return Product(product_id=product_id, title=platform.title or (ordered.title if ordered else ""),
                       url=platform.url, image_url=platform.image_url,
                       price_minor=platform.price_minor if platform.price_minor is not None
                       else (ordered.unit_price_minor if ordered else None),
                       available=platform.available, consumable=consumable, source="platform", ordered=ordered,
                       consumable_set_by_shop=consumable_set_by_shop)
    deleted = platform is not None and platform.deleted
    return Product(product_id=product_id, title=ordered.title if ordered else (platform.title if platform else ""),
                   url=None, image_url=None, price_minor=ordered.unit_price_minor if ordered else None,
                   available=not deleted and ordered is not None, consumable=consumable,
                   source="deleted" if deleted else "orders", ordered=ordered,
                   consumable_set_by_shop=consumable_set_by_shop)
