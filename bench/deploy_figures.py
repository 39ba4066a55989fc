"""Deployment figures: package size, cold-start import time, and the AWS cost per 1 million
paid orders and per 1 million e-mails.

    python -m bench.deploy_figures [--runs 7] [--orders 50]

1. Packages the prod stage offline (``infra/package.py``) and runs cfn-lint on it.
2. Times ``import app`` against ``import boto3`` (median of fresh interpreters, wall and CPU),
   and with the rendering stack that only a mail-sending cold start loads.
3. Runs paid orders, their post-purchase e-mails and SES delivery events through the real
   service code on the local emulator, counting the DynamoDB requests and estimating their
   capacity units from the items that cross the wire; the handler's own CPU time (its
   thread only: the emulator runs in other threads), stretched by the function's CPU share
   on Lambda, plus an assumed in-region round trip per AWS call gives the Lambda duration
   estimate.
4. Prices that out (list prices below; check them for your region before relying on them).
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from chalicelib import composition

PROJECT_DIR = Path(__file__).resolve().parent.parent

# us-east-1 on-demand list prices (USD) as published by AWS in 2025 (DynamoDB after its November 2024
# on-demand price cut); not re-checked online when this ran. eu-central-1 is about 10-20 % higher.
PRICES = {
    "lambda_gb_second": 0.0000166667,  # x86_64
    "lambda_request": 0.20 / 1e6,
    "dynamodb_wru": 0.625 / 1e6,
    "dynamodb_rru": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,  # standard queue, per 64 KB chunk
    "sns_publish": 0.50 / 1e6,  # SES -> SNS; the SNS -> SQS delivery itself is free
    "ses_email": 0.10 / 1e3,
    "api_gateway_request": 3.50 / 1e6,  # REST API, first 333 million a month
    "secrets_manager_call": 0.05 / 1e4,
}
PRICE_NOTE = "us-east-1 list prices as published in 2025 (not re-checked online when this ran)"
ROUND_TRIP_SECONDS = 0.008  # assumed per AWS call from Lambda in-region (DynamoDB, SQS); SES SendEmail below
SES_SEND_SECONDS = 0.060
FULL_VCPU_MB = 1769


# -- package and lint ---------------------------------------------------------------

def package_figures() -> dict:
    from infra import package

    with tempfile.TemporaryDirectory() as tmp:
        result = package.package("prod", Path(tmp) / "prod", chalice_dependencies=True)
        lint = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), "--include-checks", "I", "--",
                               str(result.template)], capture_output=True, text=True)
        resources = json.loads(result.template.read_text())["Resources"]
    return {"chalice_zip": result.chalice_zip_bytes, "chalice_unzipped": result.chalice_unzipped_bytes,
            "zip": result.zip_bytes, "unzipped": result.unzipped_bytes, "resources": len(resources),
            "lint_rc": lint.returncode, "lint_findings": lint.stdout.count("\n\n")}


# -- import times -------------------------------------------------------------------

_PROBE = """
import sys, time
started, cpu = time.perf_counter(), time.process_time()
{statement}
print(time.perf_counter() - started, time.process_time() - cpu)
"""


def import_seconds(statement: str, runs: int, setup: str = "") -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``statement`` in fresh interpreters, after ``setup``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LOYALTY_", "AWS_ENDPOINT"))}
    code = setup + "\n" + _PROBE.format(statement=statement)
    samples = [tuple(map(float, subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, env=env,
                                               capture_output=True, text=True, check=True).stdout.split()))
               for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


# -- requests, capacity units and CPU per operation ---------------------------------

class WireLog:
    """DynamoDB requests and responses as they cross the emulator's wire (bench only)."""

    def __init__(self):
        self.calls: list[tuple[str, dict, dict]] = []
        self.other: Counter = Counter()

    def wrap(self, app):
        def logged(environ, start_response):
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            chunks = list(app(environ, start_response))
            if target.startswith("DynamoDB_"):
                try:
                    response = json.loads(b"".join(chunks) or b"{}")
                except ValueError:
                    response = {}
                self.calls.append((target.split(".", 1)[1], json.loads(body or b"{}"), response))
            else:
                action = target.split(".", 1)[-1] if target else _query_action(body, environ)
                self.other[action] += 1
            return chunks
        return logged

    def mark(self) -> tuple[int, Counter]:
        return len(self.calls), Counter(self.other)


