"""DynamoDB requests and capacity units per webhook, counted on the wire of the local emulator.

    python -m bench.webhook_requests [--orders N] [--json FILE]

Prints, per kind of delivery, the mean number of requests of each DynamoDB
operation, the read and write units they would cost on an on-demand table
(bench.capacity: from item sizes, transactions at twice the price, index writes
counted), the SQS calls, and the handler's wall time on this machine (emulator
round trips included, so absolute times are this machine's, not Lambda's). The
floor row is the least any webhook could cost: one PutItem of the webhook's event
record through the same client. The goal for a paid order and a duplicate: one
transaction plus at most one read.

As deployed (``LOYALTY_OUTBOX_STREAM=1``), a paid order's post-purchase e-mail leaves the
outbox through the table's stream: its own row is the stream function's work for that one
message (``publish_stream_records`` with the send queue's preparation, the recommendations'
two reads and the SendMessageBatch), as the stream delivers the outbox item's INSERT.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.emulator import seed_bench_shop, start_emulator

UNIT_KEYS = ("read_units", "write_units", "index_write_units")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100, help="paid orders per kind (default 100)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--lines", type=int, default=2,
                        help="lines per order (default 2, the sample's; more repeat its lines under new ids)")
    parser.add_argument("--items", type=Path, help="write each item's size and units per delivery here "
                                                   "(python -m bench.capacity_items FILE prints them)")
    args = parser.parse_args()

    os.environ.update({"LOYALTY_TABLE": "loyalty-bench", "LOYALTY_SEND_QUEUE": "bench-send",
                       "LOYALTY_EVENTS_QUEUE": "bench-events", "LOYALTY_OUTBOX_STREAM": "1"})
    server = start_emulator(metered=True)
    items: dict[str, list[list[dict]]] = defaultdict(list)
    try:
        rows = run(server, args.orders, items, lines=args.lines)
    finally:
        server.stop()
    if args.items:
        from bench.capacity_items import summarize as summarize_items

        args.items.write_text(json.dumps({kind: summarize_items(samples) for kind, samples in items.items()},
                                         indent=2), encoding="utf-8")
    summary = summarize(rows)
    print_table(summary, args.orders)
    if args.json:
        args.json.write_text(json.dumps({"orders": args.orders, "rows": summary}, indent=2), encoding="utf-8")


def run(server, n: int, items: dict | None = None, lines: int = 2) -> dict[str, list[tuple[Counter, float]]]:
    from chalicelib.composition import dependencies
    from devstack.samples import DEFAULT_LINES, sample_refund_payload, signed_request
    from devstack.samples import sample_order_payload as sample

    order_lines = [{**DEFAULT_LINES[k % len(DEFAULT_LINES)], "id": str(k + 1),
                    "sku": f"{DEFAULT_LINES[k % len(DEFAULT_LINES)]['sku']}-{k // len(DEFAULT_LINES) or ''}".rstrip("-")}
                   for k in range(lines)] if lines != len(DEFAULT_LINES) else None

    def sample_order_payload(*args, **kwargs):
        return sample(*args, lines=order_lines, **kwargs)

    from chalicelib.services.orders import webhooks
    from chalicelib.store import keys
    from chalicelib.store.models import EventItem

    secret = seed_bench_shop("loyalty-bench", "bench-send", "bench-events")

    rows: dict[str, list[tuple[Counter, float]]] = defaultdict(list)

    def counted(kind: str, call) -> None:
        before = Counter(server.request_counts) + server.meter.snapshot()
        first_item = len(server.meter.items)
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
        if items is not None:
            items[kind].append(server.meter.items_since(first_item))
        rows[kind].append((Counter(server.request_counts) + server.meter.snapshot() - before, elapsed))

    def measure(kind: str, payload: dict, topic: str, event_id: str | None = None) -> None:
        headers, body = signed_request("shopify", secret, payload, topic=topic, event_id=event_id)
        counted(kind, lambda: webhooks.receive_webhook(dependencies(), "shopify", "bench-shop", headers, body, "application/json"))

    def publish_outbox_item(order_id: str) -> None:
        """The stream function's work for the order's post-purchase outbox item (its INSERT)."""
        from chalicelib.mail import outbox
        from chalicelib.routes.mail import _prepared
        from chalicelib.store.connection import connection

        client = connection().client
        (item,) = client.scan(TableName="loyalty-bench", FilterExpression="begins_with(pk, :outbox) AND contains(message, :key)",
                              ExpressionAttributeValues={":outbox": {"S": outbox.OUTBOX_KEY_PREFIX},
                                                         ":key": {"S": f"post_purchase:{order_id}"}})["Items"]
        record = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": item["pk"], "sk": item["sk"]}, "NewImage": item}}
        deps = dependencies()
        counted("stream: post-purchase to send queue",
                lambda: outbox.publish_stream_records(deps, [record], prepare=_prepared(deps)))
        client.delete_item(TableName="loyalty-bench", Key={"pk": item["pk"], "sk": item["sk"]})  # as the sender does

    for i in range(n):
        email = f"customer{i}@example.com"
        order = sample_order_payload("shopify", order_id=f"A{i}", email=email)
        measure("paid order, new customer", order, "orders/paid", f"paid-A{i}")
        publish_outbox_item(f"A{i}")
        measure("duplicate (same event id)", order, "orders/paid", f"paid-A{i}")
        measure("duplicate (other topic)", order, "orders/updated", f"upd-A{i}")
        measure("paid order, returning customer",
                sample_order_payload("shopify", order_id=f"B{i}", email=email), "orders/paid", f"paid-B{i}")
        measure("refund (refunds/create)", sample_refund_payload("shopify", refund_id=f"R{i}", order_id=f"A{i}"),
                "refunds/create", f"ref-A{i}")
        measure("cancellation", sample_order_payload("shopify", order_id=f"B{i}", email=email, cancelled=True),
                "orders/cancelled", f"can-B{i}")
        # The floor: the one write no webhook can do without (its event record), same client.
        event = EventItem(keys.event_pk("bench-shop", f"floor-{i}"), "EVENT", topic="orders/paid",
                          received_at=keys.iso(dependencies().clock()))
        counted("floor: one PutItem (event record)", event.save)
    return rows


def summarize(rows: dict[str, list[tuple[Counter, float]]]) -> list[dict]:
    operations = sorted({op for samples in rows.values() for counts, _ in samples for op in counts
                         if op.startswith("dynamodb:")})
    summary = []
    for kind, samples in rows.items():
        def mean(key: str) -> float:
            return sum(counts[key] for counts, _ in samples) / len(samples)

        requests = {op.split(":")[1]: mean(op) for op in operations}
        summary.append({
            "delivery": kind,
            "requests": requests,
            "dynamodb_requests": sum(requests.values()),
            **{key: mean(key) for key in UNIT_KEYS},
            "sqs_requests": sum(mean(op) for op in {o for c, _ in samples for o in c if o.startswith("sqs:")}),
            "ms_median": statistics.median(elapsed for _, elapsed in samples) * 1000,
        })
    return summary


def print_table(summary: list[dict], n: int) -> None:
    operations = list(summary[0]["requests"]) if summary else []
    header = (f"{'delivery':36}" + "".join(f"{name:>19}" for name in operations)
              + f"{'requests':>9}{'RRU':>7}{'WRU':>7}{'index WRU':>10}{'SQS':>5}{'ms (median)':>12}")
    print(f"DynamoDB requests and capacity units per webhook, mean of {n} each (counted at the emulator):")
    print(header)
    print("-" * len(header))
    for row in summary:
        print(f"{row['delivery']:36}" + "".join(f"{row['requests'][op]:>19.2f}" for op in operations)
              + f"{row['dynamodb_requests']:>9.2f}{row['read_units']:>7.1f}{row['write_units']:>7.1f}"
              + f"{row['index_write_units']:>10.1f}{row['sqs_requests']:>5.1f}{row['ms_median']:>12.1f}")
    print("\nRRU/WRU: on-demand read/write request units from item sizes (bench.capacity); index WRU: global "
          "secondary index writes. Times include local emulator round trips (this machine).")


if __name__ == "__main__":
    main()
