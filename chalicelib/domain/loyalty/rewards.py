"""A shop's rewards catalog: what a customer may choose to turn points into.

Four kinds, each for a number of points: an amount off, a percent off, free shipping, a free
product. Each may ask for a minimum order and may apply to some products only (the shops'
sources: points are "not always spendable on all products"). Redeeming one takes the points
from the customer's lots, like a plain redemption, and gives a single-use ``PTS-`` code of the
reward's kind (chalicelib.domain.loyalty.codes): its unused points come back at its expiry.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Optional

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.loyalty.codes import REDEMPTION, RewardCode, new_code
from chalicelib.domain.loyalty.lapse import day_end
from chalicelib.domain.loyalty.program import ProgramRules

AMOUNT_OFF, PERCENT_OFF, FREE_SHIPPING, FREE_PRODUCT = "amount_off", "percent_off", "free_shipping", "free_product"
KINDS = (AMOUNT_OFF, PERCENT_OFF, FREE_SHIPPING, FREE_PRODUCT)


@dataclass(frozen=True)
class Reward:
    reward_id: str
    name: str
    kind: str
    points: int  # what it costs
    value_minor: int = 0  # amount_off
    discount_percent: Optional[Decimal] = None  # percent_off
    free_product_sku: Optional[str] = None  # free_product
    min_order_minor: int = 0
    # Empty: any product. Otherwise the code applies to these SKUs only, and the minimum order
    # counts only their lines.
    product_skus: frozenset[str] = field(default_factory=frozenset)
    validity_days: Optional[int] = None  # None: the program's redemption_code_validity_days
    enabled: bool = True
    version: int = 0

    def affordable_by(self, account: Account) -> bool:
        """Whether the customer can redeem it now: no points debt and enough points."""
        return self.enabled and account.points_debt == 0 and account.points_balance >= self.points


def redeem_reward(account: Account, reward: Reward, rules: ProgramRules, now: datetime, zone: str) -> RewardCode:
    """Take the reward's points (a ``redeem`` ledger entry naming the reward and the code) and
    return its single-use code. Raises ``InsufficientPoints`` (the account unchanged) when the
    customer cannot afford it."""
    validity = reward.validity_days or rules.redemption_code_validity_days
    code = RewardCode(code=new_code(), shop_id=account.shop_id, kind=REDEMPTION, customer_id=account.customer_id,
                      value_minor=reward.value_minor if reward.kind == AMOUNT_OFF else 0, points=reward.points,
                      created_at=now, expires_at=day_end(now + timedelta(days=validity), zone),
                      discount_percent=str(reward.discount_percent) if reward.kind == PERCENT_OFF else None,
                      free_shipping=reward.kind == FREE_SHIPPING,
                      free_product_sku=reward.free_product_sku if reward.kind == FREE_PRODUCT else None,
                      min_order_minor=reward.min_order_minor, product_skus=tuple(sorted(reward.product_skus)),
                      reward_id=reward.reward_id)
    # The catalog's price is the shop's own word for this reward: the program's smallest plain
    # redemption does not apply to it.
    catalog_rules = replace(rules, min_redeem_points=1)
    code.portions = account.redeem(reward.points, cause=f"code:{code.code}", now=now, rules=catalog_rules, zone=zone,
                                   detail={"code": code.code, "reward_id": reward.reward_id, "reward": reward.name})
    return code
