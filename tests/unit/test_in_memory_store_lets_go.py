"""The in-memory store leaves nothing of a test behind in moto's process-wide tracking: over a
worker's session the queues and messages of every test would otherwise stay in memory."""
from __future__ import annotations

import json

import boto3

from tests.support.fakes.store import in_memory_store


def test_a_closed_store_leaves_no_queue_and_no_message_tracked():
    from moto.core.model_instances import model_data

    with in_memory_store() as store:
        sqs = boto3.client("sqs", region_name="eu-central-1")
        url = sqs.get_queue_url(QueueName=store.send_queue_name)["QueueUrl"]
        for n in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
        tracked = model_data["sqs"]["Message"].instances_tracked
        assert len([m for m in tracked if m.body.startswith('{"n"')]) >= 5  # moto tracks them while it runs

    queues = model_data["sqs"]["Queue"].instances_tracked
    assert not [queue for queue in queues if queue.name.startswith(store.table_name)]
    assert not model_data["sqs"]["Message"].instances_tracked
