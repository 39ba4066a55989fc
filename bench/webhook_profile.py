"""Where a paid order's CPU goes, with botocore's requests set apart from the webhook's own work.

    python -m bench.webhook_profile [--orders N] [--lines L] [--dump FILE]

The emulator runs in its own process (as ``bench.send_path``); paid orders go through
``webhooks.receive_webhook``, half from new customers, half from returning ones (the same e-mail
again), in three rounds of fresh orders, CPU time (``time.process_time``) throughout:

1. as they run: the medians per kind;
2. the parts (``SECTIONS``) timed by wrappers, each part's time less the parts and requests inside
   it; every AWS request goes through ``botocore.client.BaseClient._make_api_call`` (PynamoDB's
   client too), so a request's serialising, signing, urllib3 and parsing is one part per operation;
   the read on the lean path (``store/lean_requests.py`` ``plain_answer``: body, signature, post on the
   kept connection, answer) is a request part too,
   and the webhook's own work is all the rest;
3. cProfile of the webhook's own work: the profiler is off while a request runs, so the top
   functions by own time and the Python calls per order are the webhook's own (the calls, which no
   load changes, are the steadiest figure on a shared machine; cProfile inflates the times).
"""
from __future__ import annotations

import argparse
import os
import pstats
import statistics
import time

# Sections timed in the un-profiled orders: (label, module, attribute); a section's time excludes the
# sections and requests it encloses, and "the webhook's glue" is what receive_webhook spends outside them.
SECTIONS = (
    ("the platform parse (signature, strict JSON, pydantic, mapping)", "chalicelib.platforms", "parse_webhook"),
    ("the shop (cached) and its webhook context", "chalicelib.services.orders.webhooks", "load_shop"),
    ("the read's keys and mapping its items", "chalicelib.store.loyalty.repository",
     "LoyaltyRepository.load_for_order"),
    # the read's request on the lean path (signed JSON on a kept connection, not botocore)
    ("lean path: the TransactGetItems (body, signature, post, answer)", "chalicelib.store.lean_requests",
     "plain_answer"),
    ("the loyalty rules (apply_order)", "chalicelib.services.loyalty.ledger", "apply_order"),
    ("the program's effects (order_effects)", "chalicelib.services.loyalty.ledger", "order_effects"),
    ("the post-purchase message", "chalicelib.services.loyalty.ledger", "post_purchase_message"),
    ("the purchase items", "chalicelib.services.loyalty.ledger", "purchase_items"),
    ("building the transaction's items (commit, less its request)", "chalicelib.store.loyalty.repository",
     "LoyaltyRepository.commit"),
    ("the outbox publish after the commit (stream on: nothing sent)", "chalicelib.mail.outbox", "publish"),
    ("flows triggered by the order", "chalicelib.services.flows.triggers", "after_order"),
    ("webhook health and metrics", "chalicelib.services.orders.webhooks", "note_delivery"),
    ("webhook health and metrics", "chalicelib.services.orders.webhooks", "record_webhook_metric"),
)
GLUE = "the rest: log context, the webhook's and the ledger's glue, retries wrapper"


