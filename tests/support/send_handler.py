"""The app's send-queue handler invoked the way Lambda's SQS event source would, one message per event."""
from __future__ import annotations

import json
import os


def run_send_handler(messages: list[dict]) -> None:
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as client:
        for message in messages:
            event = client.events.generate_sqs_event(message_bodies=[json.dumps(message)],
                                                     queue_name=os.environ["LOYALTY_SEND_QUEUE"])
            client.lambda_.invoke("send_email", event)
