"""Creates the SQS queues (each with its dead-letter queue) for the local stack and tests."""
from __future__ import annotations

import json

# Tries before a message is parked in the dead-letter queue. Transient SES failures spend these
# tries too: with a share p of sends failing, a message is dead-lettered with probability p ** N.
# At p = 30 % (tests/reliability/test_ses_faults.py) N = 5 parked 2,430 e-mails per million; N = 12
# parks about 0.5 per million, and the handler's back-off (10 s doubling to 15 min) spreads the
# 12 tries over about 80 minutes: longer than an SES brown-out. Poison is reported on its first
# try already (an ERROR log naming the reason), so the later parking costs nothing.
MAX_RECEIVES = 12


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
