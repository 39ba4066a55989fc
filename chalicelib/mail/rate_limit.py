"""The SES sending rate, shared by every concurrent sender.

SES allows an account so many messages per second. Each epoch second is one counter item in
DynamoDB (``sent``). A sender does not take its slots one request at a time: it reserves, in ONE
UpdateItem, as many slots of the current second as it still expects to send (the send consumer's
hint: what is left of its queue batch, at most the limit), and then spends them locally, one per
e-mail. The ADD answers with the count after it, so the sender knows which places of the count it
took and keeps those below the limit: all it asked for, fewer when the second had fewer left, none
when it was full (then it waits for the next second). So a batch of ten costs one request, not ten,
and any number of Lambda workers together still never take more than ``limit`` slots of a second:
every slot spent is a place of that second's count below the limit, and no place is given twice.

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
    """Up to ``wanted`` slots of ``second``, in one UpdateItem: ``ADD sent :wanted``, answered with
    the count after it. The request took the counter's places ``[after - wanted, after)``; the ones
    below ``limit`` are this sender's (all of them, some, or none when the second is full). No
    condition, so no refusal and no second request: senders racing for a second's last slots each
    get a disjoint part of the count, and together never more than ``limit`` (the count itself may
    pass the limit; it is only a count, and the item expires an hour later).

    It goes on the send path's lean path (``lean_requests.call``), which hands anything but a plain
    200 to botocore with the same parameters; so, as botocore's own retries do anyway, an ADD whose
    answer was lost may be applied twice. That is safe: the first application's places are simply
    never used (that second is under-used by them), and the places granted still all lie below
    ``limit``; a repeat can never make a send over the rate."""
    from chalicelib.store import lean_requests
    from chalicelib.store.connection import connection
    from chalicelib.store.models import Item

    answer = lean_requests.call(connection().client, "UpdateItem", {
        "TableName": Item.Meta.table_name, "Key": {"pk": {"S": f"SESRATE#{second}"}, "sk": {"S": "RATE"}},
        "UpdateExpression": "SET #type = :type, #ttl = :ttl ADD #sent :count",
        "ExpressionAttributeNames": {"#type": "type", "#ttl": "ttl", "#sent": "sent"},
        "ExpressionAttributeValues": {":type": {"S": "ses_rate"}, ":ttl": {"N": str(second + 3600)},
                                      ":count": {"N": str(wanted)}},
        "ReturnValues": "UPDATED_NEW"})
    after = int(answer["Attributes"]["sent"]["N"])
    return max(0, min(wanted, limit - (after - wanted)))
