"""The send path's five figures, in CPU time, with the emulator in its own process.

    python -m bench.send_path [--orders N] [--json]
    python -m bench.send_path --compare-with REV [--orders N]     # before/after, one run
    python -m bench.send_path --profile [--orders N]              # where the send handler's CPU goes
    BENCH_PROFILE_DUMP=FILE python -m bench.send_path --profile 1; python -m bench.send_path_shares FILE

``--json`` prints one line::

    {"webhook_cpu_vs_floor", "mime_vs_render", "requests_per_email", "cpu_ms_per_email", "import_app_vs_boto3"}

- webhook_cpu_vs_floor: a paid order's webhook (new customer), CPU time, over the floor: the HMAC
  check, ``json.loads`` of the same body and one TransactWriteItems with the very items the
  webhook's own transaction wrote (captured from it, replayed on a twin table), nothing else,
  through the same botocore client as the webhook's (PynamoDB's: parameter validation off).
- mime_vs_render: ``build_message`` over the render (post_purchase, HTML and text, Jinja on the
  cached compiled MJML) for the same recipients.
- requests_per_email, cpu_ms_per_email: the send queue's handler for the e-mails those orders owe,
  in batches of 10 as the Lambda gets them (``send_consumer.deliver_record`` per message, then the
  batch's ``finish_batch``), SES stubbed (the stub returns an id) behind the shared rate limiter as
  deployed (mail/rate_limit.py, at ``ses_max_send_rate``: 14/s by default, ``LOYALTY_SES_MAX_SEND_RATE``
  to change it; its waits are sleeps, not CPU): DynamoDB requests, the limiter's included, counted
  at the botocore client and on the lean path (store/lean_requests.py: each try is one request;
  ``lean_tries_per_email`` and ``limiter_requests_per_email`` in the detail), CPU time of the whole
  batch, per e-mail.
- import_app_vs_boto3: CPU time of ``import app`` over ``import boto3``, each in a fresh
  interpreter, median of 5.

CPU time (``time.process_time``) is what a Lambda is billed for on a busy machine; wall time on a
shared 2-core machine measures the neighbours. ``--compare-with REV`` checks REV out into a
temporary git worktree, copies this file and the emulator (bench/emulator.py, devstack/emulator.py)
there and runs both trees in turn, the same number of times, so the before and after come from one
run on one machine against the same emulator.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIGURES = ("webhook_cpu_vs_floor", "mime_vs_render", "requests_per_email", "cpu_ms_per_email",
           "import_app_vs_boto3")
GOALS = {"webhook_cpu_vs_floor": 1.5, "mime_vs_render": 2.0, "requests_per_email": 2.0, "cpu_ms_per_email": 4.0,
         "import_app_vs_boto3": 1.5}
# what --detail prints and --compare-with tabulates besides the five figures
WEBHOOK_DETAIL = ("webhook_cpu_ms", "floor_cpu_ms", "floor_plain_client_cpu_ms", "webhook_cpu_vs_plain_client_floor")
SEND_DETAIL = ("limiter_requests_per_email", "lean_tries_per_email")  # of requests_per_email
_ROOT = Path(__file__).resolve().parent.parent


class _Calls:
    """AWS API calls made in this process, counted at botocore (PynamoDB and boto3 both go there)."""

    def __init__(self):
        import botocore.client

        self.counts: dict[str, int] = {}
        self.captured: dict[str, list] = {}
        self.capture: set[str] = set()
        self.lean = 0  # of them, sent on the lean path
        original = botocore.client.BaseClient._make_api_call
        calls = self

        def counted(client, operation_name, api_params):
            service = client.meta.service_model.service_name
            calls.counts[f"{service}.{operation_name}"] = calls.counts.get(f"{service}.{operation_name}", 0) + 1
            if operation_name in calls.capture:
                # the request itself: copied by the caller once the timing is over (a deep copy here
                # would be counted in the webhook's CPU and not in the floor's)
                calls.captured.setdefault(operation_name, []).append(api_params)
            return original(client, operation_name, api_params)

        botocore.client.BaseClient._make_api_call = counted
        try:  # the send path's lean requests (store/lean_requests.py): each try is one HTTP request
            from chalicelib.store import lean_requests
        except ImportError:  # a tree before it
            return
        lean = lean_requests.plain_answer

        def counted_lean(client, operation_name, parameters):
            calls.counts[f"dynamodb.{operation_name}"] = calls.counts.get(f"dynamodb.{operation_name}", 0) + 1
            calls.lean += 1
            if operation_name in calls.capture:
                calls.captured.setdefault(operation_name, []).append(parameters)
            return lean(client, operation_name, parameters)

        lean_requests.plain_answer = counted_lean

    def dynamodb(self) -> int:
        return sum(n for name, n in self.counts.items() if name.startswith("dynamodb."))


def _cpu(call) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


_PROFILE: dict = {"on": False, "profiler": None}


def measure(orders: int) -> dict:
    from bench.webhook_cpu import emulator_process

    # as deployed: the table's stream publishes the outbox (a tree without it ignores this)
    with emulator_process(LOYALTY_TABLE="send-path-bench", LOYALTY_SEND_QUEUE="send-path-send",
                          LOYALTY_EVENTS_QUEUE="send-path-events", LOYALTY_LOCAL_STACK="1",
                          LOYALTY_OUTBOX_STREAM="1"):
        figures = _measure_on(orders)
    figures.update(_import_ratio())
    return figures


def _measure_on(orders: int) -> dict:
    import boto3

    from bench.emulator import seed_bench_shop
    from chalicelib.composition import dependencies, use
    from chalicelib.services.orders import webhooks
    from devstack.samples import sample_order_payload, signed_request
    from devstack.tables import create_table

    calls = _Calls()
    secret = seed_bench_shop("send-path-bench", "send-path-send", "send-path-events")
    twin, plain_twin = "send-path-bench-floor", "send-path-bench-floor-plain"
    seed_twin = boto3.client("dynamodb")
    for table in (twin, plain_twin):
        create_table(seed_twin, table)
        for page in seed_twin.get_paginator("scan").paginate(TableName="send-path-bench"):
            for item in page["Items"]:
                seed_twin.put_item(TableName=table, Item=item)
    # The floor's request goes through the webhook's own client (PynamoDB's botocore client: its
    # configuration, parameter validation off among it), so both sides pay botocore alike. Until
    # 2026-12-07 it went through a default boto3 client (parameter validation on), which made the
    # floor dearer: that variant is kept as a detail (``floor_plain_client_cpu_ms``).
    low_level, plain_client = _webhook_client(), boto3.client("dynamodb")
    calls.capture = {"TransactWriteItems"}

    webhook_cpu, floor_cpu, plain_floor_cpu = [], [], []
    for i in range(-10, orders):  # the first ten warm imports, caches and connections
        payload = sample_order_payload("shopify", order_id=f"S{i}", email=f"buyer{i}+news@example.com")
        headers, body = signed_request("shopify", secret, payload, topic="orders/paid", event_id=f"paid-S{i}")
        calls.captured.clear()
        spent = _cpu(lambda: webhooks.receive_webhook(dependencies(), "shopify", "bench-shop", headers, body,
                                                      "application/json"))
        written = calls.captured.get("TransactWriteItems", [])
        if len(written) != 1:
            raise RuntimeError(f"a paid order wrote {len(written)} transactions, expected one")
        replays = {client: _on_table(written[0], table)  # deep copies
                   for client, table in ((low_level, twin), (plain_client, plain_twin))}
        signature = headers.get("X-Shopify-Hmac-Sha256") or headers.get("x-shopify-hmac-sha256")

        def floor(client):
            import base64

            digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(digest, signature):
                raise RuntimeError("floor: signature mismatch")
            json.loads(body)
            client.transact_write_items(**replays[client])

        floor_spent = _cpu(lambda: floor(low_level))
        plain_spent = _cpu(lambda: floor(plain_client))
        if i >= 0:
            webhook_cpu.append(spent)
            floor_cpu.append(floor_spent)
            plain_floor_cpu.append(plain_spent)
    calls.capture = set()

    messages = _drain_send_queue()
    if not messages:  # the stream publishes on AWS; here the sweeper hands the outbox to the queue
        from datetime import timedelta

        from chalicelib.mail import outbox

        outbox.republish_lingering(dependencies(), dependencies().clock() + timedelta(minutes=10))
        messages = _drain_send_queue()
    from chalicelib.mail.messenger import Messenger  # noqa: F401  (the stub below speaks its protocol)
    from chalicelib.services.mail import send_consumer

    class StubSes:
        sent = 0

        def send_raw(self, *, sender, recipient, raw, configuration_set, tags):
            StubSes.sent += 1
            return f"stub-{StubSes.sent}"

    deps = use(messenger=_rate_limited(StubSes(), dependencies().config.ses_max_send_rate))
    _warm_templates(deps)
    email_cpu, email_requests, email_lean, email_limiter, statuses = [], [], [], [], {}
    batches = [messages[n:n + _BATCH] for n in range(0, len(messages), _BATCH)]
    profiler = None
    if _PROFILE["on"]:
        import cProfile

        profiler = _PROFILE["profiler"] = cProfile.Profile(time.process_time)
    for n, batch in enumerate(batches):
        before, lean_before = calls.dynamodb(), calls.lean
        limiter_before = _LIMITER_TAKES[0]
        if profiler is not None and n >= 1:
            profiler.enable()
        start = time.process_time()
        results = _send_batch(deps, send_consumer, batch)
        spent = time.process_time() - start
        if profiler is not None:
            profiler.disable()
        for result in results:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        if n >= 1:  # the first batch warms the template caches
            email_cpu.append(spent / len(batch))
            email_requests.append((calls.dynamodb() - before) / len(batch))
            email_lean.append((calls.lean - lean_before) / len(batch))
            email_limiter.append((_LIMITER_TAKES[0] - limiter_before) / len(batch))
    if statuses.get("sent", 0) != len(messages):
        raise RuntimeError(f"not every e-mail was sent: {statuses}")

    mime, render = _mime_and_render(orders)
    return {
        "webhook_cpu_vs_floor": statistics.median(webhook_cpu) / statistics.median(floor_cpu),
        "mime_vs_render": mime / render,
        "requests_per_email": statistics.mean(email_requests),
        "cpu_ms_per_email": statistics.median(email_cpu) * 1000,
        "detail": {"webhook_cpu_ms": statistics.median(webhook_cpu) * 1000,
                   "floor_cpu_ms": statistics.median(floor_cpu) * 1000,
                   "floor_plain_client_cpu_ms": statistics.median(plain_floor_cpu) * 1000,
                   "webhook_cpu_vs_plain_client_floor": statistics.median(webhook_cpu)
                   / statistics.median(plain_floor_cpu),
                   "mime_ms": mime * 1000, "render_ms": render * 1000, "emails": len(email_cpu),
                   "lean_tries_per_email": statistics.mean(email_lean),
                   "limiter_requests_per_email": statistics.mean(email_limiter)},
    }


def _rate_limited(ses, rate: float):
    """The stub behind the shared SES rate limiter, as production sends (composition.build): its
    DynamoDB requests are counted in requests_per_email and its CPU in cpu_ms_per_email. A tree
    before the batch's reservation takes one slot a request (``take_slot_in_dynamodb``)."""
    from chalicelib.mail import rate_limit

    take = getattr(rate_limit, "take_slots_in_dynamodb", None) or rate_limit.take_slot_in_dynamodb

    def counted(*args):
        _LIMITER_TAKES[0] += 1  # one UpdateItem each
        return take(*args)

    return rate_limit.RateLimitedMessenger(ses, counted, rate=rate)


