"""The SES sending rate, shared by every concurrent sender.

SES allows an account so many messages per second. Each second is one counter
item in DynamoDB; a sender takes a slot with a conditional ADD (refused when the
second is full) and otherwise waits for the next second. So any number of
Lambda workers together stay under the rate, and SES throttling becomes the
exception (it is still retried with backoff by the queue handler).
"""
from __future__ import annotations

import math
import time
from typing import Callable, Optional

from chalicelib.mail.messenger import Messenger, TransientSendError

DEFAULT_RATE = 14.0  # SES's starting production quota, messages per second
MAX_WAIT_SECONDS = 10.0


class RateLimitedMessenger:
    def __init__(self, inner: Messenger, take_slot: Optional[Callable[[int, int], bool]] = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep, *,
                 rate: float = DEFAULT_RATE):
        self._inner = inner
        self._rate = rate
        self._take_slot = take_slot or take_slot_in_dynamodb
        self._clock = clock
        self._sleep = sleep

    def send_raw(self, **message) -> str:
        self.wait_for_slot()
        return self._inner.send_raw(**message)

    def wait_for_slot(self) -> None:
        limit = max(1, math.floor(self._rate))
        deadline = self._clock() + MAX_WAIT_SECONDS
        while True:
            second = int(self._clock())
            if self._take_slot(second, limit):
                return
            if self._clock() >= deadline:
                raise TransientSendError("the shared sending rate is exhausted; retrying later")
            self._sleep(max(0.0, second + 1 - self._clock()) + 0.001)


def take_slot_in_dynamodb(second: int, limit: int) -> bool:
    from botocore.exceptions import ClientError

    from chalicelib.store.connection import connection
    from chalicelib.store.models import Item

    try:
        connection().client.update_item(
            TableName=Item.Meta.table_name, Key={"pk": {"S": f"SESRATE#{second}"}, "sk": {"S": "RATE"}},
            UpdateExpression="SET #type = :type, #ttl = :ttl ADD #sent :one",
            ConditionExpression="attribute_not_exists(#sent) OR #sent < :limit",
            ExpressionAttributeNames={"#type": "type", "#ttl": "ttl", "#sent": "sent"},
            ExpressionAttributeValues={":type": {"S": "ses_rate"}, ":ttl": {"N": str(second + 3600)},
                                       ":one": {"N": "1"}, ":limit": {"N": str(limit)}})
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
