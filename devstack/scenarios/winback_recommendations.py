"""Recommendations in a win-back: a shop's product webhooks and a real-looking order history, the
recommendations job, then the win-back of a customer who reordered coffee every month and stopped.

Sofia bought Yirgacheffe beans every 4–5 weeks (with filters once), then nothing for 90 days. Other
customers show what goes together: filters, a cup and a kettle with the beans; the kettle is sold
out. Her win-back shows the beans ("time to reorder", at her own rhythm) and what goes with what
she bought, never the sold-out kettle, prices in the shop's currency, product pictures and links.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone

from devstack import samples
from devstack.scenarios.common import Stack, fresh_email, fresh_id

# id, title, price (UAH), handle, stock
PRODUCTS = {
    "beans": ("8120443", "Кава Ефіопія Іргачеф, 250 г", "489.00", "ethiopia-yirgacheffe", 120),
    "filters": ("8120517", "Фільтри Hario V60, 100 шт.", "289.00", "hario-v60-filters", 300),
    "cup": ("8120602", "Керамічна чашка «Zerno», 300 мл", "450.00", "zerno-cup", 35),
    "kettle": ("8120688", "Чайник Fellow Stagg EKG", "6490.00", "fellow-stagg-ekg", 0),
    "grinder": ("8120731", "Кавомолка Comandante C40", "9900.00", "comandante-c40", 4),
}


def product_payload(key: str, now: datetime) -> dict:
    product_id, title, price, handle, stock = PRODUCTS[key]
    return {
        "id": int(product_id), "title": title, "handle": handle, "status": "active", "vendor": "Zerno",
        "product_type": "Coffee", "published_at": "2025-09-01T10:00:00+03:00", "updated_at": now.isoformat(),
        "image": {"id": int(product_id) + 1, "src": f"https://cdn.shopify.com/s/files/1/0612/zerno/{handle}.jpg"},
        "images": [{"id": int(product_id) + 1, "src": f"https://cdn.shopify.com/s/files/1/0612/zerno/{handle}.jpg"}],
        "variants": [{"id": int(product_id) * 10, "product_id": int(product_id), "title": "Default Title",
                      "price": price, "sku": handle.upper(), "inventory_management": "shopify",
                      "inventory_policy": "deny", "inventory_quantity": stock}],
    }


def lines(*keys: str) -> list[dict]:
    return [{"id": fresh_id(), "product_id": PRODUCTS[key][0], "sku": PRODUCTS[key][3].upper(),
             "title": PRODUCTS[key][1], "unit_price": PRODUCTS[key][2], "quantity": 1} for key in keys]


def main() -> None:
    stack = Stack()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for key in PRODUCTS:
        stack.webhook("shopify", product_payload(key, now), topic="products/update",
                      label=f"products/update {PRODUCTS[key][3]} (stock {PRODUCTS[key][4]})")
    sofia = fresh_email("sofia.marchenko")
    print(f"Customer: {sofia}: beans every 4–5 weeks, the last order 90 days ago")
    history = [(sofia, "Sofia", 210, ("beans",)), (sofia, "Sofia", 178, ("beans", "filters")),
               (sofia, "Sofia", 146, ("beans",)), (sofia, "Sofia", 118, ("beans",)), (sofia, "Sofia", 90, ("beans",))]
    others = [("beans", "filters"), ("beans", "filters"), ("beans", "cup"), ("beans", "cup"), ("beans", "cup"),
              ("beans", "kettle"), ("beans", "kettle"), ("beans", "kettle"), ("filters", "grinder"), ("beans",)]
    for n, keys in enumerate(others):
        history.append((fresh_email(f"customer{n}"), "Andrii", 200 - 9 * n, keys))
    for email, name, days_ago, keys in history:
        payload = samples.sample_order_payload("shopify", order_id=fresh_id(), email=email, first_name=name,
                                               lines=lines(*keys), created_at=now - timedelta(days=days_ago))
        stack.webhook("shopify", payload, topic="orders/paid",
                      label=f"orders/paid {days_ago} days ago by {email.split('+')[0]}: {', '.join(keys)}")
    stack.new_mail(len(history), [email for email, *_ in history])  # the thank-you mails of the history
    ran = stack.admin("POST", f"/admin/shops/{stack.shop_id}/recommendations/run")
    print(f"→ POST /admin/shops/{stack.shop_id}/recommendations/run: {json.dumps(ran)}")
    mine = stack.admin("GET", f"/admin/shops/{stack.shop_id}/customers/{sofia.replace('+', '%2B')}/recommendations")
    print(f"→ GET …/customers/{sofia}/recommendations:")
    for reorder in mine["reorders"]:
        print(f"    reorder {reorder['product_id']}: every {reorder['interval_days']} days "
              f"({'her own rhythm' if reorder['own_rhythm'] else 'the shop-wide one'}), due {reorder['due_at'][:10]}")
    for scored in mine["bought_with"]:
        print(f"    bought with hers: {scored['product_id']} (score {scored['score']})")
    catalog = stack.admin("GET", f"/admin/shops/{stack.shop_id}/products?limit=50")
    for product in catalog["products"]:
        if product["product_id"] in {p[0] for p in PRODUCTS.values()}:
            print(f"    catalog {product['product_id']} {product['title']}: available {product['available']}, "
                  f"consumable {product['consumable']}, orders {product['orders']['orders'] if product['orders'] else 0}")

    from chalicelib.services.lifecycle.occasions import run_occasions
    from chalicelib.services.shops.lookup import load_shop

    report = run_occasions(stack.deps, load_shop(stack.deps, stack.shop_id), now + timedelta(minutes=1))
    print(f"→ daily occasions: {report.winbacks} win-back(s) queued")
    mails = []
    for _ in range(4):  # the send queue's worker may take a while behind the history's mail
        mails = stack.new_mail(1, [sofia])
        if mails:
            break
    stack.print_mail(mails)
    for mail in mails:
        html = mail.part("text/html")
        print("Product pictures in the HTML part:")
        for src in re.findall(r'<img src="(https://cdn\.shopify\.com/[^"]+)"', html):
            print(f"  {src}")
        print("Where the recommendation links lead (tracked, with the shop's UTM tags):")
        for token in dict.fromkeys(re.findall(r"/r/([A-Za-z0-9_-]+)\.", mail.part("text/plain"))):
            destination = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["u"]
            if "/products/" in destination:
                print(f"  {destination}")


if __name__ == "__main__":
    main()
