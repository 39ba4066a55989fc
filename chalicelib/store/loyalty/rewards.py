"""A shop's rewards catalog: one item per reward under the shop, saved on the version read."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from chalicelib.domain.loyalty.rewards import Reward
from chalicelib.store import keys
from chalicelib.store.models import RewardItem, over_version, stored_version

REWARD_SK_PREFIX = "REWARD#"


class StaleReward(Exception):
    """The reward was changed (or deleted, or created) since it was read."""


class RewardCatalog:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def all(self) -> list[Reward]:
        """Every reward of the shop, by id."""
        return [_reward_from_item(item) for item in RewardItem.query(
            keys.shop_pk(self.shop_id), RewardItem.sk.startswith(REWARD_SK_PREFIX), consistent_read=True)]

    def get(self, reward_id: str) -> Optional[Reward]:
        try:
            item = RewardItem.get(keys.shop_pk(self.shop_id), REWARD_SK_PREFIX + reward_id, consistent_read=True)
        except DoesNotExist:
            return None
        return _reward_from_item(item)

    def save(self, reward: Reward, now: datetime) -> Reward:
        """Saves over ``reward.version`` (0: a new reward); raises ``StaleReward`` when someone
        saved or deleted it in between. Returns the reward with its new version."""
        item = over_version(RewardItem(keys.shop_pk(self.shop_id), REWARD_SK_PREFIX + reward.reward_id,
                                       document=_document(reward), updated_at=keys.iso(now)), reward.version)
        try:
            item.save()
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise StaleReward(reward.reward_id) from None
            raise
        return _reward_from_item(item)

    def delete(self, reward_id: str, version: int) -> None:
        """Deletes the version read; raises ``StaleReward`` when it is gone or changed."""
        item = over_version(RewardItem(keys.shop_pk(self.shop_id), REWARD_SK_PREFIX + reward_id), version)
        try:
            item.delete()
        except DeleteError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise StaleReward(reward_id) from None
            raise


def _document(reward: Reward) -> dict:
    return {"name": reward.name, "kind": reward.kind, "points": reward.points, "value_minor": reward.value_minor,
            "discount_percent": str(reward.discount_percent) if reward.discount_percent is not None else None,
            "free_product_sku": reward.free_product_sku, "min_order_minor": reward.min_order_minor,
            "product_skus": sorted(reward.product_skus), "validity_days": reward.validity_days,
            "enabled": reward.enabled}


def _reward_from_item(item: RewardItem) -> Reward:
    doc = item.document
    return Reward(reward_id=item.sk[len(REWARD_SK_PREFIX):], name=doc["name"], kind=doc["kind"],
                  points=int(doc["points"]), value_minor=int(doc.get("value_minor") or 0),
                  discount_percent=Decimal(doc["discount_percent"]) if doc.get("discount_percent") else None,
                  free_product_sku=doc.get("free_product_sku"), min_order_minor=int(doc.get("min_order_minor") or 0),
                  product_skus=frozenset(doc.get("product_skus") or ()),
                  validity_days=int(doc["validity_days"]) if doc.get("validity_days") else None,
                  enabled=bool(doc.get("enabled", True)), version=stored_version(item))
