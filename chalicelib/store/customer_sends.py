"""A customer's send logs, newest first: the keys from the ``by_customer`` index (keys only), the
items by those keys (BatchGetItem), and the send logs written before that index, which carry their
keys in ``by_due_day`` until their 400-day TTL removes them.

The send log left ``by_due_day`` (ALL) for a keys-only index because a copy of the whole item in
an ALL index is written again each time the item changes: once when the e-mail is marked sent and
once per SES event (delivered, opened, clicked), one write unit each. A keys-only entry is written
once, with the claim. Its readers are rare (a customer's timeline, export and erasure) and pay
instead: half a read unit per send log read by key.
"""
from __future__ import annotations

from typing import Optional

from chalicelib.store import keys
from chalicelib.store.connection import keys_only_index_rows
from chalicelib.store.models import MailSendItem


def customer_send_items(shop_id: str, customer_id: str, limit: Optional[int] = None) -> list[MailSendItem]:
    """The customer's send logs, newest first (``limit``: the newest that many)."""
    pk = keys.customer_sends_pk(shop_id, customer_id)
    send_keys = _index_keys("by_customer", "gsi5pk", "gsi5sk", pk, limit)
    # Written before the send log's own index (until their TTL, SEND_LOG_DAYS, runs out): whole items.
    older = list(MailSendItem.by_due_day.query(pk, scan_index_forward=False, limit=limit))
    found = {(item.pk, item.sk): item for item in older}
    wanted = [key for _, key in send_keys if key not in found]
    for item in MailSendItem.batch_get(wanted):  # (PynamoDB asks 100 keys a request)
        found[(item.pk, item.sk)] = item
    order = {key: sort for sort, key in send_keys}
    order.update({(item.pk, item.sk): item.gsi1sk or "" for item in older})
    newest_first = sorted(found.values(), key=lambda item: order.get((item.pk, item.sk), ""), reverse=True)
    return newest_first[:limit] if limit is not None else newest_first


def send_log_index_keys(shop_id: str, customer_id: str, created_at: str, idempotency_key: str) -> dict:
    """The attributes that put a send log in its customer's list (``by_customer``)."""
    return {"gsi5pk": keys.customer_sends_pk(shop_id, customer_id), "gsi5sk": f"{created_at}#{idempotency_key}"}


def _index_keys(index: str, hash_attribute: str, sort_attribute: str, value: str,
                limit: Optional[int]) -> list[tuple[str, tuple[str, str]]]:
    """(sort key, item key) from a KEYS_ONLY index, newest first."""
    found: list[tuple[str, tuple[str, str]]] = []
    for row in keys_only_index_rows(index, hash_attribute, value, newest_first=True, page_size=limit):
        found.append((row[sort_attribute]["S"], (row["pk"]["S"], row["sk"]["S"])))
        if limit is not None and len(found) >= limit:
            break
    return found
