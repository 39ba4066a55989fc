"""The webhook's own work alone: paid orders with their two requests answered from a recording.

    python -m bench.webhook_replay [--orders N] [--rounds R]

One paid order of a new customer goes through ``webhooks.receive_webhook`` against the emulator
(in its own process), its answers recorded: the TransactWriteItems' (botocore) and the
TransactGetItems' (the lean path, ``store/lean_requests.plain_answer``). Then N more new
customers' paid orders run with those two requests answered from the recording (a copy each, as
a request's parsed answer is new), so the CPU time (``time.process_time``) is the webhook's own
Python: the parse, the rules, the items, the glue. Prints the median and best of R rounds.

The own work without the requests' noise: no socket, no emulator and no botocore between orders,
so the Python runs hot (about 2.3× cheaper than between real requests, docs/benchmarks.md, "The
webhook's own work, fifth round"). It still moves with the machine (the same tree measured 0.78
and 1.3 ms a quarter of an hour apart): compare trees by running it in each, alternately, in one
sitting. ``bench.webhook_profile`` says where the time goes, ``bench.send_path`` what a paid order
costs against its floor.
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="paid orders a round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    from bench.webhook_cpu import emulator_process

    with emulator_process(LOYALTY_TABLE="webhook-replay", LOYALTY_SEND_QUEUE="webhook-replay-send",
                          LOYALTY_EVENTS_QUEUE="webhook-replay-events", LOYALTY_LOCAL_STACK="1",
                          LOYALTY_OUTBOX_STREAM="1"):
        replay(args.orders, args.rounds)


def replay(orders: int, rounds: int) -> None:
    import botocore.client

    from bench.emulator import seed_bench_shop
    from chalicelib.composition import dependencies
    from chalicelib.services.orders import webhooks
    from chalicelib.store import lean_requests
    from devstack.samples import sample_order_payload, signed_request

    secret = seed_bench_shop("webhook-replay", "webhook-replay-send", "webhook-replay-events")

    def paid_order(i: int):
        payload = sample_order_payload("shopify", order_id=f"N{i}", email=f"buyer{i}+news@example.com")
        headers, body = signed_request("shopify", secret, payload, topic="orders/paid", event_id=f"paid-N{i}")
        return lambda: webhooks.receive_webhook(dependencies(), "shopify", "bench-shop", headers, body,
                                                "application/json")

    for i in range(-5, 0):  # imports, caches, the kept connection
        paid_order(i)()
    answers: dict = {}
    full_call, lean_call = botocore.client.BaseClient._make_api_call, lean_requests.plain_answer

    def recorded_full(client, operation, parameters):
        answers.setdefault(operation, full_call(client, operation, parameters))
        return answers[operation]

    def recorded_lean(client, operation, parameters):
        answers.setdefault(("lean", operation), lean_call(client, operation, parameters))
        return answers[("lean", operation)]

    botocore.client.BaseClient._make_api_call, lean_requests.plain_answer = recorded_full, recorded_lean
    try:
        paid_order(0)()
        if set(answers) != {"TransactWriteItems", ("lean", "TransactGetItems")}:
            raise RuntimeError(f"a paid order made {sorted(map(str, answers))}, expected its read and its write")
        botocore.client.BaseClient._make_api_call = \
            lambda client, operation, parameters: copy.deepcopy(answers[operation])
        lean_requests.plain_answer = lambda client, operation, parameters: copy.deepcopy(answers[("lean", operation)])
        calls = [paid_order(i) for i in range(1, 1 + orders * (rounds + 1))]
        for call in calls[:orders]:  # a warm-up round
            call()
        per_order = []
        for start in range(orders, len(calls), orders):
            begun = time.process_time()
            for call in calls[start:start + orders]:
                call()
            per_order.append((time.process_time() - begun) / orders * 1e6)
        copies = [answer for answer in answers.values()]
        begun = time.process_time()
        for _ in range(orders):
            for answer in copies:
                copy.deepcopy(answer)
        copying = (time.process_time() - begun) / orders * 1e6
    finally:
        botocore.client.BaseClient._make_api_call, lean_requests.plain_answer = full_call, lean_call
    print(f"the webhook's own work, a new customer's paid order, its requests answered from a recording: "
          f"median {statistics.median(per_order):.0f} µs, best {min(per_order):.0f} µs CPU "
          f"({rounds} rounds of {orders}; the answers' copies, {copying:.0f} µs of it); "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