def _query_action(body: bytes, environ) -> str:
    path = environ.get("PATH_INFO", "")
    if "/v2/email/outbound-emails" in path:
        return "ses:SendEmail"
    text = body.decode(errors="replace")
    for part in text.split("&"):
        if part.startswith("Action="):
            return part.split("=", 1)[1]
    return path or "?"


def _item_bytes(item: dict | None) -> int:
    """DynamoDB's item size, approximately: attribute names plus values as sent."""
    if not item:
        return 0
    return sum(len(name) + len(json.dumps(value, separators=(",", ":"))) - 8 for name, value in item.items())


class CapacityModel:
    """Capacity units of logged calls, by DynamoDB's published rules: a transactional item costs two
    units (1 KB per write unit, 4 KB per read unit), a plain write one per KB, a strongly consistent
    read one per 4 KB, an eventually consistent Query half of that; every index an item is written
    into costs its own write (the projected size: KEYS_ONLY about the keys)."""

    def __init__(self, table_definition: dict):
        self.sizes: dict[str, int] = {}
        self.index_keys = {index["KeySchema"][0]["AttributeName"]: index["Projection"]["ProjectionType"]
                           for index in table_definition["GlobalSecondaryIndexes"]}

    def _key(self, key: dict) -> str:
        return json.dumps(key, sort_keys=True)

    def _remember(self, item: dict | None) -> int:
        if item and "pk" in item and "sk" in item:
            size = _item_bytes(item)
            self.sizes[self._key({"pk": item["pk"], "sk": item["sk"]})] = size
            return size
        return 0

    def _known(self, key: dict) -> int:
        return self.sizes.get(self._key(key), 300)

    def _index_writes(self, attribute_names: set[str], size: int) -> float:
        units = 0.0
        for key, projection in self.index_keys.items():
            if key in attribute_names:
                units += math.ceil(size / 1024) if projection == "ALL" else 1
        return units

    def units(self, operation: str, request: dict, response: dict) -> tuple[float, float]:
        """(read units, write units) of one call."""
        reads = writes = 0.0
        if operation == "TransactGetItems":
            for entry, got in zip(request["TransactItems"], response.get("Responses", [])):
                size = self._remember(got.get("Item")) or self._known(entry["Get"]["Key"])
                reads += 2 * math.ceil(max(size, 1) / 4096)
        elif operation == "TransactWriteItems":
            for entry in request["TransactItems"]:
                (kind, body), = entry.items()
                if kind == "Put":
                    size = self._remember(body["Item"])
                    names = set(body["Item"])
                else:
                    size = self._known(body["Key"])
                    names = set((body.get("ExpressionAttributeNames") or {}).values())
                writes += 2 * math.ceil(max(size, 1) / 1024)
                if kind in ("Put", "Update"):
                    writes += self._index_writes(names, size)
        elif operation in ("GetItem",):
            size = self._remember(response.get("Item")) or 1
            reads += (1 if request.get("ConsistentRead") else 0.5) * math.ceil(size / 4096)
        elif operation == "Query":
            size = sum(self._remember(item) for item in response.get("Items", [])) or 1
            reads += (1 if request.get("ConsistentRead") else 0.5) * math.ceil(size / 4096)
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            if operation == "PutItem":
                size = self._remember(request["Item"])
                names = set(request["Item"])
            else:
                size = self._known(request["Key"])
                names = set((request.get("ExpressionAttributeNames") or {}).values())
            writes += math.ceil(max(size, 1) / 1024)
            if operation != "DeleteItem":
                writes += self._index_writes(names, size)
        elif operation == "BatchWriteItem":
            for requests in request["RequestItems"].values():
                for entry in requests:
                    item = entry.get("PutRequest", {}).get("Item")
                    size = self._remember(item) if item else 300
                    writes += math.ceil(max(size, 1) / 1024) + (self._index_writes(set(item), size) if item else 0)
        return reads, writes


