"""Every code the product issues, and the shop's checkout asking whether one works.

Redemptions make their ``PTS-`` codes inside the redemption's own transaction (they
carry the lot portions to give back); every other code (special days, reward links,
birthdays, win-back, referrals) is issued here, through ``issue_codes``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Optional

from chalicelib.domain.loyalty.codes import REWARD, REWARD_PREFIX, SPECIAL_DAY, SPECIAL_DAY_PREFIX, RewardCode, new_code
from chalicelib.domain.money import format_minor, to_minor
from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import BadRequest, NotFound
from chalicelib.store import keys

_PREFIX = {SPECIAL_DAY: SPECIAL_DAY_PREFIX, REWARD: REWARD_PREFIX}


@dataclass(frozen=True)
class CodeSpec:
    """What a batch of codes gives and how it may be used."""

    kind: str  # special_day | reward
    expires_at: datetime
    starts_at: Optional[datetime] = None
    discount_percent: Optional[Decimal] = None
    value_minor: int = 0
    free_shipping: bool = False
    min_order_minor: int = 0
    # For a shared code: how many orders may use it in all (None: no limit).
    max_uses: Optional[int] = None
    subject: Optional[str] = None  # campaign:{id} or flow:{template}: where redemptions are counted
    # An individual offer: the products the code applies to (empty: all).
    product_skus: tuple[str, ...] = ()
    campaign_id: Optional[str] = None


def issue_codes(deps, shop_id: str, spec: CodeSpec, customer_ids: list[Optional[str]], now: datetime) -> list[RewardCode]:
    """New codes: one per customer, or (customer None) one shared by everyone."""
    codes = [RewardCode(code=new_code(_PREFIX[spec.kind]), shop_id=shop_id, kind=spec.kind, customer_id=customer_id,
                        value_minor=spec.value_minor, points=0, created_at=now, expires_at=spec.expires_at,
                        starts_at=spec.starts_at,
                        discount_percent=str(spec.discount_percent) if spec.discount_percent else None,
                        free_shipping=spec.free_shipping, shared=customer_id is None,
                        max_uses=spec.max_uses if customer_id is None else 1, campaign_id=spec.campaign_id,
                        subject=spec.subject, min_order_minor=spec.min_order_minor,
                        product_skus=spec.product_skus)
             for customer_id in customer_ids]
    deps.repos.loyalty(shop_id).add_new_codes(codes)
    return codes


def check_code(deps, shop: Shop, code: str, order_total: Optional[str] = None) -> dict:
    """``GET /shops/{shop}/codes/{code}[?order_total=12.50]``: whether the code works now
    (for an order of that total) and what it gives."""
    total_minor = None
    if order_total not in (None, ""):
        try:
            total_minor = to_minor(order_total, shop.currency_exponent)
        except ValueError:
            total_minor = -1
        if total_minor < 0:
            raise BadRequest("order_total: a decimal amount in the shop's currency, like 12.50",
                             field="order_total")
    found = deps.repos.loyalty(shop.shop_id).load_code(code.strip().upper())
    if found is None:
        raise NotFound("code: no such code in this shop", field="code")
    reason = found.refusal(deps.clock(), total_minor)
    exponent = shop.currency_exponent
    return {
        "code": found.code, "kind": found.kind, "valid": reason is None, "reason": reason,
        "value": format_minor(found.value_minor, exponent) if found.value_minor else None,
        "discount_percent": found.discount_percent, "free_shipping": found.free_shipping,
        "min_order": format_minor(found.min_order_minor, exponent) if found.min_order_minor else None,
        "single_use": found.max_uses == 1, "max_uses": found.max_uses, "uses": found.uses,
        "customer_id": found.customer_id,
        "valid_from": keys.iso(found.starts_at) if found.starts_at else None,
        "valid_until": keys.iso(found.expires_at), "currency": shop.currency,
        # A referral code gives its discount on a customer's first order only.
        "first_order_only": found.kind == "referral",
        # A catalog reward's or an offer's code: the products it applies to (empty: all), the product it
        # makes free.
        "product_skus": list(found.product_skus), "free_product_sku": found.free_product_sku,
        "reward_id": found.reward_id,
    }
