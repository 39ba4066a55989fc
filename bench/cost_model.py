"""What 1 million e-mails and 1 million paid orders cost on AWS, every line with its source.

    python -m bench.cost_model --campaign FILE --webhooks FILE [--send-path FILE] [--ses-events FILE]
                               [--orders-entry rest|function_url|http_api]

Inputs are measured, not guessed, where this machine can measure them: ``--campaign`` is
``bench.campaign --json`` (DynamoDB requests and capacity units per e-mail, counted at a metered
emulator), ``--webhooks`` is ``bench.webhook_requests --json`` (the same per paid order) and
``--send-path`` is ``bench.send_path --json`` (CPU ms per e-mail, webhook CPU) and ``--ses-events`` is
``bench.ses_events --json`` (the SES events handler's CPU ms, requests, read and write units per
event of each kind, through the deployed handler in batches of ten, metered emulator). What only a
deployment knows (how many opens and clicks come back, how long log lines are, how full the
batches are) is an assumption, named as one in the table's source column.

Prices: us-east-1 list prices (December 2026), no free tier, as bench/cost.py. Fixed monthly
costs (dashboard, alarms, custom metrics) do not grow with volume and are listed apart.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

from bench.cost import PRICES_USD

PRICES = {
    **PRICES_USD,
    "sns_publish": 0.50 / 1e6,            # SES event destination -> SNS topic (SNS -> SQS delivery is free)
    "logs_ingest_gb": 0.50,               # CloudWatch Logs ingestion (EMF metrics ride on it)
    "logs_storage_gb_month": 0.03,
    "dynamodb_storage_gb_month": 0.25,
    "xray_trace": 5.00 / 1e6,             # traces recorded
    "metric_month": 0.30,                 # custom metric (each name x dimension set)
    "alarm_metric_month": 0.10,           # standard-resolution alarm, per metric
    "dashboard_month": 3.00,
    "api_http_request": 1.00 / 1e6,       # HTTP API, first 300 million a month
}
MILLION = 1e6


@dataclass(frozen=True)
class Assumptions:
    """What a deployment decides or observes; each one is printed in the source column."""

    memory_mb: int = 512
    vcpu_memory_mb: int = 1769           # Lambda gives one vCPU at 1,769 MB
    round_trip_ms: float = 8.0           # one in-region DynamoDB/SQS request
    ses_answer_ms: float = 60.0          # SendEmail's answer time
    send_batch: int = 10                 # SQS batch per send invocation (full while a campaign drains)
    events_per_email: tuple = (("delivery", 1.0), ("open", 0.4), ("click", 0.03))
    events_batch: int = 10
    events_cpu_ms: float = 5.0           # the events handler per event (parse, two or three writes)
    events_memory_mb: int = 256
    event_wru: float = 2.0               # send log update + the results counter (its index entry is keys only: unchanged)
    event_rru: float = 0.5               # the SES id lookup (eventually consistent GetItem)
    log_bytes_per_invocation: int = 350  # Lambda's START/END/REPORT lines
    log_bytes_per_email: int = 650       # one INFO line + two EMF records (EmailsSent, QueueAge)
    log_bytes_per_order: int = 450       # EMF OrdersApplied + WebhookLatency
    xray_sampled: float = 0.05           # X-Ray's default rule: 1 a second, then 5 %
    # The send log (521 B, bench.campaign --items) and its keys-only by_customer entry (about 150 B),
    # 100 B of DynamoDB's overhead each; a tagged send writes no SES id lookup (domain/mail/message_tags.py)
    send_log_kb: float = 0.9
    stream_batch: float = 5.0            # outbox inserts per publish_outbox invocation (filtered)
    stream_cpu_ms: float = 3.0


def _lambda_usd(invocations: float, duration_ms: float, memory_mb: int) -> tuple[float, float]:
    gb_seconds = invocations * duration_ms / 1000 * memory_mb / 1024
    return invocations * PRICES["lambda_request"], gb_seconds * PRICES["lambda_gb_second"]


# bench.ses_events' kind of event for each of the assumed events per e-mail
_EVENT_KINDS = {"delivery": "delivery", "open": "open", "click": "click"}


def events_measured(ses_events: dict | None, a: Assumptions) -> dict:
    """Per SES event, weighted by the assumed mix (``a.events_per_email``): CPU ms, DynamoDB
    requests, read and write units, measured by ``bench.ses_events`` when given, else assumed."""
    if not ses_events:
        return {"cpu_ms": a.events_cpu_ms, "requests": 2.0, "rru": a.event_rru, "wru": a.event_wru,
                "source": "assumed", "what": "SES id lookup; send log status/counter + index + results"}
    kinds, total = ses_events["kinds"], sum(n for _, n in a.events_per_email)

    def weighted(figure: str) -> float:
        return sum(n * kinds[_EVENT_KINDS[kind]][figure] for kind, n in a.events_per_email) / total

    operations = sorted({op for kind, _ in a.events_per_email for op in kinds[_EVENT_KINDS[kind]]["requests"]})
    per_operation = {op: sum(n * kinds[_EVENT_KINDS[kind]]["requests"].get(op, 0.0) for kind, n in a.events_per_email)
                     / total for op in operations}
    return {"cpu_ms": weighted("cpu_ms_per_event"), "requests": weighted("requests_per_event"),
            "rru": weighted("rru_per_event"), "wru": weighted("wru_per_event"),
            "source": f"bench.ses_events --json: the deployed handler, batches of {ses_events['batch']}, metered "
                      "emulator; weighted by the assumed mix",
            "what": ", ".join(f"{op} {n:.2f}" for op, n in per_operation.items()) + " an event"}


def per_million_emails(campaign: dict, send_path: dict, a: Assumptions,
                       ses_events: dict | None = None) -> list[tuple[str, float, str]]:
    per = campaign["per_email"]
    cpu_ms = send_path.get("cpu_ms_per_email", per["handler_cpu_ms"])
    requests = send_path.get("requests_per_email", per["dynamodb_requests"])
    share = min(1.0, a.memory_mb / a.vcpu_memory_mb)
    duration = cpu_ms / share + requests * a.round_trip_ms + a.ses_answer_ms
    invocations = MILLION / a.send_batch
    requests_usd, compute_usd = _lambda_usd(invocations, duration * a.send_batch, a.memory_mb)
    events = sum(n for _, n in a.events_per_email)
    ev_invocations = MILLION * events / a.events_batch
    event = events_measured(ses_events, a)
    ev_requests_usd, ev_compute_usd = _lambda_usd(
        ev_invocations, a.events_batch * (event["cpu_ms"] / min(1.0, a.events_memory_mb / a.vcpu_memory_mb)
                                         + event["requests"] * a.round_trip_ms), a.events_memory_mb)
    log_gb = (invocations * a.log_bytes_per_invocation + MILLION * a.log_bytes_per_email
              + ev_invocations * a.log_bytes_per_invocation) / 1e9
    src_units = "bench.campaign --json per_email (metered emulator: item sizes, transactions double)"
    return [
        ("Lambda requests (sender)", requests_usd, f"1 invocation per {a.send_batch} e-mails (batch_size=10, routes/mail.py)"),
        ("Lambda compute (sender)", compute_usd,
         f"{cpu_ms:.1f} CPU ms (bench.send_path) / {share:.2f} vCPU at {a.memory_mb} MB + {requests:.1f} requests x "
         f"{a.round_trip_ms:g} ms + SES {a.ses_answer_ms:g} ms (assumed) = {duration:.0f} ms per e-mail"),
        ("DynamoDB writes (send path)", MILLION * per["write_units"] * PRICES["dynamodb_write_unit"],
         f"{per['write_units']:.2f} WRU per e-mail: {src_units}"),
        ("DynamoDB reads (send path)", MILLION * per["read_units"] * PRICES["dynamodb_read_unit"],
         f"{per['read_units']:.2f} RRU per e-mail: {src_units}"),
        ("SQS (send queue)", MILLION * 0.3 * PRICES["sqs_request"],
         "0.1 SendMessageBatch + 0.1 ReceiveMessage + 0.1 DeleteMessageBatch per e-mail (batches of 10; the "
         f"bench's single-message workers made {per['sqs_requests']:.2f})"),
        ("SES", MILLION * PRICES["ses_email"], "$0.10 per 1,000 e-mails (list price)"),
        ("SES events: SNS", MILLION * events * PRICES["sns_publish"],
         f"{events:.2f} events per e-mail (assumed: delivery 1, open 0.4, click 0.03) x $0.50 per million publishes"),
        ("SES events: SQS", MILLION * events * 1.2 * PRICES["sqs_request"],
         "per event: SNS's SendMessage 1 + ReceiveMessage 0.1 + DeleteMessageBatch 0.1"),
        ("SES events: Lambda", ev_requests_usd + ev_compute_usd,
         f"batches of {a.events_batch}, {event['cpu_ms']:.2f} CPU ms + {event['requests']:.2f} round trips per event "
         f"({event['source']}), {a.events_memory_mb} MB"),
        ("SES events: DynamoDB", MILLION * events * (event["wru"] * PRICES["dynamodb_write_unit"]
                                                    + event["rru"] * PRICES["dynamodb_read_unit"]),
         f"per event {event['rru']:.2f} RRU + {event['wru']:.2f} WRU ({event['what']}; {event['source']})"),
        ("CloudWatch Logs", log_gb * (PRICES["logs_ingest_gb"] + PRICES["logs_storage_gb_month"]),
         f"{log_gb:.2f} GB: {a.log_bytes_per_invocation} B per invocation, {a.log_bytes_per_email} B per e-mail "
         "(INFO line + 2 EMF records), ingestion + one month kept"),
        ("X-Ray", (invocations + ev_invocations) * a.xray_sampled * PRICES["xray_trace"],
         f"{a.xray_sampled:.0%} of invocations sampled (default rule), $5 per million traces"),
        ("DynamoDB storage (per month kept)", MILLION * a.send_log_kb / 1e6 * PRICES["dynamodb_storage_gb_month"],
         f"{a.send_log_kb:g} KB per e-mail (send log + its keys-only index entry, 400-day TTL) x $0.25 per GB-month"),
    ]


# How a webhook reaches its Lambda: the row the orders' table opens with.
ORDER_ENTRIES = {
    "rest": ("API Gateway (REST)", PRICES["api_gateway_request"],
             "$3.50 per million (REST API: POST /webhooks/{platform}/{shop_id})"),
    "function_url": ("API Gateway (none: the webhooks' function URL)", 0.0,
                     "$0: a function URL request costs only the invocation it is (infra/stack.py WebhookFunctionUrl)"),
    "http_api": ("API Gateway (HTTP API)", PRICES["api_http_request"], "$1.00 per million (HTTP API, not deployed)"),
}


def per_million_orders(webhooks: dict, send_path: dict, a: Assumptions, *, entry: str = "rest"
                       ) -> list[tuple[str, float, str]]:
    paid = [row for row in webhooks["rows"] if row["delivery"].startswith("paid order")]
    mean = {key: sum(row[key] for row in paid) / len(paid)
            for key in ("dynamodb_requests", "read_units", "write_units", "index_write_units")}
    measured = send_path.get("detail", {}).get("webhook_cpu_ms")
    cpu_ms = measured if measured is not None else 8.0
    cpu_source = "bench.send_path detail" if measured is not None else "docs/benchmarks.md webhook_cpu, paid order"
    share = min(1.0, a.memory_mb / a.vcpu_memory_mb)
    duration = cpu_ms / share + mean["dynamodb_requests"] * a.round_trip_ms
    requests_usd, compute_usd = _lambda_usd(MILLION, duration, a.memory_mb)
    stream_invocations = MILLION / a.stream_batch
    # the stream function's own reads per post-purchase e-mail (its recommendations), measured on its own row
    stream_row = next((row for row in webhooks["rows"] if row["delivery"].startswith("stream:")), None)
    stream_reads = stream_row["dynamodb_requests"] if stream_row else 0.0
    stream_read_units = stream_row["read_units"] if stream_row else 0.0
    s_requests_usd, s_compute_usd = _lambda_usd(
        stream_invocations, a.stream_cpu_ms * a.stream_batch / share + (1 + stream_reads * a.stream_batch) * a.round_trip_ms,
        256)
    log_gb = (MILLION * (a.log_bytes_per_invocation + a.log_bytes_per_order)
              + stream_invocations * a.log_bytes_per_invocation) / 1e9
    name, price, source = ORDER_ENTRIES[entry]
    gateway = (name, MILLION * price, source)
    return [
        gateway,
        ("Lambda requests + compute (webhook)", requests_usd + compute_usd,
         f"{cpu_ms:.1f} CPU ms ({cpu_source}) / {share:.2f} vCPU + {mean['dynamodb_requests']:.1f} requests x "
         f"{a.round_trip_ms:g} ms = {duration:.0f} ms"),
        ("DynamoDB writes (webhook)", MILLION * (mean["write_units"] + mean["index_write_units"]) * PRICES["dynamodb_write_unit"],
         f"{mean['write_units']:.1f} WRU + {mean['index_write_units']:.1f} index WRU: bench.webhook_requests --json "
         "(one transaction: event, profile, lot, ledger, order, outbox; transactions double)"),
        ("DynamoDB reads (webhook)", MILLION * mean["read_units"] * PRICES["dynamodb_read_unit"],
         f"{mean['read_units']:.1f} RRU: bench.webhook_requests --json (one TransactGetItems)"),
        ("Outbox stream: Lambda", s_requests_usd + s_compute_usd,
         f"publish_outbox, {a.stream_batch:g} outbox inserts per invocation (assumed), filtered to outbox inserts; "
         f"{stream_reads:.1f} reads per e-mail x {a.round_trip_ms:g} ms; GetRecords by a Lambda trigger is free"),
        ("Outbox stream: DynamoDB reads", MILLION * stream_read_units * PRICES["dynamodb_read_unit"],
         f"{stream_read_units:.1f} RRU per post-purchase e-mail (its recommendations: the customer's candidates and the "
         "products): bench.webhook_requests --json, the stream row"),
        ("Outbox stream: SQS", MILLION / a.stream_batch * PRICES["sqs_request"],
         "one SendMessageBatch per stream batch"),
        ("CloudWatch Logs", log_gb * (PRICES["logs_ingest_gb"] + PRICES["logs_storage_gb_month"]),
         f"{log_gb:.2f} GB: {a.log_bytes_per_invocation} B per invocation + {a.log_bytes_per_order} B EMF per order"),
        ("X-Ray", MILLION * 1.2 * a.xray_sampled * PRICES["xray_trace"], "5 % of webhook and stream invocations"),
    ]


def fixed_per_month(a: Assumptions) -> list[tuple[str, float, str]]:
    metrics = 8 + 6  # 8 metric names x (Service, Stage) + about 6 skip reasons x (…, Reason)
    return [
        ("CloudWatch dashboard", PRICES["dashboard_month"], "$3 per dashboard-month (infra/stack.py OperationsDashboard)"),
        ("CloudWatch alarms", 14 * PRICES["alarm_metric_month"] + 2 * PRICES["alarm_metric_month"],
         "about 14 single-metric alarms (the webhooks' function URL's 5xx and throttles among them) + the "
         "error-rate alarm's 2 metrics x $0.10"),
        ("Custom metrics (EMF)", metrics * PRICES["metric_month"], f"{metrics} metrics x $0.30 (chalicelib/metrics.py)"),
    ]


def table(title: str, lines: list[tuple[str, float, str]]) -> str:
    out = [f"| {title} | USD | source |", "|---|---|---|"]
    out += [f"| {name} | {usd:.2f} | {source} |" for name, usd, source in lines]
    out.append(f"| **total** | **{sum(usd for _, usd, _ in lines):.2f}** | |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaign", type=Path, required=True, help="bench.campaign --json output")
    parser.add_argument("--webhooks", type=Path, required=True, help="bench.webhook_requests --json output")
    parser.add_argument("--send-path", type=Path, help="bench.send_path --json output (one line)")
    parser.add_argument("--ses-events", type=Path, help="bench.ses_events --json output")
    parser.add_argument("--orders-entry", choices=sorted(ORDER_ENTRIES), default="rest",
                        help="how the orders' table's webhooks arrive (default rest; function_url: the webhooks' "
                             "own Lambda function URL, no API Gateway request)")
    args = parser.parse_args()
    campaign = json.loads(args.campaign.read_text())
    webhooks = json.loads(args.webhooks.read_text())
    send_path = json.loads(args.send_path.read_text()) if args.send_path else {}
    ses_events = json.loads(args.ses_events.read_text()) if args.ses_events else None
    a = Assumptions()
    emails = per_million_emails(campaign, send_path, a, ses_events)
    beyond_ses = sum(usd for name, usd, _ in emails if name != "SES")
    print(table("per 1 million e-mails", emails))
    print(f"\nAWS beyond SES per 1 million e-mails: ${beyond_ses:.2f} (goal $3)")
    orders = per_million_orders(webhooks, send_path, a, entry=args.orders_entry)
    print("\n" + table("per 1 million paid orders", orders))
    totals = {entry: sum(usd for _, usd, _ in per_million_orders(webhooks, send_path, a, entry=entry))
              for entry in ORDER_ENTRIES}
    print(f"\nper 1 million paid orders: ${sum(u for _, u, _ in orders):.2f} (goal $10); through the REST API "
          f"${totals['rest']:.2f}, the webhooks' function URL ${totals['function_url']:.2f}, an HTTP API "
          f"${totals['http_api']:.2f}")
    print("\n" + table("fixed per month", fixed_per_month(a)))
    if not math.isfinite(beyond_ses):
        raise SystemExit("not a number")


if __name__ == "__main__":
    main()
