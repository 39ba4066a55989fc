"""Items the daily jobs read, against the number of customers a shop has.

    python -m bench.daily_reads [--sizes 1000,10000,100000] [--due 100] [--json FILE]

For each size, a fresh table gets that many customers (one point lot each);
`--due` of them have points that expired yesterday, as many have points
expiring in exactly 30 days, and as many have a birthday today. Then the
expiry, expiry-warning and birthday jobs run, and the script prints what they
read: index items, customer accounts and DynamoDB requests (counted at the
emulator). The point: reads follow the work (the due customers), not the shop.

The emulator copies a whole table inside every transaction so it can roll back;
at 100,000 customers that copy dominates, so this script turns it off (a
transaction here never needs the rollback). Request counts are unaffected;
times are this machine's and the emulator's, not DynamoDB's.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench.emulator import start_emulator
from chalicelib import composition


NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    os.environ["LOYALTY_SHOP_CACHE_SECONDS"] = "0"
    server = start_emulator()
    rows = []
    try:
        for size in sizes:
            rows.append(run(server, size, args.due))
    finally:
        server.stop()

    print(f"Daily jobs, {args.due} customers due per job (this machine, local emulator):")
    header = (f"{'customers':>10} {'job':<16} {'index items':>12} {'accounts read':>14} {'requests':>9} "
              f"{'acted on':>9} {'seconds':>8}")
    print(header)
    print("-" * len(header))
    for size, jobs in rows:
        for job, (index_items, accounts, requests, acted, seconds) in jobs.items():
            print(f"{size:>10} {job:<16} {index_items:>12} {accounts:>14} {requests:>9} {acted:>9} {seconds:>8.2f}")
    if args.json:
        args.json.write_text(json.dumps({"due": args.due, "rows": [
            {"customers": size, "job": job, "index_items": index_items, "accounts_read": accounts,
             "read_requests": requests, "acted_on": acted, "seconds": seconds}
            for size, jobs in rows for job, (index_items, accounts, requests, acted, seconds) in jobs.items()]},
            indent=2), encoding="utf-8")


def run(server, size: int, due: int):
    import boto3

    from chalicelib.composition import dependencies
    from chalicelib.domain.loyalty.account import Account, Lot
    from chalicelib.services.shops import shops
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.services.lifecycle.expiry import expire_points
    from chalicelib.services.lifecycle.expiry_warnings import send_expiry_warnings
    from chalicelib.services.lifecycle.occasions import run_occasions
    from chalicelib.store.models import Item
    from chalicelib.store.loyalty.repository import LoyaltyRepository, _lot_item, _profile_item
    from chalicelib.store.shops.shops import JobCheckpoints
    from devstack.queues import create_queues
    from devstack.tables import create_table

    table = f"loyalty-bench-{size}"
    os.environ["LOYALTY_TABLE"] = table
    os.environ["LOYALTY_SEND_QUEUE"] = f"{table}-send"
    os.environ["LOYALTY_EVENTS_QUEUE"] = f"{table}-events"
    composition.reset()
    create_table(boto3.client("dynamodb"), table)
    create_queues(boto3.client("sqs"), f"{table}-send", f"{table}-events")
    shops.put_shop(dependencies(), "bench-shop", {"platform": "shopify", "webhook_secret": "bench-secret-0123456789",
                                  "currency": "UAH", "timezone": "UTC", "sender_email": "bench@shop.example",
                                  "storefront_url": "https://shop.example"})
    shop = load_shop(dependencies(), "bench-shop")
    LoyaltyRepository("bench-shop")

    started = time.perf_counter()
    with Item.batch_write() as batch:
        for n in range(size):
            if n < due:
                expires = NOW - timedelta(days=1)
            elif n < 2 * due:
                expires = NOW + timedelta(days=30, hours=1)
            else:
                expires = NOW + timedelta(days=100 + n % 60)
            birthday = date(1990, 11, 25) if 2 * due <= n < 3 * due else date(1990, 1 + n % 12, 1 + n % 28)
            if birthday == date(1990, 11, 25) and not 2 * due <= n < 3 * due:
                birthday = date(1990, 11, 24)
            account = Account("bench-shop", f"c_{n:07d}", created_at=NOW - timedelta(days=300),
                              email=f"c{n}@example.com", marketing_consent=True, points_balance=100,
                              birthday=birthday, version=1)
            item = _profile_item("bench-shop", account)
            item.version = 1
            batch.save(item)
            batch.save(_lot_item("bench-shop", account.customer_id,
                                 Lot(f"l{n}", 100, expires - timedelta(days=180), expires, "seed")))
    print(f"seeded {size} customers in {time.perf_counter() - started:.1f} s", flush=True)
    # Steady state: the expiry job ran yesterday (its first run looks back 400 days once).
    JobCheckpoints("bench-shop").complete("expiry", (NOW - timedelta(days=1)).date().isoformat())

    jobs = {}
    for name, job, acted in (
            ("expiry", lambda: expire_points(dependencies(), "bench-shop", NOW, shop.timezone), lambda r: r.customers_expired),
            ("expiry warnings", lambda: send_expiry_warnings(dependencies(), shop, NOW), lambda r: r.warnings_queued),
            ("birthdays", lambda: run_occasions(dependencies(), shop, NOW), lambda r: r.birthdays)):
        before = Counter(server.request_counts)
        started = time.perf_counter()
        report = job()
        seconds = time.perf_counter() - started
        requests = Counter(server.request_counts) - before
        reads = sum(v for k, v in requests.items() if not k.endswith(("TransactWriteItems", "PutItem")))
        index_items = getattr(report, "index_items_read", None)
        jobs[name] = (index_items if index_items is not None else "-", report.customers_read, reads,
                      acted(report), seconds)
    boto3.client("dynamodb").delete_table(TableName=table)
    return size, jobs


if __name__ == "__main__":
    main()
