"""Shop records (their keys: store.access_keys)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store import keys
from chalicelib.store.models import Item, JobCheckpointItem, ShopIndexItem, ShopItem, over_version, stored_version


@dataclass
class StoredShop:
    shop_id: str
    config: dict
    secrets: dict
    version: int


class ShopChanged(Exception):
    """The shop was changed by someone else since it was read."""


class ShopRepository:
    def get(self, shop_id: str) -> Optional[StoredShop]:
        try:
            item = ShopItem.get(keys.shop_pk(shop_id), keys.SHOP_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return StoredShop(shop_id, item.config, item.secrets, stored_version(item))

    def save(self, shop: StoredShop) -> None:
        item = over_version(ShopItem(keys.shop_pk(shop.shop_id), keys.SHOP_SK, config=shop.config, secrets=shop.secrets),
                            shop.version)
        try:
            with TransactWrite(connection=Item._get_connection().connection) as write:
                write.save(item)
                write.save(ShopIndexItem(keys.SHOP_INDEX_PK, shop.shop_id, platform=shop.config["platform"],
                                         created_at=shop.config["created_at"]))
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                raise ShopChanged(shop.shop_id) from error
            raise
        shop.version += 1

    def list_ids(self) -> list[tuple[str, str]]:
        """(shop_id, platform) of every shop, by Query on the shop index partition."""
        return [(row.sk, row.platform) for row in ShopIndexItem.query(keys.SHOP_INDEX_PK)]


class JobCheckpoints:
    """The last day each scheduled job completed, per shop."""

    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def last_day(self, job: str) -> Optional[str]:
        try:
            return JobCheckpointItem.get(keys.shop_pk(self.shop_id), f"JOB#{job}", consistent_read=True).day
        except DoesNotExist:
            return None

    def complete(self, job: str, day: str) -> None:
        JobCheckpointItem(keys.shop_pk(self.shop_id), f"JOB#{job}", day=day).save()
