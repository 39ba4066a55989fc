"""AWS cost and Lambda-seconds per 1 million orders and per 1 million e-mails, from measured counts.

Nothing here is measured: it multiplies what bench.webhook_requests,
bench.webhook_cpu and bench.campaign counted by published list prices.

Prices: us-east-1, on-demand list prices as published by AWS at the time of
writing (December 2026; DynamoDB on-demand after its November 2024 price cut), no
free tier. Check them before quoting: they change, and other regions cost more
(eu-central-1 roughly 15-20 % more).

Lambda duration is modelled, because this machine is not a Lambda: the handler's
measured CPU time, stretched by the share of a vCPU that the function's memory
buys (1,769 MB = one vCPU), plus one in-region round trip per AWS request, plus
SES's answer time for a send. The assumptions are parameters below and are
printed with the figures.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

PRICES_USD = {
    "dynamodb_write_unit": 0.625 / 1e6,   # per on-demand write request unit
    "dynamodb_read_unit": 0.125 / 1e6,    # per on-demand read request unit
    "lambda_gb_second": 0.0000166667,     # x86
    "lambda_request": 0.20 / 1e6,
    "sqs_request": 0.40 / 1e6,            # standard queue, per 64 KB request
    "ses_email": 0.10 / 1000,             # outbound e-mail from Lambda
    "api_gateway_request": 3.50 / 1e6,    # REST API, first 333 million a month
}
PRICES_AS_OF = "us-east-1 list prices, December 2026, no free tier"


@dataclass(frozen=True)
class LambdaModel:
    memory_mb: int = 512
    round_trip_ms: float = 8.0      # one in-region DynamoDB/SQS request, typical
    vcpu_memory_mb: int = 1769      # memory at which a function gets one full vCPU

    def duration_ms(self, cpu_ms: float, aws_requests: float, extra_wait_ms: float = 0.0) -> float:
        share = min(1.0, self.memory_mb / self.vcpu_memory_mb)
        return cpu_ms / share + aws_requests * self.round_trip_ms + extra_wait_ms

    def gb_seconds(self, duration_ms: float) -> float:
        return duration_ms / 1000 * self.memory_mb / 1024


def per_million_orders(webhook_rows: list[dict], cpu_rows: dict, model: LambdaModel) -> dict:
    """A paid order's webhook: API Gateway, one Lambda invocation, DynamoDB, the outbox's SQS send."""
    paid = [row for row in webhook_rows if row["delivery"].startswith("paid order")]
    mean = {key: sum(row[key] for row in paid) / len(paid)
            for key in ("dynamodb_requests", "read_units", "write_units", "index_write_units", "sqs_requests")}
    cpu_ms = (cpu_rows["paid order, new customer"]["cpu_ms"] + cpu_rows["paid order, returning customer"]["cpu_ms"]) / 2
    duration = model.duration_ms(cpu_ms, mean["dynamodb_requests"] + mean["sqs_requests"])
    million = 1e6
    lines = {
        "API Gateway (REST)": million * PRICES_USD["api_gateway_request"],
        "Lambda requests": million * PRICES_USD["lambda_request"],
        "Lambda compute": million * model.gb_seconds(duration) * PRICES_USD["lambda_gb_second"],
        "DynamoDB writes": million * (mean["write_units"] + mean["index_write_units"]) * PRICES_USD["dynamodb_write_unit"],
        "DynamoDB reads": million * mean["read_units"] * PRICES_USD["dynamodb_read_unit"],
        "SQS": million * mean["sqs_requests"] * PRICES_USD["sqs_request"],
        "SES": 0.0,
    }
    return {"lambda_seconds": million * duration / 1000, "duration_ms": duration, "cpu_ms": cpu_ms,
            "counts": mean, "usd": lines, "usd_total": sum(lines.values())}


def per_million_emails(campaign: dict, model: LambdaModel) -> dict:
    """A campaign e-mail through the queue: the sender's share, SQS, the send handler, DynamoDB, SES."""
    per = campaign["per_email"]
    million = 1e6
    invocations = per["handler_invocations"]
    # Only the handler's own AWS requests wait inside it; SES's answer time is waited once per send.
    duration = model.duration_ms(per["handler_cpu_ms"], per["dynamodb_requests"] / invocations,
                                 campaign["ses_latency_ms"])
    lines = {
        "API Gateway (REST)": 0.0,
        "Lambda requests": million * invocations * PRICES_USD["lambda_request"],
        "Lambda compute": million * invocations * model.gb_seconds(duration) * PRICES_USD["lambda_gb_second"],
        "DynamoDB writes": million * per["write_units"] * PRICES_USD["dynamodb_write_unit"],
        "DynamoDB reads": million * per["read_units"] * PRICES_USD["dynamodb_read_unit"],
        "SQS": million * per["sqs_requests"] * PRICES_USD["sqs_request"],
        "SES": million * per["ses_requests"] * PRICES_USD["ses_email"],
    }
    return {"lambda_seconds": million * invocations * duration / 1000, "duration_ms": duration,
            "cpu_ms": per["handler_cpu_ms"], "counts": per, "usd": lines, "usd_total": sum(lines.values())}


def assumptions(model: LambdaModel) -> dict:
    return {"prices": PRICES_AS_OF, **asdict(model)}
