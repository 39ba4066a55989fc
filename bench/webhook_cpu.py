"""Handler CPU time per webhook, with the AWS calls answered by an emulator in another process.

    python -m bench.webhook_cpu [--orders N] [--json FILE]

The emulator (bench.emulator: requests one at a time) runs as a separate process, so ``time.process_time``
in this process counts only what the Lambda would burn: signature check,
parsing and validation, the loyalty rules, building the transaction, botocore
serializing requests and parsing answers. Waiting on the network is not CPU
time. The floor is one PutItem of the webhook's event record through the same
client (PynamoDB on botocore): what any webhook that records anything must spend.
Absolute figures are this machine's; the ratios are the point.
"""
from __future__ import annotations

import argparse
import json
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.emulator import free_port, seed_bench_shop


@contextlib.contextmanager
def emulator_process(**environment: str):
    """The emulator in its own process (its CPU is not the bench's), this process pointed at it with
    fake credentials and ``environment`` (the table, the queues, the stream flag); the endpoint."""
    process, endpoint = _start_emulator_process()
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "eu-central-1", "AWS_ENDPOINT_URL": endpoint, **environment})
    try:
        yield endpoint
    finally:
        process.kill()  # the emulator's threads do not stop on SIGTERM
        process.wait(timeout=10)


def _start_emulator_process():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.emulator", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the emulator process did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="orders per kind (default 200)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    # as deployed: the table's stream publishes the outbox, the webhook sends nothing to SQS
    with emulator_process(LOYALTY_TABLE="loyalty-cpu-bench", LOYALTY_SEND_QUEUE="cpu-bench-send",
                          LOYALTY_EVENTS_QUEUE="cpu-bench-events", LOYALTY_OUTBOX_STREAM="1"):
        rows = run(args.orders)
    floor = rows["floor: one PutItem (event record)"]["cpu_ms"]
    print(f"Handler CPU time per webhook, median of {args.orders} (emulator in another process; this machine):")
    header = f"{'delivery':36}{'CPU ms':>9}{'× floor':>9}{'wall ms':>9}"
    print(header)
    print("-" * len(header))
    for kind, row in rows.items():
        row["times_floor"] = row["cpu_ms"] / floor
        print(f"{kind:36}{row['cpu_ms']:>9.2f}{row['times_floor']:>9.1f}{row['wall_ms']:>9.1f}")
    print(f"\nPython {sys.version.split()[0]}; wall time includes local HTTP round trips to the emulator.")
    if args.json:
        args.json.write_text(json.dumps({"orders": args.orders, "rows": rows}, indent=2), encoding="utf-8")


def run(n: int) -> dict[str, dict]:
    from chalicelib.composition import dependencies
    from devstack.samples import sample_order_payload, sample_refund_payload, signed_request
    from chalicelib.services.orders import webhooks
    from chalicelib.store import keys
    from chalicelib.store.models import EventItem

    secret = seed_bench_shop("loyalty-cpu-bench", "cpu-bench-send", "cpu-bench-events")

    samples: dict[str, list[tuple[float, float]]] = {}

    def timed(kind: str, call) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        call()
        samples.setdefault(kind, []).append((time.process_time() - cpu, time.perf_counter() - wall))

    def webhook(payload: dict, topic: str, event_id: str):
        headers, body = signed_request("shopify", secret, payload, topic=topic, event_id=event_id)
        return lambda: webhooks.receive_webhook(dependencies(), "shopify", "bench-shop", headers, body, "application/json")

    for i in range(-20, n):  # the first 20 warm up imports, caches and connections
        email = f"customer{i}@example.com"
        order = sample_order_payload("shopify", order_id=f"A{i}", email=email)
        event = EventItem(keys.event_pk("bench-shop", f"floor-{i}"), "EVENT", topic="orders/paid",
                          received_at=keys.iso(dependencies().clock()))
        calls = [
            ("paid order, new customer", webhook(order, "orders/paid", f"paid-A{i}")),
            ("duplicate (same event id)", webhook(order, "orders/paid", f"paid-A{i}")),
            ("paid order, returning customer",
             webhook(sample_order_payload("shopify", order_id=f"B{i}", email=email), "orders/paid", f"paid-B{i}")),
            ("refund (refunds/create)",
             webhook(sample_refund_payload("shopify", refund_id=f"R{i}", order_id=f"A{i}"), "refunds/create",
                     f"ref-A{i}")),
            ("floor: one PutItem (event record)", event.save),
        ]
        for kind, call in calls:
            if i < 0:
                call()
            else:
                timed(kind, call)
    return {kind: {"cpu_ms": statistics.median(c for c, _ in values) * 1000,
                   "wall_ms": statistics.median(w for _, w in values) * 1000} for kind, values in samples.items()}


if __name__ == "__main__":
    main()
