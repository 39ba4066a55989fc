"""The send queue drained as Lambda's SQS event source does, against the emulator.

Each message is received from the real queue and handed to the app's ``send_email``
handler in a real SQS event (its receipt handle and receive count included, so the
handler's back-off works on the real message); a handler that raises leaves the
message on the queue, to come back and, after the queue's maxReceiveCount, to land in
the dead-letter queue. A handler that returns gets its message deleted.
"""
from __future__ import annotations

import time
from collections import Counter

import boto3


def sqs_record(message: dict, queue_arn: str) -> dict:
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "eu-central-1",
    }


def drain(client, queue_name: str, *, handler: str = "send_email", timeout: float = 120) -> Counter:
    """Invoke ``handler`` for every message until the queue (visible and in flight) is empty.
    Returns how the invocations ended: ``ok`` or the exception's class name."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    outcomes: Counter = Counter()
    deadline = time.monotonic() + timeout
    empty_looks = 0
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not messages:
            # The emulator counts visible and in-flight messages one after the other: a message
            # whose visibility ends between the two counts is in neither. Empty twice, 0.1 s
            # apart, is empty.
            empty_looks = empty_looks + 1 if _depth(sqs, url) == 0 else 0
            if empty_looks == 2:
                return outcomes
            time.sleep(0.1)
            continue
        empty_looks = 0
        for message in messages:
            try:
                client.lambda_.invoke(handler, {"Records": [sqs_record(message, arn)]})
            except Exception as error:  # Lambda reports the failure; SQS brings the message back
                outcomes[type(error).__name__] += 1
                continue
            outcomes["ok"] += 1
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError(f"{queue_name} still had messages after {timeout} s: {dict(outcomes)}")


def queue_depth(queue_name: str) -> int:
    sqs = boto3.client("sqs")
    return _depth(sqs, sqs.get_queue_url(QueueName=queue_name)["QueueUrl"])


def _depth(sqs, url: str) -> int:
    """Visible and in-flight messages."""
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(value) for value in counts.values())