def operation_figures(orders: int) -> dict:
    import boto3
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from bench.emulator import start_emulator
    from devstack import emulator as devstack_emulator

    log = WireLog()
    original_entry = devstack_emulator.SerializedMotoServer._server_entry

    def logged_entry(self):
        app = devstack_emulator._OneAtATime(log.wrap(DomainDispatcherApplication(create_backend_app)),
                                            self.request_counts)
        self._serve(app)

    devstack_emulator.SerializedMotoServer._server_entry = logged_entry
    os.environ.update(LOYALTY_TABLE="loyalty-bench", LOYALTY_SEND_QUEUE="bench-send",
                      LOYALTY_EVENTS_QUEUE="bench-events")
    server = start_emulator()
    try:
        return _run_operations(log, orders, boto3)
    finally:
        server.stop()
        devstack_emulator.SerializedMotoServer._server_entry = original_entry


def _run_operations(log: WireLog, orders: int, boto3) -> dict:
    from bench.emulator import seed_bench_shop
    from chalicelib.composition import dependencies
    from devstack.samples import sample_order_payload, signed_request
    from chalicelib.domain.mail.message_tags import encode_key
    from chalicelib.services.mail import delivery_events
    from chalicelib.services.mail import send_consumer
    from chalicelib.services.orders import webhooks
    from devstack.tables import table_definition

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    composition.reset()
    secret = seed_bench_shop("loyalty-bench", "bench-send", "bench-events", sender_email="loyalty@shop.example")
    model = CapacityModel(table_definition())
    figures: dict[str, dict] = {}

    def measure(kind: str, action) -> None:
        start, other_before = log.mark()
        cpu = time.thread_time()
        action()
        cpu = time.thread_time() - cpu
        calls = log.calls[start:]
        reads = writes = 0.0
        for operation, request, response in calls:
            r, w = model.units(operation, request, response)
            reads, writes = reads + r, writes + w
        other = log.other - other_before
        entry = figures.setdefault(kind, defaultdict(list))
        entry["cpu"].append(cpu)
        entry["dynamodb_requests"].append(len(calls))
        entry["operations"].append(Counter(operation for operation, _, _ in calls))
        entry["rru"].append(reads)
        entry["wru"].append(writes)
        entry["other"].append(other)

    sqs = boto3.client("sqs")
    send_url = sqs.get_queue_url(QueueName="bench-send")["QueueUrl"]
    for i in range(orders):
        payload = sample_order_payload("shopify", order_id=f"P{i}", email=f"customer{i}@example.com")
        headers, body = signed_request("shopify", secret, payload, topic="orders/paid", event_id=f"paid-{i}")
        measure("paid order (webhook)",
                lambda: webhooks.receive_webhook(dependencies(), "shopify", "bench-shop", headers, body, "application/json"))
        message = sqs.receive_message(QueueUrl=send_url, MaxNumberOfMessages=1).get("Messages", [])[0]
        sqs.delete_message(QueueUrl=send_url, ReceiptHandle=message["ReceiptHandle"])
        results = {}
        measure("post-purchase e-mail (send handler)",
                lambda: results.update(send_consumer.deliver(dependencies(), message["Body"])))
        ses_id = _ses_message_id(results)
        queued = json.loads(message["Body"])
        # the tags SES returns with the event: the ones the sender set (services/mail/mailer.py)
        tags = {"shop": ["bench-shop"], "customer": [str(queued.get("customer_id"))],
                "send": [encode_key(str(queued.get("idempotency_key"))) or "none"]}
        event = {"eventType": "Delivery", "mail": {"messageId": ses_id, "tags": tags},
                 "delivery": {"recipients": [f"customer{i}@example.com"]}}
        measure("SES delivery event (events handler)", lambda: delivery_events.handle_ses_event(dependencies(), json.dumps(event)))
    return figures