_LIMITER_TAKES = [0]


def _webhook_client():
    """The botocore client the webhook's own transaction goes through (PynamoDB's connection)."""
    from chalicelib.store.models import Item

    return Item._get_connection().connection.client


_BATCH = 10  # the send queue's batch_size (chalicelib/routes/mail.py)


def _send_batch(deps, send_consumer, bodies: list[str]) -> list[dict]:
    """One batch as the send queue's Lambda handler takes it: each message, then the batch's final
    write (``finish_batch``); a tree without batch finals sends message by message."""
    from chalice.app import SQSRecord

    finals = None
    if hasattr(send_consumer, "BatchFinals"):
        try:  # its size: the rate limiter's hint (a tree before it has none)
            finals = send_consumer.BatchFinals(len(bodies))
        except TypeError:
            finals = send_consumer.BatchFinals()
    results = []
    for n, body in enumerate(bodies):
        if finals is None:
            results.append(send_consumer.deliver(deps, body))
            continue
        record = SQSRecord({"messageId": f"bench-{n}", "receiptHandle": f"bench-{n}", "body": body,
                            "attributes": {"ApproximateReceiveCount": "1"}}, None)
        results.append(send_consumer.deliver_record(deps, record, finals))
    if finals is not None:
        response = send_consumer.finish_batch(deps, finals, {"batchItemFailures": []})
        if response["batchItemFailures"]:
            raise RuntimeError(f"final writes failed: {response}")
    return results


