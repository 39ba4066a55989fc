"""Creates the SQS queues (each with its dead-letter queue) for the local stack and tests."""
from __future__ import annotations

import json

MAX_RECEIVES = 5  # tries before a message is parked in the dead-letter queue


def create_queues(sqs_client, send_queue: str, events_queue: str, visibility_timeout: int = 30) -> dict[str, str]:
    """Returns queue name → URL for the queues and their dead-letter queues."""
    urls: dict[str, str] = {}
    for name in (send_queue, events_queue):
        dlq_url = sqs_client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs_client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]
        urls[f"{name}-dlq"] = dlq_url
        urls[name] = sqs_client.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
        })["QueueUrl"]
    return urls