def _ses_message_id(result: dict) -> str:
    for key in ("ses_message_id", "message_id"):
        if result.get(key):
            return result[key]
    from chalicelib.store.models import MailSendItem

    for item in MailSendItem.scan():  # bench only: find what the send recorded
        if getattr(item, "ses_message_id", None):
            return item.ses_message_id
    return "unknown"


# -- report ---------------------------------------------------------------------------

def summarise(figures: dict) -> dict[str, dict]:
    summary = {}
    for kind, entry in figures.items():
        operations = Counter()
        for counts in entry["operations"]:
            operations.update(counts)
        n = len(entry["cpu"])
        other = Counter()
        for counts in entry["other"]:
            other.update(counts)
        summary[kind] = {
            "n": n,
            "cpu_ms": 1000 * statistics.median(entry["cpu"]),
            "dynamodb_requests": statistics.mean(entry["dynamodb_requests"]),
            "operations": {op: count / n for op, count in sorted(operations.items())},
            "rru": statistics.mean(entry["rru"]),
            "wru": statistics.mean(entry["wru"]),
            "other": {op: count / n for op, count in sorted(other.items())},
        }
    return summary


def lambda_seconds(row: dict, memory_mb: int, ses_sends: int = 0) -> float:
    """Lambda gives a function CPU in proportion to its memory (one vCPU at 1,769 MB): the CPU time
    measured here on one core stretches by that factor; each AWS call adds its round trip."""
    aws_calls = row["dynamodb_requests"] + sum(count for op, count in row["other"].items() if op != "ses:SendEmail")
    cpu_share = min(1.0, memory_mb / FULL_VCPU_MB)
    return row["cpu_ms"] / 1000 / cpu_share + aws_calls * ROUND_TRIP_SECONDS + ses_sends * SES_SEND_SECONDS


