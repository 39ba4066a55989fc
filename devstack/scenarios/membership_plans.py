"""Membership plans: the demo shop sells a monthly plan (no free shipping, +1 % cashback) and a yearly
one (free shipping, +4 % cashback, member-only offers). One customer buys the monthly plan, another
the yearly one: each thank-you e-mail states that plan and only its benefits; then the daily job,
run six days before the yearly membership ends, sends its reminder with the same terms."""
from __future__ import annotations

from datetime import timedelta

from devstack import samples
from devstack.scenarios import common
from devstack.scenarios.common import Stack, fresh_email, fresh_id

PLANS = [
    {"sku": "CLUB-M", "name": "Club Monthly", "period": "monthly", "free_shipping": False,
     "extra_cashback_percent": "1"},
    {"sku": "CLUB-Y", "name": "Club Plus", "period": "yearly", "free_shipping": True, "extra_cashback_percent": "4",
     "exclusive_offers": True},
]


def main() -> None:
    common.MAIL_WAIT_SECONDS = 120  # a loaded machine's queue worker may take a while
    stack = Stack()
    program = stack.admin("GET", f"/admin/shops/{stack.shop_id}/program")["program"]
    program["membership"] = {**program.get("membership", {}), "sku": None, "plans": PLANS}
    stack.admin("PUT", f"/admin/shops/{stack.shop_id}/program", {"program": program})
    print("→ program.membership.plans: " + "; ".join(
        f"{p['sku']} {p['name']} ({p['period']}, free shipping {p['free_shipping']}, "
        f"+{p['extra_cashback_percent']}% cashback, member-only offers {p.get('exclusive_offers', False)})"
        for p in PLANS))

    monthly, yearly = fresh_email("taras.melnyk"), fresh_email("olena.koval")
    for email, sku, price, name in ((monthly, "CLUB-M", "99.00", "Taras"), (yearly, "CLUB-Y", "990.00", "Olena")):
        payload = samples.sample_order_payload("shopify", order_id=fresh_id(), email=email, first_name=name,
                                               locale="en", lines=[{"sku": sku, "title": f"Membership {sku}",
                                                                    "unit_price": price}])
        answer = stack.webhook("shopify", payload, topic="orders/paid", label=f"orders/paid, {email} buys {sku}")
        print(f"  membership: {answer.get('membership')}")
        stack.print_mail(stack.new_mail(1, [email]))

    from chalicelib.services.lifecycle.daily import run_daily

    member = stack.deps.repos.loyalty(stack.shop_id).load_profile(_customer_id(stack, yearly))
    at = member.member_until - timedelta(days=6)
    report = run_daily(stack.deps, at, [stack.shop_id])["shops"][stack.shop_id]["membership_reminders"]
    print(f"→ daily jobs at {at:%Y-%m-%d} (six days before {yearly}'s membership ends): {report}")
    stack.print_mail(stack.new_mail(1, [yearly]))


def _customer_id(stack: Stack, email: str) -> str:
    from chalicelib.services.shops.lookup import load_shop

    return load_shop(stack.deps, stack.shop_id).customer_id_for(email)


if __name__ == "__main__":
    main()
