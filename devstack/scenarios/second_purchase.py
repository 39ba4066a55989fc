"""The shipped second-purchase flow over simulated days: two first-time customers order; one
orders again on day 6 and leaves the flow; on day 14 the other gets the offer, once, however
often the schedule runs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from devstack import samples
from devstack.scenarios.common import Stack, fresh_email, fresh_id


def main() -> None:
    stack = Stack()
    stack.enable_flow("second-purchase")
    day0 = datetime.now(timezone.utc).replace(microsecond=0)
    stays, leaves = fresh_email("iryna.bondar"), fresh_email("maksym.tkachenko")
    print(f"Customers: {stays} (stays in the flow), {leaves} (orders again on day 6)")
    for email, name in ((stays, "Iryna"), (leaves, "Maksym")):
        stack.webhook("shopify", samples.sample_order_payload("shopify", order_id=fresh_id(), email=email,
                                                              first_name=name, created_at=day0), topic="orders/paid",
                      label=f"orders/paid, first order of {email}")
    stack.print_mail(stack.new_mail(2, [stays, leaves]))
    stack.run_flows(day0 + timedelta(minutes=5), "day 0")
    stack.webhook("shopify", samples.sample_order_payload("shopify", order_id=fresh_id(), email=leaves,
                                                          first_name="Maksym", created_at=day0 + timedelta(days=6)),
                  topic="orders/paid", label=f"orders/paid, day 6, second order of {leaves}")
    stack.print_mail(stack.new_mail(1, [leaves]))
    stack.run_flows(day0 + timedelta(days=7), "day 7")
    stack.run_flows(day0 + timedelta(days=14, minutes=10), "day 14")
    stack.run_flows(day0 + timedelta(days=14, minutes=10), "day 14, the schedule runs again")
    stack.run_flows(day0 + timedelta(days=15), "day 15")
    stack.print_mail(stack.new_mail(1, [stays, leaves]))
    stack.funnel("second-purchase")


if __name__ == "__main__":
    main()
