"""The send queue (SQS): e-mails on their way to the sender, in batches of ten."""
from __future__ import annotations

import json
from typing import Optional


class SendQueue:
    def __init__(self, client, queue_name: str):
        self._client = client
        self._name = queue_name
        self._url: Optional[str] = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._client.get_queue_url(QueueName=self._name)["QueueUrl"]
        return self._url

    def send(self, messages: list[dict]) -> None:
        for start in range(0, len(messages), 10):
            batch = messages[start:start + 10]
            response = self._client.send_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "MessageBody": json.dumps(message)} for i, message in enumerate(batch)])
            if response.get("Failed"):
                raise RuntimeError(f"SQS refused {len(response['Failed'])} message(s): {response['Failed'][0]}")

    def waiting(self) -> int:
        """Messages in the queue, visible or being handled (SQS's approximate counts)."""
        attributes = self._client.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def delay(self, receipt_handle: str, seconds: int) -> None:
        self._client.change_message_visibility(QueueUrl=self.url, ReceiptHandle=receipt_handle,
                                               VisibilityTimeout=seconds)
