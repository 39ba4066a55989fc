"""The rewards catalog: the shop keeps it (admin API), the storefront lists what a customer can
afford and redeems one into a single-use code of its kind, in one conditional transaction."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain.loyalty.account import InsufficientPoints
from chalicelib.domain.loyalty.rewards import AMOUNT_OFF, FREE_PRODUCT, PERCENT_OFF, Reward, redeem_reward
from chalicelib.domain.money import format_minor, to_minor
from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.services.loyalty.storefront import existing_account
from chalicelib.services.retries import retry_on_conflict
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.validation import bad_request_from, refuse_unknown_fields
from chalicelib.store import keys
from chalicelib.store.loyalty.repository import Change
from chalicelib.store.loyalty.rewards import StaleReward

REWARD_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_REWARDS = 50
Sku = Annotated[str, Field(min_length=1, max_length=120)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("1000000000"), allow_inf_nan=False)]


class RewardSettings(BaseModel):
    """A reward of the catalog as the admin API takes it (``version``: the one read, 0 for new)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=80)]
    kind: Literal["amount_off", "percent_off", "free_shipping", "free_product"]
    points: Annotated[int, Field(ge=1, le=10_000_000, strict=True)]
    amount: Optional[Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"), allow_inf_nan=False)]] = Field(
        None, description="amount_off: the money off, in the shop's currency")
    discount_percent: Optional[Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]] = Field(
        None, description="percent_off: the percent off")
    free_product_sku: Optional[Sku] = Field(None, description="free_product: the SKU the code makes free")
    min_order: Money = Field(Decimal(0), description="the smallest order (of the products it applies to)")
    product_skus: list[Sku] = Field(default_factory=list, max_length=200,
                                    description="the products the code applies to (empty: every product)")
    validity_days: Optional[Annotated[int, Field(ge=1, le=365, strict=True)]] = Field(
        None, description="how long the code works (default: the program's redemption_code_validity_days)")
    enabled: bool = True
    version: Annotated[int, Field(ge=0, strict=True)] = 0


# The field each kind needs, and that no other kind may carry.
_KIND_FIELD = {AMOUNT_OFF: "amount", PERCENT_OFF: "discount_percent", FREE_PRODUCT: "free_product_sku"}


def _parse(body: dict, reward_id: str, exponent: int) -> Reward:
    if not REWARD_ID.match(reward_id):
        raise BadRequest("reward_id: lower-case letters, digits, '-' and '_', at most 63", field="reward_id")
    try:
        settings = RewardSettings.model_validate(body)
    except ValidationError as error:
        raise bad_request_from(error) from None
    for kind, name in _KIND_FIELD.items():
        given = getattr(settings, name) is not None
        if settings.kind == kind and not given:
            raise BadRequest(f"{name}: required for a reward of kind {kind}", field=name)
        if settings.kind != kind and given:
            raise BadRequest(f"{name}: only a reward of kind {kind} has it", field=name)
    value_minor = to_minor(settings.amount, exponent) if settings.amount is not None else 0
    if settings.amount is not None and value_minor < 1:
        raise BadRequest("amount: smaller than the currency's smallest unit", field="amount")
    return Reward(reward_id=reward_id, name=settings.name.strip(), kind=settings.kind, points=settings.points,
                  value_minor=value_minor, discount_percent=settings.discount_percent,
                  free_product_sku=settings.free_product_sku, min_order_minor=to_minor(settings.min_order, exponent),
                  product_skus=frozenset(settings.product_skus), validity_days=settings.validity_days,
                  enabled=settings.enabled, version=settings.version)


def reward_view(reward: Reward, shop: Shop) -> dict:
    exponent = shop.currency_exponent
    return {"reward_id": reward.reward_id, "name": reward.name, "kind": reward.kind, "points": reward.points,
            "amount": format_minor(reward.value_minor, exponent) if reward.kind == AMOUNT_OFF else None,
            "discount_percent": str(reward.discount_percent) if reward.discount_percent is not None else None,
            "free_product_sku": reward.free_product_sku,
            "min_order": format_minor(reward.min_order_minor, exponent),
            "product_skus": sorted(reward.product_skus), "validity_days": reward.validity_days,
            "enabled": reward.enabled, "currency": shop.currency}


# -- admin ------------------------------------------------------------------------------------
def list_rewards(deps, shop_id: str) -> dict:
    shop = load_shop(deps, shop_id)
    return {"rewards": [{**reward_view(r, shop), "version": r.version}
                        for r in deps.repos.rewards(shop.shop_id).all()]}


def get_reward(deps, shop_id: str, reward_id: str) -> dict:
    shop = load_shop(deps, shop_id)
    reward = _existing_reward(deps, shop, reward_id)
    return {**reward_view(reward, shop), "version": reward.version}


