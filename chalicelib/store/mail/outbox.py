"""Outbox items: written inside each change's transaction (store/loyalty/repository.py), read back
by the sweeper when they linger, deleted once their e-mail is handled."""
from __future__ import annotations

from chalicelib.store import keys
from chalicelib.store.models import OutboxItem


class OutboxStore:
    def lingering(self, shop_id: str, shard: int, before: str) -> list[dict]:
        """The messages of one outbox shard written before ``before`` (an ISO instant), each with
        its item's key (``outbox_key``: the sender deletes the item once handled)."""
        return [{**item.message, "outbox_key": {"pk": item.pk, "sk": item.sk}}
                for item in OutboxItem.query(keys.outbox_pk(shop_id, shard), OutboxItem.sk < before)]

    def clear(self, outbox_key: dict) -> None:
        OutboxItem(outbox_key["pk"], outbox_key["sk"]).delete()
