"""The test's SQS queues read the way a worker would."""
from __future__ import annotations

import json

import boto3


def drain_queue(queue_name: str, template: str | None = None) -> list[dict]:
    """Every message now on ``queue_name`` (JSON bodies), deleted from the queue; with ``template``
    only that template's (a paid order may queue more than its own e-mail: a tier reached)."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    bodies = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return [body for body in bodies if template is None or body.get("template") == template]
        bodies.extend(json.loads(message["Body"]) for message in batch)
        # One request deletes the batch (as Lambda's SQS poller does): a delete per message was two
        # thirds of the requests of reading a queue.
        deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]} for n, message in enumerate(batch)])
        assert not deleted.get("Failed"), deleted["Failed"]