class Sections:
    """Exclusive CPU time per section: a section's time less the sections timed inside it."""

    def __init__(self):
        self.stack: list[list] = []
        self.spent: dict[str, float] = {}

    def timed(self, label: str, function):
        sections = self

        def wrapper(*args, **kwargs):
            sections.stack.append([label, time.process_time(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                name, start, inner = sections.stack.pop()
                elapsed = time.process_time() - start
                sections.spent[name] = sections.spent.get(name, 0.0) + elapsed - inner
                if sections.stack:
                    sections.stack[-1][2] += elapsed

        return wrapper

    def install(self) -> None:
        import importlib

        import botocore.client

        self.originals = []
        for label, module_name, attribute in SECTIONS:
            owner = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part)
            self.originals.append((owner, name, getattr(owner, name)))
            setattr(owner, name, self.timed(label, getattr(owner, name)))
        original = botocore.client.BaseClient._make_api_call
        self.originals.append((botocore.client.BaseClient, "_make_api_call", original))

        def request(client, operation_name, api_params):
            return self.timed(f"botocore + urllib3: the {operation_name}", original)(client, operation_name,
                                                                                      api_params)

        botocore.client.BaseClient._make_api_call = request

    def uninstall(self) -> None:
        for owner, name, original in reversed(self.originals):
            setattr(owner, name, original)


_ACTIVE: dict = {"profiler": None}


def _requests_outside_the_profile() -> None:
    """Each AWS request (botocore's or the lean path's) runs with the profiler off: the profile holds
    the webhook's own work only."""
    import botocore.client

    from chalicelib.store import lean_requests

    botocore.client.BaseClient._make_api_call = _unprofiled(botocore.client.BaseClient._make_api_call)
    lean_requests.plain_answer = _unprofiled(lean_requests.plain_answer)


def _unprofiled(request):
    """``request`` (client, operation name, parameters) with the active profiler off while it runs."""
    def unprofiled(client, operation_name, parameters):
        profiler = _ACTIVE["profiler"]
        if profiler is None:
            return request(client, operation_name, parameters)
        profiler.disable()
        try:
            return request(client, operation_name, parameters)
        finally:
            profiler.enable()

    return unprofiled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="paid orders profiled (half returning customers)")
    parser.add_argument("--lines", type=int, default=45)
    parser.add_argument("--dump", help="write the pstats file here")
    args = parser.parse_args()

    from bench.webhook_cpu import emulator_process

    with emulator_process(LOYALTY_TABLE="webhook-profile", LOYALTY_SEND_QUEUE="webhook-profile-send",
                          LOYALTY_EVENTS_QUEUE="webhook-profile-events", LOYALTY_LOCAL_STACK="1",
                          LOYALTY_OUTBOX_STREAM="1"):
        profile(args.orders, args.lines, args.dump)


def profile(orders: int, lines: int, dump: str | None) -> None:
    import cProfile

    from bench.emulator import seed_bench_shop
    from chalicelib.composition import dependencies
    from chalicelib.services.orders import webhooks
    from devstack.samples import sample_order_payload, signed_request

    secret = seed_bench_shop("webhook-profile", "webhook-profile-send", "webhook-profile-events")

    def delivery(i: int, returning: bool):
        email = f"buyer{i}+news@example.com"
        order_id = f"R{i}" if returning else f"N{i}"
        payload = sample_order_payload("shopify", order_id=order_id, email=email)
        headers, body = signed_request("shopify", secret, payload, topic="orders/paid", event_id=f"paid-{order_id}")
        return lambda: webhooks.receive_webhook(dependencies(), "shopify", "bench-shop", headers, body,
                                                "application/json")

    # 1. un-profiled and un-instrumented: warm-up, then the medians per kind
    plain: dict[str, list[float]] = {"new": [], "returning": []}
    for i in range(-10, orders // 2):
        for kind in ("new", "returning"):
            call = delivery(i, kind == "returning")
            start = time.process_time()
            call()
            if i >= 0:
                plain[kind].append(time.process_time() - start)
    n = orders // 2
    print(f"CPU ms a paid order (no profiler, no wrappers), {n} each: new customer median "
          f"{statistics.median(plain['new']) * 1000:.2f}, returning median "
          f"{statistics.median(plain['returning']) * 1000:.2f}; load average {os.getloadavg()[0]:.1f}\n")

    # 2. the sections timed (wrappers, no profiler): the parts' means per kind
    sections = Sections()
    sections.install()
    receive = sections.timed(GLUE, lambda call: call())
    parts: dict[str, dict[str, float]] = {"new": {}, "returning": {}}
    for i in range(1_000, 1_000 + n):
        for kind in ("new", "returning"):
            sections.spent = {}
            receive(delivery(i, kind == "returning"))
            for label, seconds in sections.spent.items():
                parts[kind][label] = parts[kind].get(label, 0.0) + seconds
    sections.uninstall()
    print("| part (means, CPU ms; sections timed by wrappers, whose own cost lands in the rest) "
          "| new customer | returning | share (new) |")
    print("|---|---|---|---|")
    total_new = sum(parts["new"].values())
    labels = sorted(set(parts["new"]) | set(parts["returning"]), key=lambda label: -parts["new"].get(label, 0.0))
    for label in labels:
        print(f"| {label} | {parts['new'].get(label, 0.0) / n * 1000:.2f} | "
              f"{parts['returning'].get(label, 0.0) / n * 1000:.2f} | {parts['new'].get(label, 0.0) / total_new:.0%} |")
    own = {kind: sum(v for label, v in parts[kind].items() if not label.startswith(("botocore", "lean path"))) / n
           * 1000 for kind in parts}
    print(f"| **the webhook's own work (all but the requests)** | {own['new']:.2f} | {own['returning']:.2f} | "
          f"{own['new'] / (total_new / n * 1000):.0%} |\n")

    # 3. profiled, the requests left out: where the webhook's own work goes, function by function
    _requests_outside_the_profile()
    profiler = cProfile.Profile(time.process_time)
    calls = [delivery(i, returning) for i in range(10_000, 10_000 + orders // 2) for returning in (False, True)]
    _ACTIVE["profiler"] = profiler
    for call in calls:
        profiler.enable()
        call()
        profiler.disable()
    _ACTIVE["profiler"] = None
    stats = pstats.Stats(profiler)
    if dump:
        stats.dump_stats(dump)
    report(stats, len(calls), lines)


def report(stats: pstats.Stats, orders: int, lines: int) -> None:
    own = stats.total_tt
    calls_total = sum(row[1] for row in stats.stats.values())
    print(f"cProfile of {orders} paid orders (half returning), requests not profiled: the webhook's own work "
          f"{own / orders * 1000:.2f} ms (inflated by the profiler) in {calls_total / orders:.0f} Python calls a paid order\n")
    print("Top functions by own time (per order):")
    print(f"{'µs':>8} {'calls':>7}  function")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:lines]
    for (file, line, name), (_, ncalls, tottime, _, _) in rows:
        print(f"{tottime / orders * 1e6:8.1f} {ncalls / orders:7.1f}  {_short(file)}:{line} {name}")


def _short(file: str) -> str:
    for marker in ("site-packages/", "/chalicelib/", "/lib/python"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


if __name__ == "__main__":
    main()
