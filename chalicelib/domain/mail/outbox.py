"""E-mails owed because of a committed change, decided with the change itself."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.loyalty.rules import Outcome
from chalicelib.domain.platform_events import Order

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
    return {
        "idempotency_key": f"post_purchase:{order.order_id}",
        "shop_id": shop_id,
        "customer_id": customer_id,
        "template": "post_purchase",
        "category": TRANSACTIONAL,
        "campaign_id": None,
        "created_at": now.isoformat(),
        "data": {
            "order_id": order.order_id,
            "order_name": order.name or f"#{order.order_id}",
            # What was bought: a line an order edit emptied before payment is not listed.
            "items": [{"title": line.title or line.sku or line.line_id, "quantity": line.quantity,
                       "total_minor": line.paid_minor} for line in order.lines if line.quantity],
            "status_url": order.status_url,
            # Refunds that arrived before payment are applied in the same commit.
            "points_earned": outcome.points_earned - outcome.points_reversed,
            "cashback_minor": outcome.cashback_minor - outcome.cashback_reversed_minor,
        },
    }
