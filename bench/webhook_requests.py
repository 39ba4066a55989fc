"""DynamoDB requests per webhook, counted on the wire of the local emulator.

    python -m bench.webhook_requests [--orders N]

Prints, per kind of delivery, the mean number of requests of each DynamoDB
operation and the handler's wall time on this machine (emulator round trips
included, so absolute times are this machine's, not Lambda's). The goal for a
paid order and a duplicate: one transaction plus at most one read.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter, defaultdict

from bench.emulator import start_emulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100, help="paid orders per kind (default 100)")
    args = parser.parse_args()

    os.environ["LOYALTY_TABLE"] = "loyalty-bench"
    server = start_emulator()
    try:
        rows = run(server, args.orders)
    finally:
        server.stop()
    print_table(rows, args.orders)


def run(server, n: int) -> dict[str, list[tuple[Counter, float]]]:
    import boto3

    from chalicelib.platforms.samples import sample_order_payload, sample_refund_payload, signed_request
    from chalicelib.services import shops, webhooks
    from devstack.tables import create_table

    create_table(boto3.client("dynamodb"), "loyalty-bench")
    secret = "bench-secret-0123456789"
    shops.put_shop("bench-shop", {"platform": "shopify", "webhook_secret": secret, "currency": "UAH",
                                  "sender_email": "bench@shop.example", "storefront_url": "https://shop.example",
                                  "program": {"cashback_percent": "2"}})
    shops.load_shop("bench-shop")  # a warm container has the shop cached

    rows: dict[str, list[tuple[Counter, float]]] = defaultdict(list)

    def measure(kind: str, payload: dict, topic: str, event_id: str | None = None) -> None:
        headers, body = signed_request("shopify", secret, payload, topic=topic, event_id=event_id)
        before = Counter(server.request_counts)
        started = time.perf_counter()
        webhooks.receive_webhook("shopify", "bench-shop", headers, body, "application/json")
        elapsed = time.perf_counter() - started
        rows[kind].append((Counter(server.request_counts) - before, elapsed))

    for i in range(n):
        email = f"customer{i}@example.com"
        order = sample_order_payload("shopify", order_id=f"A{i}", email=email)
        measure("paid order, new customer", order, "orders/paid", f"paid-A{i}")
        measure("duplicate (same event id)", order, "orders/paid", f"paid-A{i}")
        measure("duplicate (other topic)", order, "orders/updated", f"upd-A{i}")
        measure("paid order, returning customer",
                sample_order_payload("shopify", order_id=f"B{i}", email=email), "orders/paid", f"paid-B{i}")
        measure("refund (refunds/create)", sample_refund_payload("shopify", refund_id=f"R{i}", order_id=f"A{i}"),
                "refunds/create", f"ref-A{i}")
        measure("cancellation", sample_order_payload("shopify", order_id=f"B{i}", email=email, cancelled=True),
                "orders/cancelled", f"can-B{i}")
    return rows


def print_table(rows: dict[str, list[tuple[Counter, float]]], n: int) -> None:
    operations = sorted({op for samples in rows.values() for counts, _ in samples for op in counts})
    short = [op.split(":")[1] for op in operations]
    header = f"{'delivery':34}" + "".join(f"{name:>20}" for name in short) + f"{'requests':>10}{'ms (median)':>13}"
    print(f"DynamoDB requests per webhook, mean of {n} each (counted at the emulator):")
    print(header)
    print("-" * len(header))
    for kind, samples in rows.items():
        means = [sum(counts[op] for counts, _ in samples) / len(samples) for op in operations]
        total = sum(means)
        median_ms = statistics.median(elapsed for _, elapsed in samples) * 1000
        print(f"{kind:34}" + "".join(f"{m:>20.2f}" for m in means) + f"{total:>10.2f}{median_ms:>13.1f}")
    print("\nReads are TransactGetItems / GetItem / Query; writes are TransactWriteItems. "
          "Times include local emulator round trips (this machine).")


if __name__ == "__main__":
    main()
