"""The service's own CloudWatch metrics (embedded metric format): orders applied, e-mails sent
and skipped by reason, queue age; the names and dimensions the dashboard (infra/stack.py) plots."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from chalicelib.metrics import NAMESPACE, Metrics
from chalicelib.services.mail import send_consumer
from devstack.samples import DEFAULT_EMAIL, sample_order_payload
from tests.support.queues import drain_queue
from tests.support.webhooks import deliver_shopify


def _records(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines]


def _names(records: list[dict]) -> list[str]:
    return [m["Name"] for r in records for m in r["_aws"]["CloudWatchMetrics"][0]["Metrics"]]


def test_a_paid_order_and_its_email_are_counted(deps, shopify_shop):
    lines: list[str] = []
    deps.metrics = Metrics("prod", sink=lines.append)
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret,
                    sample_order_payload("shopify", order_id="3001", email=DEFAULT_EMAIL), "orders/paid")
    assert _names(_records(lines)) == ["OrdersApplied"]
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "post_purchase")
    sent_at = deps.clock()
    deps.clock = lambda: sent_at  # held still, so the record's time can only have come from it
    result = send_consumer.deliver(deps, json.dumps(message))
    assert result["status"] == "sent"
    sent = _records(lines)[-1]
    assert sent["EmailsSent"] == 1 and (sent["Service"], sent["Stage"]) == ("loyalty-mail", "prod")
    emf = sent["_aws"]["CloudWatchMetrics"][0]
    assert emf["Namespace"] == NAMESPACE and emf["Dimensions"] == [["Service", "Stage"]]
    assert sent["_aws"]["Timestamp"] == int(sent_at.timestamp() * 1000)  # the passed clock, not the wall's
    # the same message again is a duplicate: nothing more is counted
    before = len(lines)
    assert send_consumer.deliver(deps, json.dumps(message))["status"] == "duplicate"
    assert len(lines) == before


def test_skips_are_counted_with_their_reason(deps, shopify_shop):
    lines: list[str] = []
    deps.metrics = Metrics("dev", sink=lines.append)
    message = {"idempotency_key": "k-1", "shop_id": shopify_shop.shop_id, "customer_id": "nobody",
               "template": "post_purchase", "category": "transactional", "data": {},
               "created_at": deps.clock().isoformat()}
    assert send_consumer.deliver(deps, json.dumps(message))["status"] == "skipped"
    (skipped,) = _records(lines)
    assert skipped["EmailsSkipped"] == 1 and skipped["Reason"]
    assert skipped["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service", "Stage"],
                                                                     ["Service", "Stage", "Reason"]]


def test_queue_age_is_how_long_the_message_waited(deps):
    lines: list[str] = []
    deps.metrics = Metrics("dev", sink=lines.append)
    sent_at = deps.clock().timestamp() - 42.5
    send_consumer._record_queue_age(deps, str(int(sent_at * 1000)))
    send_consumer._record_queue_age(deps, "not-a-number")
    (age,) = _records(lines)
    assert abs(age["QueueAge"] - 42.5) < 0.01
    assert age["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "QueueAge", "Unit": "Seconds"}]


def test_a_broken_sink_never_breaks_the_caller():
    def broken(line):
        raise OSError("stdout closed")

    Metrics("dev", sink=broken).count("EmailsSent", datetime(2026, 1, 1, tzinfo=timezone.utc))
