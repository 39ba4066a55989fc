"""What a paid order leaves for the recommendations: its products, written with the order's own
transaction (services/loyalty/ledger.py adds the item); a cancelled or fully refunded order is
marked taken back, so what a customer returned is neither "theirs" to reorder nor a pairing."""
from __future__ import annotations

from typing import Optional

from chalicelib.domain.loyalty.order_record import CANCELLED, PAID, OrderRecord
from chalicelib.domain.platform_events import Order

MAX_LINES = 100


def purchase_lines(order: Order) -> list[dict]:
    """The order's products (lines with a product id, gift cards left out), one entry per product."""
    lines: dict[str, dict] = {}
    for line in order.lines:
        if not line.product_id or line.gift_card or line.quantity <= 0:
            continue
        entry = lines.setdefault(line.product_id, {"product_id": line.product_id, "title": (line.title or line.sku or "")[:255],
                                                   "quantity": 0, "paid_minor": 0})
        entry["quantity"] += line.quantity
        entry["paid_minor"] += max(line.paid_minor, 0)
    return list(lines.values())[:MAX_LINES]


def purchase_items(deps, shop_id: str, order: Optional[Order], record: OrderRecord, was_paid: bool,
                   was_taken_back: bool = False) -> list[tuple]:
    """The purchase item an order change owes: written when the order is newly paid, rewritten as
    taken back when it is cancelled or fully refunded; nothing otherwise."""
    if record.customer_id is None or record.paid_at is None:
        return []
    store = deps.repos.products(shop_id)
    taken_back = record.status == CANCELLED or (record.status == PAID and record.fully_refunded)
    if record.status == PAID and not was_paid and order is not None and not taken_back:
        lines = purchase_lines(order)
        return [store.purchase_write(record.order_id, record.customer_id, record.paid_at, lines)] if lines else []
    if was_paid and taken_back and not was_taken_back:
        return [store.purchase_write(record.order_id, record.customer_id, record.paid_at, [], returned=True)]
    return []
