"""The shop's checkout asks whether a code works; campaigns issue special-day codes."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional

from chalicelib import bootstrap
from chalicelib.domain.codes import SPECIAL_DAY, SPECIAL_DAY_PREFIX, RewardCode, new_code
from chalicelib.domain.money import format_minor
from chalicelib.domain.shop import Shop
from chalicelib.errors import NotFound
from chalicelib.store import keys
from chalicelib.store.repository import LoyaltyRepository


def check_code(shop: Shop, code: str) -> dict:
    """``GET /shops/{shop}/codes/{code}``: whether the code works now and what it gives."""
    found = LoyaltyRepository(shop.shop_id).load_code(code.strip().upper())
    if found is None:
        raise NotFound("code: no such code in this shop", field="code")
    reason = found.refusal(bootstrap.now())
    return {
        "code": found.code, "kind": found.kind, "valid": reason is None, "reason": reason,
        "value": format_minor(found.value_minor, shop.currency_exponent) if found.value_minor else None,
        "discount_percent": found.discount_percent, "free_shipping": found.free_shipping,
        "single_use": not found.shared, "uses": found.uses, "customer_id": found.customer_id,
        "valid_from": keys.iso(found.starts_at) if found.starts_at else None,
        "valid_until": keys.iso(found.expires_at), "currency": shop.currency,
    }


def special_day_codes(shop_id: str, campaign_id: str, customer_ids: list[Optional[str]], *, starts_at: datetime,
                      ends_at: datetime, discount_percent: Optional[Decimal], free_shipping: bool,
                      now: datetime) -> list[RewardCode]:
    """New codes for a campaign: one per customer, or (customer None) one shared by everyone."""
    codes = [RewardCode(code=new_code(SPECIAL_DAY_PREFIX), shop_id=shop_id, kind=SPECIAL_DAY,
                        customer_id=customer_id, value_minor=0, points=0, created_at=now, expires_at=ends_at,
                        starts_at=starts_at, discount_percent=str(discount_percent) if discount_percent else None,
                        free_shipping=free_shipping, shared=customer_id is None, campaign_id=campaign_id)
             for customer_id in customer_ids]
    LoyaltyRepository(shop_id).add_new_codes(codes)
    return codes
