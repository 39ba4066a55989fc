"""Queue handlers take batches and report failures per message (ReportBatchItemFailures)."""
from __future__ import annotations

import json

import pytest
from chalice.test import Client

from app import app
from chalicelib.services.mail import delivery_events
from chalicelib.services.mail import send_consumer


def _ids(event: dict) -> list[str]:
    return [record["messageId"] for record in event["Records"]]


def test_only_the_failed_message_of_a_send_batch_is_reported(table, monkeypatch):
    handled = []

    def deliver(deps, record):
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
    def broken(deps, body):
        raise ConnectionError("DynamoDB unreachable")

    monkeypatch.setattr(delivery_events, "handle_ses_event", broken)
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=["{}", "{}"], queue_name="loyalty-mail-events")
        with pytest.raises(ConnectionError):
            client.lambda_.invoke("delivery_events_handler", event)
