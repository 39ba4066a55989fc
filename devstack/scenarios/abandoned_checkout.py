"""An abandoned Shopify checkout (the platform's checkouts/create payload): the reminder one hour
later with the checkout's items and recovery link, then the customer comes back and orders with
the same checkout token; the 24-hour reminder is never sent."""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

from devstack import samples
from devstack.scenarios.common import Stack, fresh_email, fresh_id

CHECKOUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "platforms" / "shopify_checkouts_create.json"


def main() -> None:
    stack = Stack()
    stack.enable_flow("abandoned-checkout")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    customer, token = fresh_email("mariia.shevchenko"), secrets.token_hex(16)
    checkout = json.loads(CHECKOUT.read_text(encoding="utf-8"))
    checkout.update({"token": token, "email": customer, "created_at": now.isoformat(), "updated_at": now.isoformat()})
    checkout["customer"] = {**checkout["customer"], "email": customer, "id": int(fresh_id())}
    print(f"Customer {customer} leaves checkout {token} with one item")
    stack.webhook("shopify", checkout, topic="checkouts/create")
    stack.webhook("shopify", {**checkout, "updated_at": (now + timedelta(minutes=3)).isoformat()},
                  topic="checkouts/update", label="checkouts/update (same checkout)")
    stack.run_flows(now + timedelta(minutes=1), "+1 minute")
    stack.run_flows(now + timedelta(minutes=30), "+30 minutes")
    stack.run_flows(now + timedelta(hours=1, minutes=5), "+1 hour")
    stack.print_mail(stack.new_mail(1, [customer]))

    order = samples.sample_order_payload("shopify", order_id=fresh_id(), email=customer, first_name="Марія",
                                         created_at=now + timedelta(hours=2),
                                         lines=[{"id": "1", "sku": "JBL-T520BT-BLU", "quantity": 1,
                                                 "title": "Навушники JBL Tune 520BT, сині", "unit_price": "2899.00"}])
    order["checkout_token"] = token
    stack.webhook("shopify", order, topic="orders/paid", label="orders/paid with the checkout's token (+2 hours)")
    stack.print_mail(stack.new_mail(1, [customer]))
    stack.run_flows(now + timedelta(hours=24, minutes=5), "+24 hours")
    leftover = stack.new_mail(0, [customer])
    print(f"Mail after the recovery: {len(leftover)} (the last call is not sent)")
    stack.funnel("abandoned-checkout")


if __name__ == "__main__":
    main()
