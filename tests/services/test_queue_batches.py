"""Queue handlers take batches and report failures per message (ReportBatchItemFailures)."""
from __future__ import annotations

import json
import logging

import pytest
from chalice.test import Client

from app import app
from chalicelib.services.mail import delivery_events
from chalicelib.services.mail import send_consumer


def _ids(event: dict) -> list[str]:
    return [record["messageId"] for record in event["Records"]]


def test_only_the_failed_message_of_a_send_batch_is_reported(table, monkeypatch):
    handled = []

    def deliver(deps, record, finals=None):
        if json.loads(record.body)["n"] == 2:
            raise RuntimeError("SES said no")
        handled.append(json.loads(record.body)["n"])

    monkeypatch.setattr(send_consumer, "deliver_record", deliver)
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=[json.dumps({"n": n}) for n in (1, 2, 3)],
                                                 queue_name="loyalty-mail-send")
        response = client.lambda_.invoke("send_email", event)
    assert handled == [1, 3]  # the failure did not stop the rest of the batch
    assert response.payload == {"batchItemFailures": [{"itemIdentifier": _ids(event)[1]}]}


def test_a_batch_that_all_succeeds_reports_no_failures(table):
    not_ses = json.dumps({"hello": "world"})  # ignored, not an error
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=[not_ses, not_ses], queue_name="loyalty-mail-events")
        response = client.lambda_.invoke("delivery_events_handler", event)
    assert response.payload == {"batchItemFailures": []}


def test_a_batch_where_every_message_fails_fails_the_invocation(table, monkeypatch):
    def broken(deps, body, **options):
        raise ConnectionError("DynamoDB unreachable")

    monkeypatch.setattr(delivery_events, "handle_ses_event", broken)
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=["{}", "{}"], queue_name="loyalty-mail-events")
        with pytest.raises(ConnectionError):
            client.lambda_.invoke("delivery_events_handler", event)


def test_a_send_message_logs_json_lines_with_its_shop_template_campaign_key_and_message_id(table, monkeypatch):
    from chalicelib.services.campaigns import campaigns
    from chalicelib.services.mail import mailer
    from tests.support.logs import json_log_lines

    poison = {"idempotency_key": "k-1", "shop_id": "no-such-shop", "customer_id": "c_1", "template": "post_purchase",
              "category": "transactional", "data": {}, "created_at": "2031-03-14T09:00:00Z"}
    marketing = {"idempotency_key": "special_day:c_2:spring", "shop_id": "shop-b", "customer_id": "c_2",
                 "template": "special_day", "category": "marketing", "campaign_id": "spring", "data": {},
                 "created_at": "2031-03-14T09:00:00Z"}
    monkeypatch.setattr(campaigns, "campaign_gate", lambda deps, shop_id, campaign_id: "send")
    real_send = mailer.send_message

    def send(deps, message, **options):  # a line logged deep in the send path, then the real thing
        logging.getLogger("loyalty.mail").info("sending")
        if message["shop_id"] == "shop-b":
            return {"status": "skipped", "reason": "test"}
        return real_send(deps, message, **options)

    monkeypatch.setattr(mailer, "send_message", send)
    with json_log_lines() as lines:
        with Client(app, stage_name="local") as client:
            event = client.events.generate_sqs_event(message_bodies=[json.dumps(poison), json.dumps(marketing)],
                                                     queue_name="loyalty-mail-send")
            response = client.lambda_.invoke("send_email", event)
    first_id, second_id = _ids(event)
    assert response.payload == {"batchItemFailures": [{"itemIdentifier": first_id}]}  # the unknown shop is poison
    [reported] = [line for line in lines if line["message"].startswith("poison message")]
    assert reported["level"] == "ERROR" and "campaign" not in reported
    assert (reported["shop"], reported["template"], reported["message_key"], reported["correlation_id"]) == (
        "no-such-shop", "post_purchase", "k-1", first_id)
    [sending] = [line for line in lines if line["message"] == "sending" and line.get("shop") == "shop-b"]
    assert (sending["template"], sending["campaign"], sending["message_key"], sending["correlation_id"]) == (
        "special_day", "spring", "special_day:c_2:spring", second_id)
    [retried] = [line for line in lines if line["message"].startswith(f"message {first_id} failed")]
    assert retried["correlation_id"] == first_id and "shop" not in retried


def test_a_webhook_logs_with_its_shop_and_the_platforms_delivery_id(deps, client, monkeypatch):
    from devstack.samples import sample_order_payload, signed_request
    from tests.support.logs import json_log_lines
    from tests.support.shops import register_shop

    shop = register_shop(client, "log-shop", "shopify")
    headers, body = signed_request("shopify", shop.secret, sample_order_payload("shopify", order_id="1", email="olena@example.com"),
                                   topic="orders/paid")
    from chalicelib.services.orders import webhooks

    def fail_after_parsing(*args, **kwargs):
        logging.getLogger("loyalty.api").error("the ledger is unreachable")
        raise ConnectionError("DynamoDB unreachable")

    monkeypatch.setattr(webhooks, "apply_delivery", fail_after_parsing)
    with json_log_lines() as lines:
        response = client.http.post(f"/webhooks/shopify/{shop.shop_id}", headers=headers, body=body)
    assert response.status_code == 500
    logged = [line for line in lines if line["message"] == "the ledger is unreachable"]
    assert logged and logged[0]["shop"] == "log-shop"
    assert logged[0]["correlation_id"] == {k.lower(): v for k, v in headers.items()}["x-shopify-webhook-id"]
