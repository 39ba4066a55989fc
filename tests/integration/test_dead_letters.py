"""A message that can never be sent ends in the dead-letter queue after its tries, not in the void."""
from __future__ import annotations

import json
import os

import boto3
import pytest
from chalice.test import Client

from app import app
from devstack.queues import MAX_RECEIVES


def test_poison_message_is_dead_lettered_after_its_tries(table):
    sqs = boto3.client("sqs")
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"template": "post_purchase"}))  # no shop, no key

    failures = 0
    with Client(app, stage_name="local") as client:
        for _ in range(MAX_RECEIVES + 1):
            # Visible again at once (the Lambda service would wait the visibility timeout).
            for message in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", []):
                event = client.events.generate_sqs_event(message_bodies=[message["Body"]], queue_name=queue)
                with pytest.raises(Exception):
                    client.lambda_.invoke("send_email", event)
                failures += 1
    assert failures == MAX_RECEIVES
    parked = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert [json.loads(m["Body"]) for m in parked] == [{"template": "post_purchase"}]