def _warm_templates(deps) -> None:
    """Compile the post-purchase template once per locale before anything is timed: on a loaded
    machine the first, cold render can pass the sandbox's 1 s wall-clock budget and be recorded as
    a template failure (a warm Lambda container has it compiled already)."""
    from chalicelib.mail.rendering import sample_context
    from chalicelib.services.templates.templates import template_set_for

    templates = template_set_for(deps, "bench-shop")
    for locale in ("uk", "en"):
        for _ in range(5):
            try:
                templates.render("post_purchase", locale, sample_context("post_purchase", locale))
                break
            except Exception:  # over the budget while cold: once compiled it renders in a millisecond
                continue


def _on_table(request: dict, table: str) -> dict:
    replay = copy.deepcopy(request)
    for entry in replay["TransactItems"]:
        for action in entry.values():
            action["TableName"] = table
    replay.pop("ClientRequestToken", None)
    return replay


def _drain_send_queue() -> list[str]:
    from chalicelib.composition import dependencies

    queue = dependencies().send_queue
    client = queue._client
    bodies: list[str] = []
    while True:
        answer = client.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        batch = answer.get("Messages", [])
        if not batch:
            return bodies
        for message in batch:
            bodies.append(message["Body"])
            client.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])


def _mime_and_render(count: int) -> tuple[float, float]:
    """Seconds per recipient: building the MIME, and the render it wraps (best of three rounds)."""
    from datetime import datetime, timezone

    from bench.render import recipients
    from chalicelib.mail.mime import ListUnsubscribe, build_message
    from chalicelib.mail.rendering import TemplateSet

    templates = TemplateSet()
    contexts = recipients("uk", max(count, 50))
    now = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
    rendered = [templates.render("post_purchase", "uk", context) for context in contexts[:5]]  # warm
    best_render = best_mime = float("inf")
    for _ in range(3):
        start = time.process_time()
        rendered = [templates.render("post_purchase", "uk", context) for context in contexts]
        best_render = min(best_render, (time.process_time() - start) / len(contexts))
        start = time.process_time()
        for n, message in enumerate(rendered):
            build_message(from_name="Кавова лавка", from_address="hello@shop.example",
                          to_address=f"buyer{n}+news@example.com", subject=message.subject, html=message.html,
                          text=message.text, now=now,
                          list_unsubscribe=ListUnsubscribe(f"https://api.example/u/token{n}",
                                                           f"mailto:unsub@shop.example?subject=unsubscribe%20t{n}"))
        best_mime = min(best_mime, (time.process_time() - start) / len(rendered))
    return best_mime, best_render


