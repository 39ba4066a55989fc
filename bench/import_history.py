"""Import a generated shop history and check it against an independent computation.

    python -m bench.import_history [--orders 10000] [--customers 2500] [--workers 4] [--seed 7]

Generates a Shopify orders CSV export (one row per line item; discount codes, shipping,
full and partial refunds, unpaid orders, three years of dates) and a customers CSV,
imports both through the service the CLI uses (`chalicelib.services.orders.history_import`)
into a fresh table on the local emulator, and prints wall time and orders per second.
Then it computes every customer's points, cashback, spend, order count and tier in
plain Python from the generated rows (not with the ledger code) and compares them
with the profiles in the table: any difference is printed and the exit code is 1.

Times are this machine's with the emulator, which serves one request at a time (a
transaction's rollback backs up only the items it addresses, not the whole table);
they say nothing about DynamoDB.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from chalicelib import composition
from chalicelib.composition import dependencies

EARN_RATE = Fraction(5, 100)  # the program's default 0.05 points per currency unit
CASHBACK_PERCENT = 2
SILVER_MINOR, GOLD_MINOR = 2000_00, 5000_00
VALIDITY_MONTHS = 6

CSV_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Cancelled at", "Payment Method", "Refunded Amount", "Vendor", "Outstanding Balance", "Id",
    "Tags", "Risk Level", "Source", "Lineitem discount",
]


@dataclass
class GeneratedOrder:
    order_id: str
    email: str
    status: str  # paid | refunded | partially_refunded | pending
    paid_at: datetime
    subtotal_minor: int
    refunded_minor: int
    rows: list[dict]


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def generate_history(orders: int, customers: int, now: datetime, seed: int = 7) -> tuple[list[GeneratedOrder], list[str]]:
    rng = random.Random(seed)
    emails = [f"customer{n:05d}@example.com" for n in range(customers)]
    generated = []
    for number in range(orders):
        email = emails[min(int(rng.paretovariate(1.2)) - 1, customers - 1)] if rng.random() < 0.3 \
            else rng.choice(emails)
        paid_at = now - timedelta(seconds=rng.randint(3600, 3 * 365 * 86400))
        line_count = rng.choice((1, 1, 1, 2, 2, 3))
        lines = [(rng.randint(1, 3), rng.randint(50_00, 3000_00), f"SKU-{rng.randint(1, 400)}")
                 for _ in range(line_count)]
        gross = sum(quantity * price for quantity, price, _ in lines)
        discount = gross // 10 if rng.random() < 0.2 else 0
        subtotal = gross - discount
        shipping = rng.choice((0, 70_00))
        roll = rng.random()
        if roll < 0.05:
            status = "pending"
        elif roll < 0.10:
            status = "refunded"
        elif roll < 0.15 and line_count == 1:
            status = "partially_refunded"
        else:
            status = "paid"
        refunded = subtotal if status == "refunded" else rng.randint(1_00, subtotal - 1) if status == "partially_refunded" else 0
        stamp = paid_at.strftime("%Y-%m-%d %H:%M:%S +0000")
        rows = []
        for index, (quantity, price, sku) in enumerate(lines):
            row = dict.fromkeys(CSV_COLUMNS, "")
            row.update({"Name": f"#{1000 + number}", "Email": email, "Lineitem quantity": str(quantity),
                        "Lineitem name": f"Product {sku}", "Lineitem price": _money(price), "Lineitem sku": sku,
                        "Lineitem requires shipping": "true", "Lineitem taxable": "true",
                        "Lineitem discount": "0.00", "Vendor": "Demo"})
            if index == 0:
                row.update({"Financial Status": status, "Paid at": stamp if status != "pending" else "",
                            "Accepts Marketing": rng.choice(("yes", "no")), "Currency": "UAH",
                            "Subtotal": _money(subtotal), "Shipping": _money(shipping), "Taxes": "0.00",
                            "Total": _money(subtotal + shipping),
                            "Discount Code": "SPRING10" if discount else "", "Discount Amount": _money(discount),
                            "Created at": stamp, "Billing Name": "Test Customer", "Payment Method": "Card",
                            "Refunded Amount": _money(refunded), "Outstanding Balance": "0.00",
                            "Id": str(5_000_000_000 + number), "Risk Level": "Low", "Source": "web"})
            rows.append(row)
        generated.append(GeneratedOrder(str(5_000_000_000 + number), email, status, paid_at, subtotal, refunded, rows))
    return generated, emails


def write_orders_csv(history: list[GeneratedOrder], path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for order in sorted(history, key=lambda o: o.paid_at, reverse=True):  # Shopify exports newest first
            writer.writerows(order.rows)


def write_customers_csv(emails: list[str], path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["First Name", "Last Name", "Email", "Accepts Email Marketing", "Total Spent", "Total Orders"])
        for number, email in enumerate(emails):
            writer.writerow([f"Name{number}", "Customer", email, "yes" if number % 3 else "no", "0.00", "0"])


def _months_back(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 - months
    year, month = moment.year + index // 12, index % 12 + 1
    days = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return moment.replace(year=year, month=month, day=min(moment.day, days[month - 1]))


def expected_totals(history: list[GeneratedOrder], now: datetime) -> dict[str, dict]:
    """Per e-mail: points, cashback, spend, orders, tier, in plain arithmetic over the generated rows."""
    points_since = _months_back(now, VALIDITY_MONTHS)
    totals: dict[str, dict] = {}
    for order in history:
        if order.status == "pending":
            continue
        mine = totals.setdefault(order.email, {"points": 0, "cashback_minor": 0, "spend_minor": 0, "orders": 0})
        earns = order.paid_at >= points_since
        points = int(Fraction(order.subtotal_minor, 100) * EARN_RATE) if earns else 0
        cashback = order.subtotal_minor * CASHBACK_PERCENT // 100 if earns else 0
        if order.status == "refunded":
            continue  # everything taken back; not counted as an order
        share = Fraction(order.refunded_minor, order.subtotal_minor)
        mine["points"] += points - int(points * share)
        mine["cashback_minor"] += cashback - int(cashback * share)
        mine["spend_minor"] += order.subtotal_minor - order.refunded_minor
        mine["orders"] += 1
    for mine in totals.values():
        spend = mine["spend_minor"]
        mine["tier"] = "Gold" if spend >= GOLD_MINOR else "Silver" if spend >= SILVER_MINOR else None
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 4")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from bench.emulator import start_emulator

    os.environ["LOYALTY_TABLE"] = "loyalty-import-bench"
    server = start_emulator()
    try:
        sys.exit(run(args.orders, args.customers or max(args.orders // 4, 1), args.workers, args.seed))
    finally:
        server.stop()


def setup_shop(shop_id: str) -> None:
    from chalicelib.services.shops import shops

    shops.put_shop(dependencies(), shop_id, {"platform": "shopify", "webhook_secret": "bench-secret-0123456789", "currency": "UAH",
                             "sender_email": "loyalty@shop.example", "storefront_url": "https://shop.example",
                             "program": {"cashback_percent": str(CASHBACK_PERCENT)}})


def run(orders: int, customers: int, workers: int, seed: int) -> int:
    import boto3

    from chalicelib.composition import dependencies
    from chalicelib.services.orders import history_import
    from devstack.tables import create_table

    create_table(boto3.client("dynamodb"), os.environ["LOYALTY_TABLE"])
    composition.reset()
    shop_id = "bench-shop"
    setup_shop(shop_id)
    now = dependencies().clock()
    history, emails = generate_history(orders, customers, now, seed)
    with tempfile.TemporaryDirectory() as folder:
        orders_path, customers_path = f"{folder}/orders_export.csv", f"{folder}/customers_export.csv"
        write_orders_csv(history, orders_path)
        write_customers_csv(emails, customers_path)
        started = time.monotonic()
        customers_options = history_import.ImportOptions("shopify-customers-csv", workers=workers)
        prepared = history_import.prepare(dependencies(), shop_id, customers_path, customers_options, now)
        history_import.run(dependencies(), prepared, customers_options, now)
        customers_seconds = time.monotonic() - started
        options = history_import.ImportOptions("shopify-orders-csv", workers=workers)
        prepared = history_import.prepare(dependencies(), shop_id, orders_path, options, now)
        plan = history_import.dry_run(prepared, now)["would_create"]
        started = time.monotonic()
        report = history_import.run(dependencies(), prepared, options, now, progress=_progress)
        seconds = time.monotonic() - started
    print(file=sys.stderr)
    imported = sum(1 for order in history if order.status != "pending")
    print(f"customers CSV: {len(emails)} customers in {customers_seconds:.1f} s")
    print(f"orders CSV: {orders} orders ({imported} paid, {orders - imported} unpaid skipped), "
          f"{sum(len(o.rows) for o in history)} rows, {workers} workers")
    print(f"import: {seconds:.1f} s wall, {imported / seconds:.1f} orders/s; "
          f"{report['this_run']['applied']} applied, {report['this_run']['failed']} failed, "
          f"{len(report['problems'])} row problems")
    return check(shop_id, history, now, plan)


def check(shop_id: str, history: list[GeneratedOrder], now: datetime, plan: dict) -> int:
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.store.loyalty.repository import LoyaltyRepository

    shop = load_shop(dependencies(), shop_id)
    repo = LoyaltyRepository(shop_id)
    expected = expected_totals(history, now)
    differences = []
    sums = {"points": 0, "cashback_minor": 0, "spend_minor": 0, "orders": 0}
    for email, mine in sorted(expected.items()):
        account = repo.load_profile(shop.customer_id_for(email))
        got = {"points": account.points_balance, "cashback_minor": account.cashback_minor,
               "spend_minor": account.lifetime_spend_minor, "orders": account.orders_count,
               "tier": account.tier_name} if account else None
        if got != mine:
            differences.append((email, mine, got))
        for name in sums:
            sums[name] += got[name] if got else 0
    want = {name: sum(m[name] for m in expected.values()) for name in sums}
    print(f"totals in the table: points {sums['points']}, cashback {_money(sums['cashback_minor'])} UAH, "
          f"spend {_money(sums['spend_minor'])} UAH, orders {sums['orders']}")
    print(f"independent:         points {want['points']}, cashback {_money(want['cashback_minor'])} UAH, "
          f"spend {_money(want['spend_minor'])} UAH, orders {want['orders']}")
    print(f"dry run predicted:   points {plan['points']}, cashback {plan['cashback']} UAH, spend {plan['spend']} UAH, "
          f"tiers {plan['tiers']}")
    for email, mine, got in differences[:10]:
        print(f"DIFFERENT {email}: expected {mine}, table {got}")
    print(f"customers checked: {len(expected)}, different: {len(differences)}")
    return 1 if differences or sums != want else 0


def _progress(done: int, total: int) -> None:
    if done % 100 == 0 or done == total:
        print(f"\r  {done}/{total} orders", end="", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
