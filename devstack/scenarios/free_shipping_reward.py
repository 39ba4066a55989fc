"""A free-shipping reward chosen and used: the shop puts it in its rewards catalog, a customer's
first order earns points, the storefront lists the rewards they can afford (the address
percent-encoded, plus addressing and all), redeems the free-shipping one into a single-use code,
and the next order, shipped free with that code, has it applied (consumed) by its webhook; a
third order trying the same code is refused it."""
from __future__ import annotations

import json
from urllib.parse import quote

from devstack import cli, samples
from devstack.scenarios.common import Stack, fresh_email, fresh_id

FREE_SHIPPING = {"name": "Безкоштовна доставка", "kind": "free_shipping", "points": 80, "min_order": "500"}


class Storefront:
    """The shop's storefront, calling the API with its own key, as a theme's script would."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.key = stack.admin("POST", f"/admin/shops/{stack.shop_id}/api-keys")["api_key"]

    def call(self, method: str, path: str, body=None, show: bool = True) -> dict:
        raw = json.dumps(body).encode() if body is not None else None
        headers = {"X-Api-Key": self.key, **({"Content-Type": "application/json"} if raw else {})}
        status, answer = cli.http_request(method, f"{self.stack.api}/shops/{self.stack.shop_id}{path}", raw, headers)
        print(f"→ storefront {method} {path}: HTTP {status}"
              + (f"\n  {json.dumps(answer, ensure_ascii=False)}" if show else ""), flush=True)
        return answer


def main() -> None:
    stack = Stack()
    reward = stack.admin("PUT", f"/admin/shops/{stack.shop_id}/rewards/free-shipping",
                         {**FREE_SHIPPING, "version": _version(stack)})
    print(f"→ catalog: {reward['reward_id']!r} {reward['kind']} for {reward['points']} points, "
          f"orders from {reward['min_order']} {reward['currency']} (version {reward['version']})")
    storefront = Storefront(stack)
    customer = fresh_email("olena.koval")
    address = quote(customer, safe="")  # olena.koval%2B…%40example.com, as storefront clients send it
    print(f"Customer {customer}")

    stack.webhook("shopify", samples.sample_order_payload("shopify", order_id=fresh_id(), email=customer),
                  topic="orders/paid", label="orders/paid, first order (3 799.00 UAH of goods, shipping 80.00)")
    stack.print_mail(stack.new_mail(1, [customer]))

    storefront.call("GET", f"/customers/{address}/rewards")
    redeemed = storefront.call("POST", f"/customers/{address}/rewards/free-shipping/redemptions")
    code = redeemed["code"]
    storefront.call("GET", f"/codes/{code}?order_total=899.00")

    free = samples.sample_order_payload("shopify", order_id=fresh_id(), email=customer, discount_codes=[code],
                                        shipping="0.00")
    answer = stack.webhook("shopify", free, topic="orders/paid",
                           label=f"orders/paid, second order with {code}, shipping 0.00")
    print(f"  consumed_codes: {answer.get('consumed_codes')}")
    stack.print_mail(stack.new_mail(1, [customer]))

    again = stack.webhook("shopify", samples.sample_order_payload("shopify", order_id=fresh_id(), email=customer,
                                                                  discount_codes=[code], shipping="0.00"),
                          topic="orders/paid", label=f"orders/paid, third order trying {code} again")
    print(f"  consumed_codes: {again.get('consumed_codes')}, refused_codes: {again.get('refused_codes')}")
    storefront.call("GET", f"/codes/{code}")
    history = storefront.call("GET", f"/customers/{address}/history?limit=10", show=False)
    print("Points ledger, newest first:")
    for entry in (e for e in history["entries"] if e["points"]):
        print(f"  {entry['kind']:<7} {entry['points']:+5d}  {entry['cause']}"
              + (f"  (reward {entry['detail']['reward_id']})" if entry["detail"].get("reward_id") else ""))
    stack.new_mail(1, [customer])  # the third order's e-mail: not part of this story


def _version(stack: Stack) -> int:
    """The reward's current version (0: not in the catalog yet), so the scenario runs again."""
    listed = stack.admin("GET", f"/admin/shops/{stack.shop_id}/rewards")["rewards"]
    return next((r["version"] for r in listed if r["reward_id"] == "free-shipping"), 0)


if __name__ == "__main__":
    main()
