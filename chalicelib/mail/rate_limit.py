"""The SES sending rate, shared by every concurrent sender.

SES allows an account so many messages per second. Each epoch second is one counter item in
DynamoDB (``sent``, refused past ``limit`` by a condition). A sender does not take its slots one
request at a time: it reserves, in ONE conditional UpdateItem, as many slots of the current second
as it still expects to send (the send consumer's hint: what is left of its queue batch, at most the
limit), and then spends them locally, one per e-mail. When the second cannot give that many, the
refusal tells how many it still has (``ReturnValuesOnConditionCheckFailure``) and the sender takes
those; when it has none, the sender waits for the next second. So a batch of ten costs one request,
not ten, and any number of Lambda workers together still never take more than ``limit`` slots of a
second: every slot spent was counted in the item under the condition first.

Slots reserved and not spent (an e-mail skipped or a duplicate after its slots were reserved, the
second running out while a sender still holds some) are simply lost with their second: the rate is
never exceeded; at worst one second is under-used by what one sender held. Reserved slots are only
spent in the second they were reserved for. SES throttling is still retried with backoff by the
queue handler, as before.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable, Optional

from chalicelib.mail.messenger import Messenger, TransientSendError

DEFAULT_RATE = 14.0  # SES's starting production quota, messages per second
MAX_WAIT_SECONDS = 10.0
_TRIES_PER_TAKE = 3  # a second fought over by many senders is, after that, taken as full

# take_slots(second, wanted, limit) -> how many of ``wanted`` slots of ``second`` were taken (0..wanted)
TakeSlots = Callable[[int, int, int], int]


class RateLimitedMessenger:
    """A Messenger that sends only on a slot of the shared per-second counter."""

    def __init__(self, inner: Messenger, take_slots: Optional[TakeSlots] = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep, *,
                 rate: float = DEFAULT_RATE):
        self._inner = inner
        self._rate = rate
        self._take_slots = take_slots or take_slots_in_dynamodb
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()  # the slots held are this process's, whichever thread spends them
        self._held_second: Optional[int] = None
        self._held = 0
        self._full_second: Optional[int] = None  # a second known to be full: not asked again
        self._expected = threading.local()  # each sending thread's hint (expect_sends)

    def expect_sends(self, count: int) -> None:
        """The calling thread expects to send about ``count`` more e-mails soon, the next one
        included (the send consumer: what is left of its batch). A reservation takes up to that
        many slots (at most the limit); without a hint, one."""
        self._expected.count = max(1, int(count))

    def send_raw(self, **message) -> str:
        self.wait_for_slot()
        self._expected.count = max(1, getattr(self._expected, "count", 1) - 1)
        return self._inner.send_raw(**message)

    def wait_for_slot(self) -> None:
        limit = max(1, math.floor(self._rate))
        deadline = self._clock() + MAX_WAIT_SECONDS
        while True:
            second = int(self._clock())
            if self._spend_held(second):
                return
            if second != self._full_second:
                wanted = min(limit, getattr(self._expected, "count", 1))
                taken = self._take_slots(second, wanted, limit)
                if taken < wanted or taken == limit:  # it gave what it had left: full (counts only grow)
                    self._full_second = second
                if taken > 0:
                    with self._lock:
                        if self._held_second != second:
                            self._held_second, self._held = second, 0
                        self._held += taken - 1  # one is this e-mail's
                    return
            if self._clock() >= deadline:
                raise TransientSendError("the shared sending rate is exhausted; retrying later")
            self._sleep(max(0.0, second + 1 - self._clock()) + 0.001)

    def _spend_held(self, second: int) -> bool:
        with self._lock:
            if self._held_second == second and self._held > 0:
                self._held -= 1
                return True
            return False


def expect_sends(messenger, count: int) -> None:
    """Tell ``messenger`` how many e-mails its caller still has to send (see
    ``RateLimitedMessenger.expect_sends``); other messengers (SES stubs, tests) ignore it."""
    hint = getattr(messenger, "expect_sends", None)
    if hint is not None:
        hint(count)


def take_slots_in_dynamodb(second: int, wanted: int, limit: int) -> int:
    """Up to ``wanted`` slots of ``second``: one conditional ADD (``sent + wanted <= limit``); when
    refused, DynamoDB's refusal carries the item, and what the second still has is taken the same
    way. Returns the slots taken (0: the second is full).

    The ADD goes on the send path's lean path (``lean_requests.call``), which hands anything but a
    plain 200 to botocore with the same parameters; so, as botocore's own retries do, an ADD whose
    answer was lost may be applied twice. That is safe here: the condition is checked on every
    application, so ``sent`` never passes ``limit``; an ADD counted twice only leaves its slots of
    that one second unused (under-use, never a send over the rate)."""
    for _ in range(_TRIES_PER_TAKE):
        refused, sent = _add_sent(second, wanted, limit)
        if not refused:
            return wanted
        left = limit - sent if sent is not None else 0  # (no item in the refusal: taken as full)
        if left <= 0:
            return 0
        wanted = min(wanted, left)
    return 0


def _add_sent(second: int, count: int, limit: int) -> tuple[bool, Optional[int]]:
    """(refused, ``sent`` as the refusal found it, or None) for ``ADD sent :count`` when
    ``sent <= limit - count``."""
    from botocore.exceptions import ClientError

    from chalicelib.store import lean_requests
    from chalicelib.store.connection import connection
    from chalicelib.store.models import Item

    client = connection().client
    try:
        lean_requests.call(client, "UpdateItem", {
            "TableName": Item.Meta.table_name, "Key": {"pk": {"S": f"SESRATE#{second}"}, "sk": {"S": "RATE"}},
            "UpdateExpression": "SET #type = :type, #ttl = :ttl ADD #sent :count",
            "ConditionExpression": "attribute_not_exists(#sent) OR #sent <= :room",
            "ExpressionAttributeNames": {"#type": "type", "#ttl": "ttl", "#sent": "sent"},
            "ExpressionAttributeValues": {":type": {"S": "ses_rate"}, ":ttl": {"N": str(second + 3600)},
                                          ":count": {"N": str(count)}, ":room": {"N": str(limit - count)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        sent = error.response.get("Item", {}).get("sent", {}).get("N")
        return True, int(sent) if sent is not None else None
    return False, None
