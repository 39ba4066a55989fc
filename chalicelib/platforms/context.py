"""What a parser needs to know about the shop a delivery is addressed to."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebhookContext:
    shop_id: str
    # Current secret first, then the previous one while a rotation is under way.
    secrets: tuple[str, ...]
    currency: str  # ISO 4217 code, e.g. "UAH"
    minor_exponent: int  # 2 for UAH/EUR/USD, 0 for JPY
    # The shop's storefront (https://shop.example): a Shopify product's page is /products/{handle} on it.
    storefront_url: str = ""
