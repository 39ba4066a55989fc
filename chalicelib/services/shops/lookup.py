"""A shop as every use case reads it: cached briefly per Lambda container, so a webhook usually
costs no read for it. Below every other shop use case (sending domains read shops too)."""
from __future__ import annotations

from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import NotFound
from chalicelib.services.shops.shop_settings import shop_from_documents


def load_shop(deps, shop_id: str) -> Shop:
    """The shop for a request path; cached briefly per Lambda container so a
    webhook usually costs no read for it. A shop being erased is no shop."""
    cached = deps.caches.shops.get(shop_id)
    if cached is not None:
        return cached
    stored = deps.repos.shops().get(shop_id)
    if stored is None or stored.config.get("erasing_since"):
        raise NotFound(f"no shop {shop_id!r}", field="shop_id")
    shop = shop_from_documents(shop_id, stored.config, stored.secrets, stored.version)
    return deps.caches.shops.put(shop_id, shop)