_IMPORT_PROBE = ("import time; start = time.process_time(); import {module}; "
                 "print(time.process_time() - start)")


def _import_ratio(runs: int = 5) -> dict:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}

    def cpu(module: str) -> float:
        out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE.format(module=module)], cwd=os.getcwd(),
                             capture_output=True, text=True, check=True, env=env).stdout
        return float(out.strip().splitlines()[-1])

    cpu("app"), cpu("boto3")  # bytecode caches written
    app_cpu = statistics.median(cpu("app") for _ in range(runs))
    boto3_cpu = statistics.median(cpu("boto3") for _ in range(runs))
    return {"import_app_vs_boto3": app_cpu / boto3_cpu,
            "import_detail": {"app_cpu_ms": app_cpu * 1000, "boto3_cpu_ms": boto3_cpu * 1000}}


def compare(rev: str, orders: int, rounds: int) -> None:
    """Before (REV, in a temporary worktree) and after (this tree), alternating, in one run."""
    base = Path(tempfile.mkdtemp(prefix="send-path-before-"))
    subprocess.run(["git", "-C", str(_ROOT), "worktree", "add", "--detach", str(base), rev], check=True,
                   capture_output=True)
    try:
        # the same bench and the same emulator (devstack/emulator.py: keep-alive) measure both trees
        for shared in ("bench/send_path.py", "bench/webhook_cpu.py", "bench/emulator.py", "devstack/emulator.py"):
            (base / shared).write_text((_ROOT / shared).read_text(encoding="utf-8"), encoding="utf-8")
        results: dict[str, list[dict]] = {"before": [], "after": []}
        for _ in range(rounds):
            for label, tree in (("before", base), ("after", _ROOT)):
                out = subprocess.run([sys.executable, "-m", "bench.send_path", "--json", "--detail", "--orders",
                                      str(orders)], cwd=tree, capture_output=True, text=True)
                if out.returncode:
                    raise RuntimeError(f"{label} run failed:\n{out.stderr[-3000:]}")
                figures_line, detail_line = out.stdout.strip().splitlines()[-2:]
                results[label].append({**json.loads(figures_line), **json.loads(detail_line)["detail"]})
        load = os.getloadavg()
        print(f"Before: {rev} ({_short(rev)}); after: this tree ({_short('HEAD')} + working changes). "
              f"Median of {rounds} alternating runs, {orders} orders each; load average {load[0]:.2f}, "
              f"{os.cpu_count()} CPUs.\n")
        def medians(name: str, digits: int = 2) -> str:
            return " | ".join(f"{statistics.median(r[name] for r in results[label]):.{digits}f}"
                              for label in ("before", "after"))

        print("| figure | before | after | goal |")
        print("|---|---|---|---|")
        for figure in FIGURES:
            print(f"| {figure} | {medians(figure)} | ≤ {GOALS[figure]} |")
        print("\n| the webhook's detail (CPU ms, medians) | before | after |")
        print("|---|---|---|")
        for name in WEBHOOK_DETAIL:
            print(f"| {name} | {medians(name)} |")
        print("\n| the send's requests (per e-mail, medians) | before | after |")
        print("|---|---|---|")
        for name in SEND_DETAIL:
            print(f"| {name} | {medians(name, 3)} |")
        print("\n" + json.dumps({label: [{k: round(v, 3) for k, v in r.items() if k in FIGURES} for r in runs]
                                 for label, runs in results.items()}))
    finally:
        subprocess.run(["git", "-C", str(_ROOT), "worktree", "remove", "--force", str(base)], capture_output=True)