def put_reward(deps, shop_id: str, reward_id: str, body: dict) -> tuple[int, dict]:
    """Create (``version`` 0) or replace (the version read) one reward of the catalog."""
    shop = load_shop(deps, shop_id)
    reward = _parse(body, reward_id, shop.currency_exponent)
    catalog = deps.repos.rewards(shop.shop_id)
    if reward.version == 0 and len(catalog.all()) >= MAX_REWARDS:
        raise Conflict(f"reward_id: a catalog holds at most {MAX_REWARDS} rewards", field="reward_id")
    try:
        saved = catalog.save(reward, deps.clock())
    except StaleReward:
        raise Conflict("version: the reward was changed since you read it (or already exists); reload it",
                       field="version") from None
    return (201 if saved.version == 1 else 200), {**reward_view(saved, shop), "version": saved.version}


def delete_reward(deps, shop_id: str, reward_id: str) -> dict:
    """Takes the reward off the catalog; codes already given keep working."""
    shop = load_shop(deps, shop_id)
    reward = _existing_reward(deps, shop, reward_id)
    try:
        deps.repos.rewards(shop.shop_id).delete(reward_id, reward.version)
    except StaleReward:
        raise Conflict("version: the reward was changed meanwhile; reload it", field="version") from None
    return {"deleted": reward_id}


def _existing_reward(deps, shop: Shop, reward_id: str) -> Reward:
    reward = deps.repos.rewards(shop.shop_id).get(reward_id) if REWARD_ID.match(reward_id) else None
    if reward is None:
        raise NotFound(f"reward_id: no reward {reward_id!r} in this shop", field="reward_id")
    return reward


# -- storefront -------------------------------------------------------------------------------
def customer_rewards(deps, shop: Shop, email: str) -> dict:
    """``GET /shops/{shop}/customers/{email}/rewards``: the rewards the customer can afford now,
    the others with the points still missing, and the customer's personal offers still usable."""
    account = existing_account(deps, shop, email)
    offered = sorted((r for r in deps.repos.rewards(shop.shop_id).all() if r.enabled),
                     key=lambda r: (r.points, r.reward_id))
    return {
        "points_balance": account.points_balance,
        "rewards": [reward_view(r, shop) for r in offered if r.affordable_by(account)],
        "more_rewards": [{**reward_view(r, shop), "points_missing": max(r.points - account.points_balance, 0)}
                         for r in offered if not r.affordable_by(account)],
        "offers": personal_offers(deps, shop, account.customer_id),
        "currency": shop.currency,
    }


def personal_offers(deps, shop: Shop, customer_id: str) -> list[dict]:
    """The individual offers given to the customer whose codes still work (services/campaigns/offers.py)."""
    now, exponent = deps.clock(), shop.currency_exponent
    return [{"name": name, "code": code.code, "discount_percent": code.discount_percent,
             "amount": format_minor(code.value_minor, exponent) if code.value_minor else None,
             "product_skus": list(code.product_skus), "min_order": format_minor(code.min_order_minor, exponent),
             "expires_at": keys.iso(code.expires_at), "currency": shop.currency}
            for name, code in deps.repos.offers(shop.shop_id).for_customer(customer_id) if code.refusal(now) is None]


def redeem(deps, shop: Shop, email: str, reward_id: str, body: dict) -> dict:
    """``POST /shops/{shop}/customers/{email}/rewards/{reward}/redemptions``: the reward's
    points leave the customer's lots (a ledger entry) and its single-use code is written in the
    same conditional transaction; a concurrent change makes the commit fail and the decision is
    made again on fresh state, so two redemptions of the last points cannot both succeed."""
    refuse_unknown_fields(body, (), "a reward redemption")
    if not REWARD_ID.match(reward_id):
        raise NotFound(f"reward_id: no reward {reward_id!r} in this shop", field="reward_id")
    reward = deps.repos.rewards(shop.shop_id).get(reward_id)
    if reward is None or not reward.enabled:
        raise NotFound(f"reward_id: no reward {reward_id!r} in this shop", field="reward_id")

    def decide() -> dict:
        account = existing_account(deps, shop, email)
        now = deps.clock()
        try:
            code = redeem_reward(account, reward, shop.program, now, shop.timezone)
        except InsufficientPoints as refusal:
            raise Conflict(f"points: {refusal.reason}", field="points", points_balance=account.points_balance,
                           points_needed=reward.points) from None
        deps.repos.loyalty(shop.shop_id).commit(Change(account=account, codes=[code]), now)
        return {"code": code.code, "reward": reward_view(reward, shop), "points": reward.points,
                "expires_at": keys.iso(code.expires_at), "points_balance": account.points_balance}

    return retry_on_conflict(decide)
