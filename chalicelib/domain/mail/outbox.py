"""E-mails owed because of a committed change, decided with the change itself."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.loyalty.rules import Outcome
from chalicelib.domain.platform_events import Order, Receipt

TRANSACTIONAL, MARKETING = "transactional", "marketing"
# A message's data under this key asks for recommendations next to these products (an order's, just
# bought). They are looked up on the way to the send queue, after the commit
# (services/products/recommendations.py add_recommendations); the key itself never reaches the queue.
RECOMMEND_WITH = "recommend_with"


def post_purchase_message(shop_id: str, customer_id: str, order: Order, outcome: Outcome, now: datetime) -> dict:
    """The thank-you e-mail for an order that has just been paid.

    Refunds never produce it: only the transition to paid does, once per order
    (the idempotency key is the order's).
    """
    receipt = order.receipt
    # The items at their prices before discounts when the receipt lists the discount below them
    # (they add up to its subtotal), in the receipt's currency; else at what was paid for each.
    if receipt is not None and receipt.currency and len(receipt.items_minor) == len(order.lines):
        amounts = list(receipt.items_minor)
    elif receipt is not None and receipt.subtotal_minor is not None \
            and all(line.list_minor is not None for line in order.lines):
        amounts = [line.list_minor for line in order.lines]
    else:
        amounts = [line.paid_minor for line in order.lines]
    data = {
        "order_id": order.order_id,
        "order_name": order.name or f"#{order.order_id}",
        # What was bought: a line an order edit emptied before payment is not listed.
        "items": [{"title": line.title or line.sku or line.line_id, "quantity": line.quantity, "total_minor": amount}
                  for line, amount in zip(order.lines, amounts) if line.quantity],
        "status_url": order.status_url,
        # Refunds that arrived before payment are applied in the same commit.
        "points_earned": outcome.points_earned - outcome.points_reversed,
        "cashback_minor": outcome.cashback_minor - outcome.cashback_reversed_minor,
    }
    if receipt is not None:
        data["receipt"] = receipt_data(receipt, order.discount_codes)
    return {
        "idempotency_key": f"post_purchase:{order.order_id}",
        "shop_id": shop_id,
        "customer_id": customer_id,
        "template": "post_purchase",
        "category": TRANSACTIONAL,
        "campaign_id": None,
        "created_at": now.isoformat(),
        "data": data,
    }


def receipt_data(receipt: Receipt, codes: tuple[str, ...]) -> dict:
    """The receipt as the post-purchase mail's ``receipt`` data. Rows that are zero or not stated
    are left out: the message waits in the outbox, which is paid for by the byte."""
    data = {"total_minor": receipt.total_minor}
    if receipt.currency:
        data["currency"] = receipt.currency
    if receipt.subtotal_minor is not None:
        data["subtotal_minor"] = receipt.subtotal_minor
    if receipt.discount_minor:
        data["discount_minor"] = receipt.discount_minor
        if codes:
            data["discount_codes"] = list(dict.fromkeys(codes))
    if receipt.shipping_minor:
        data["shipping_minor"] = receipt.shipping_minor
    if receipt.fees:
        data["fees"] = [{"name": name, "amount_minor": amount} for name, amount in receipt.fees]
    if receipt.tax_minor and receipt.taxes_included is not None:
        data["tax_minor"], data["taxes_included"] = receipt.tax_minor, receipt.taxes_included
    return data