def _short(rev: str) -> str:
    return subprocess.run(["git", "-C", str(_ROOT), "rev-parse", "--short", rev], capture_output=True,
                          text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=60, help="paid orders, and so e-mails (default 60)")
    parser.add_argument("--json", action="store_true", help="print the five figures as one JSON line")
    parser.add_argument("--detail", action="store_true",
                        help="with --json, a second line: the webhook's and the floors' CPU ms")
    parser.add_argument("--compare-with", metavar="REV", help="also measure REV (a temporary worktree)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating before/after runs (with --compare-with)")
    parser.add_argument("--profile", nargs="?", const=40, type=int, metavar="LINES",
                        help="cProfile (CPU time) of the send batches after the first: the top LINES functions "
                             "by own time and by cumulative time")
    args = parser.parse_args()
    if args.profile:
        _PROFILE["on"] = True
    if args.compare_with:
        compare(args.compare_with, args.orders, args.rounds)
        return
    figures = measure(args.orders)
    if args.profile:
        import pstats

        if os.environ.get("BENCH_PROFILE_DUMP"):  # full paths, for bench.send_path_shares
            pstats.Stats(_PROFILE["profiler"]).dump_stats(os.environ["BENCH_PROFILE_DUMP"])
        stats = pstats.Stats(_PROFILE["profiler"]).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
    if args.json:
        print(json.dumps({name: round(figures[name], 3) for name in FIGURES}))
        if args.detail:
            print(json.dumps({"detail": {name: round(figures["detail"][name], 3)
                                         for name in WEBHOOK_DETAIL + SEND_DETAIL}}))
        return
    for name in FIGURES:
        print(f"{name:24}{figures[name]:>9.2f}   goal ≤ {GOALS[name]}")
    print(json.dumps({"detail": figures["detail"], "import": figures["import_detail"]}))


if __name__ == "__main__":
    main()
