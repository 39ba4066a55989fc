"""What 1,000 flow steps cost: AWS requests by operation and CPU time of the scheduler.

    python -m bench.flow_steps [--customers N] [--json FILE]

N first-time customers order (webhooks, not measured), which starts the shipped
second-purchase flow for each; then the schedule is measured at two moments: right away
(N wait steps) and 14 days later (N condition steps and N send steps, each send with its
single-use code and its outbox item). Requests are counted on the client (every botocore
call of this process); CPU is ``time.process_time`` of this process with the emulator in
another one (bench.emulator), so the emulator's work is not counted. The send itself (the
send queue's consumer, SES) is the send path's cost, measured in bench.webhook_cpu/campaign.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.emulator import seed_bench_shop
from bench.webhook_cpu import emulator_process

_calls: Counter = Counter()


def _count_calls() -> None:
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        _calls[f"{self.meta.service_model.service_name}.{operation_name}"] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with emulator_process(LOYALTY_TABLE="loyalty-flow-bench", LOYALTY_SEND_QUEUE="flow-bench-send",
                          LOYALTY_EVENTS_QUEUE="flow-bench-events", LOYALTY_LOCAL_STACK="1"):
        figures = run(args.customers)
    print(f"Flow steps: {args.customers} customers through the second-purchase flow "
          f"(emulator in another process; CPU of this machine)")
    for phase in figures["phases"]:
        print(f"  {phase['label']:<34} {phase['steps']:>5} steps  {phase['cpu_ms_per_step']:6.2f} ms CPU/step  "
              f"requests/step: {phase['requests_per_step']}")
    total = figures["per_1000_steps"]
    print(f"Per 1,000 steps: {total['requests']} requests "
          f"({total['by_operation']}), {total['cpu_seconds']:.2f} s CPU")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


def run(customers: int) -> dict:
    from chalicelib.composition import dependencies
    from chalicelib.services.flows import definitions
    from chalicelib.services.flows.runner import run_due_flows
    from chalicelib.services.orders import webhooks
    from chalicelib.services.shops.lookup import load_shop
    from devstack.samples import sample_order_payload, signed_request

    secret = seed_bench_shop("loyalty-flow-bench", "flow-bench-send", "flow-bench-events")
    deps = dependencies()
    flow = definitions.get_flow(deps, "bench-shop", "second-purchase")
    definitions.put_flow(deps, "bench-shop", "second-purchase", {**flow, "enabled": True}, 0)
    start = deps.clock()
    for i in range(customers):
        payload = sample_order_payload("shopify", order_id=f"F{i}", email=f"flow{i}@example.com", created_at=start)
        headers, body = signed_request("shopify", secret, payload, topic="orders/paid")
        webhooks.receive_webhook(deps, "shopify", "bench-shop", headers, body, "application/json")
    shop = load_shop(deps, "bench-shop")
    _count_calls()
    phases, all_calls, all_cpu, all_steps = [], Counter(), 0.0, 0
    for label, at in (("day 0: the waits", start + timedelta(minutes=1)),
                      ("day 14: conditions and sends", start + timedelta(days=14, minutes=2))):
        _calls.clear()
        cpu = time.process_time()
        report = run_due_flows(deps, [shop], at, limit_per_shop=customers * 2)
        spent = time.process_time() - cpu
        steps = report["steps"]
        calls = Counter(_calls)
        phases.append({"label": label, "steps": steps, "report": report, "cpu_ms_per_step": 1000 * spent / steps,
                       "requests_per_step": {op: round(n / steps, 2) for op, n in sorted(calls.items())}})
        all_calls += calls
        all_cpu += spent
        all_steps += steps
    return {"customers": customers, "phases": phases, "per_1000_steps": {
        "steps": all_steps, "requests": round(sum(all_calls.values()) * 1000 / all_steps),
        "by_operation": {op: round(n * 1000 / all_steps) for op, n in sorted(all_calls.items())},
        "cpu_seconds": round(all_cpu * 1000 / all_steps, 3)}, "python": sys.version.split()[0]}


if __name__ == "__main__":
    main()
