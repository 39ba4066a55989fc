"""Customer profiles written straight to the table, as if committed once."""
from __future__ import annotations


def stored_profile(shop_id: str, account):
    from chalicelib.store.loyalty.repository import _profile_item

    item = _profile_item(shop_id, account)
    item.version = 1  # as if committed once
    return item