def costs(summary: dict, memory_mb: dict[str, int]) -> dict[str, dict[str, float]]:
    million = 1e6
    order = summary["paid order (webhook)"]
    mail = summary["post-purchase e-mail (send handler)"]
    event = summary["SES delivery event (events handler)"]
    gb = {name: mb / 1024 for name, mb in memory_mb.items()}
    per_order = {
        "API Gateway": PRICES["api_gateway_request"],
        "Lambda (API handler)": lambda_seconds(order, memory_mb["api_handler"]) * gb["api_handler"] * PRICES["lambda_gb_second"]
        + PRICES["lambda_request"],
        "DynamoDB": order["rru"] * PRICES["dynamodb_rru"] + order["wru"] * PRICES["dynamodb_wru"],
        "SQS (outbox publish)": PRICES["sqs_request"],
    }
    # Per e-mail: the send (SQS receive + delete, batched by up to 10 but counted one each here), the
    # handler, SES, and on average 2 delivery events (delivery, plus open/click/bounce for some) through
    # SNS and SQS into the events handler.
    events_per_mail = 2
    per_mail = {
        "SES": PRICES["ses_email"],
        "Lambda (send handler)": lambda_seconds(mail, memory_mb["send_email"], ses_sends=1) * gb["send_email"] * PRICES["lambda_gb_second"]
        + PRICES["lambda_request"],
        "DynamoDB (send)": mail["rru"] * PRICES["dynamodb_rru"] + mail["wru"] * PRICES["dynamodb_wru"],
        "SQS (send queue)": 2 * PRICES["sqs_request"],
        "SES events (SNS + SQS)": events_per_mail * (PRICES["sns_publish"] + 2 * PRICES["sqs_request"]),
        "Lambda (events handler)": events_per_mail * (
            lambda_seconds(event, memory_mb["delivery_events_handler"]) * gb["delivery_events_handler"] * PRICES["lambda_gb_second"]
            + PRICES["lambda_request"]),
        "DynamoDB (events)": events_per_mail * (event["rru"] * PRICES["dynamodb_rru"]
                                                + event["wru"] * PRICES["dynamodb_wru"]),
    }
    return {"per 1 million paid orders": {k: v * million for k, v in per_order.items()},
            "per 1 million e-mails": {k: v * million for k, v in per_mail.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per import timing (default 7)")
    parser.add_argument("--orders", type=int, default=50, help="orders, e-mails and events to measure (default 50)")
    args = parser.parse_args()

    print("Package (prod stage, built offline):")
    pkg = package_figures()
    print(f"  Chalice's own zip     {pkg['chalice_zip'] / 1e6:6.1f} MB  ({pkg['chalice_unzipped'] / 1e6:.1f} MB unzipped)")
    print(f"  slim zip (deployed)   {pkg['zip'] / 1e6:6.1f} MB  ({pkg['unzipped'] / 1e6:.1f} MB unzipped)")
    lint = "passed, no findings" if pkg["lint_rc"] == 0 else "exit %d" % pkg["lint_rc"]
    print(f"  template              {pkg['resources']} resources; cfn-lint (all checks incl. informational): {lint}")

    print(f"\nImport time, median of {args.runs} fresh interpreters (this machine; CPU time is what a "
          f"busy machine hardly changes):")
    rows = [("import app", import_seconds("import app", args.runs)),
            ("import boto3", import_seconds("import boto3", args.runs)),
            ("import app + the rendering stack", import_seconds("import app; import chalicelib.mail.rendering",
                                                                  args.runs))]
    print(f"  {'':34}{'wall ms':>9}{'CPU ms':>9}")
    for name, (wall, cpu) in rows:
        print(f"  {name:34}{wall * 1000:9.0f}{cpu * 1000:9.0f}")
    print("  (the last is what import app cost before Jinja2, MJML and Babel were deferred to the first e-mail)")

    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["prod"]
    memory = {name: config.get("lambda_memory_size", 128) for name in
              ("api_handler", "send_email", "delivery_events_handler")}
    for name, overrides in config.get("lambda_functions", {}).items():
        if name in memory and "lambda_memory_size" in overrides:
            memory[name] = overrides["lambda_memory_size"]

    print(f"\nPer operation, {args.orders} each through the service code on the emulator:")
    summary = summarise(operation_figures(args.orders))
    header = f"  {'operation':38}{'DynamoDB requests':>18}{'RRU':>7}{'WRU':>7}{'CPU ms':>8}{'est. Lambda ms':>16}"
    print(header)
    handlers = {"paid order (webhook)": "api_handler", "post-purchase e-mail (send handler)": "send_email",
                "SES delivery event (events handler)": "delivery_events_handler"}
    for kind, row in summary.items():
        sends = 1 if "e-mail" in kind else 0
        print(f"  {kind:38}{row['dynamodb_requests']:18.1f}{row['rru']:7.1f}{row['wru']:7.1f}{row['cpu_ms']:8.1f}"
              f"{lambda_seconds(row, memory[handlers[kind]], sends) * 1000:16.0f}")
        ops = ", ".join(f"{round(count, 2):g} {op}" for op, count in row["operations"].items())
        other = ", ".join(f"{round(count, 2):g} {op}" for op, count in row["other"].items())
        print(f"  {'':38}{ops}" + (f"; {other}" if other else ""))
    print(f"  (est. Lambda ms = the handler thread's CPU time here / the function's CPU share (memory / "
          f"{FULL_VCPU_MB} MB)\n   + {ROUND_TRIP_SECONDS * 1000:.0f} ms per AWS call + {SES_SEND_SECONDS * 1000:.0f} ms "
          f"per SES send; memory MB: {memory})")

    print(f"\nCost in USD, {PRICE_NOTE}:")
    for title, parts in costs(summary, memory).items():
        print(f"  {title}: {sum(parts.values()):,.2f}")
        for name, value in parts.items():
            print(f"    {name:28}{value:10,.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
