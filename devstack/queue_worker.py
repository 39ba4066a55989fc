"""Runs the app's SQS handlers locally: `chalice local` serves only HTTP.

Polls each queue on the emulator and hands every message to the same Chalice
handler Lambda would run (through chalice.test's Lambda client, so the
handler's event shape is the real one). A message whose handler fails is left
on the queue: it comes back after the visibility timeout and, after
MAX_RECEIVES tries, lands in the dead-letter queue, as on AWS.
"""
from __future__ import annotations

import logging
import threading
from typing import Optional

logger = logging.getLogger("loyalty.devstack.queues")


class QueueWorker:
    def __init__(self, routes: dict[str, str]):
        """``routes``: queue name → name of the app's handler function."""
        self._routes = routes
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.handled = 0
        self.failed = 0
        self._idle = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="queue-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def wait_idle(self, timeout: float = 30) -> bool:
        """Wait until one full pass over the queues found nothing to do."""
        self._idle.clear()
        return self._idle.wait(timeout)

    def _run(self) -> None:
        import boto3
        from chalice.test import Client

        from app import app

        sqs = boto3.client("sqs")
        urls = {name: sqs.get_queue_url(QueueName=name)["QueueUrl"] for name in self._routes}
        with Client(app, stage_name="local") as client:
            while not self._stop.is_set():
                busy = False
                for name, handler in self._routes.items():
                    messages = sqs.receive_message(QueueUrl=urls[name], MaxNumberOfMessages=1, WaitTimeSeconds=0,
                                                   AttributeNames=["SentTimestamp", "ApproximateReceiveCount"]
                                                   ).get("Messages", [])
                    for message in messages:
                        busy = True
                        self._handle(client, sqs, urls[name], name, handler, message)
                if not busy:
                    self._idle.set()
                    self._stop.wait(0.2)

    def _handle(self, client, sqs, url: str, queue: str, handler: str, message: dict) -> None:
        event = client.events.generate_sqs_event(message_bodies=[message["Body"]], queue_name=queue)
        # The message's own attributes, as Lambda passes them (chalice.test writes fixed ones).
        event["Records"][0]["attributes"].update(message.get("Attributes", {}))
        try:
            response = client.lambda_.invoke(handler, event)
        except Exception:  # like Lambda: the message stays, is retried, and finally dead-lettered
            self.failed += 1
            logger.exception("handler %s failed on a message from %s; it will be retried", handler, queue)
            return
        if isinstance(response.payload, dict) and response.payload.get("batchItemFailures"):  # reported failed: it stays, as on AWS
            self.failed += 1
            return
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        self.handled += 1
