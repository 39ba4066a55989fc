"""A Shopify order, then its documented fulfillments/create (UPS tracking) and the carrier's
fulfillments/update "delivered": prints the post-purchase, "on its way" and "delivered" e-mails,
and shows that a repeated update sends nothing."""
from __future__ import annotations

import json
from pathlib import Path

from devstack import samples
from devstack.scenarios.common import Stack, fresh_email, fresh_id

# Shopify's documented fulfillments/create sample payload (REST Admin API), as the platform sends it.
DOCUMENTED_FULFILLMENT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "platforms" / \
    "shopify_fulfillments_create_docs_sample.json"


def main() -> None:
    stack = Stack()
    customer, order_id = fresh_email("olena.koval"), fresh_id()
    print(f"Customer {customer}, Shopify order {order_id} (customer_locale de)")
    stack.webhook("shopify", samples.sample_order_payload("shopify", order_id=order_id, email=customer, locale="de"),
                  topic="orders/paid")
    stack.print_mail(stack.new_mail(1, [customer]))

    fulfillment = json.loads(DOCUMENTED_FULFILLMENT.read_text(encoding="utf-8"))
    fulfillment.update({"order_id": int(order_id), "email": customer, "id": int(fresh_id())})
    stack.webhook("shopify", fulfillment, topic="fulfillments/create")
    stack.print_mail(stack.new_mail(1, [customer]))

    delivered = {**fulfillment, "status": "success", "shipment_status": "delivered"}
    stack.webhook("shopify", delivered, topic="fulfillments/update", label="fulfillments/update (delivered)")
    stack.webhook("shopify", delivered, topic="fulfillments/update", label="fulfillments/update (delivered, again)",
                  event_id=fresh_id())
    stack.print_mail(stack.new_mail(2, [customer]))


if __name__ == "__main__":
    main()
