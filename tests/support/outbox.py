"""The outbox as stored: every item of a shop across its shards."""
from __future__ import annotations


def outbox_items(shop_id: str, template: str | None = None):
    """With ``template``: only the items of that template's e-mails."""
    from chalicelib.store import keys
    from chalicelib.store.models import OutboxItem

    return [item for shard in range(keys.OUTBOX_SHARDS) for item in OutboxItem.query(keys.outbox_pk(shop_id, shard))
            if template is None or item.message.get("template") == template]
