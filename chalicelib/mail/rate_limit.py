"""The SES sending rate, shared by every concurrent sender.

SES allows an account so many messages per second. The counts live in DynamoDB, one item per
window of ``WINDOW_SECONDS`` (a minute) holding one counter per second of it (``s0`` … ``s59``).
A sender does not take its slots one request at a time: it reserves, in ONE UpdateItem, as many
slots as it still expects to send (the send consumer's hint: what is left of its queue batch),
spread over the current second and, when the second cannot hold them all, the following ones of
the same window: ``ADD`` on each of those seconds' counters, answered with the counts after it
(``ReturnValues=UPDATED_NEW``). In each second the sender took the places ``[after - asked,
after)`` of the count and keeps those below the limit. Slots held for a later second stay in the
process (per second) and are spent by this batch or the next one when that second comes. So a
batch of ten costs one request, even when the current second has only four left, and any number
of Lambda workers together still never take more than ``limit`` slots of any second: every slot
spent is a place of that second's count below the limit, spent in that second, and no place is
given twice.

How much to ask of each second: what this process last saw of that second's count (its own
earlier answers), the rest of the need on the seconds after it. A second another sender filled
in between gives fewer than asked; the shortfall is asked for again in a later second (a second
request, only under contention). A reservation never crosses a window's end: a batch whose slots
would run past the minute's last second takes what that window gives and asks the next window's
item for the rest when its first second comes (a second request for the batches that straddle a
minute: at 14/s with one sender, about one batch in 84).

Slots reserved and not spent (an e-mail skipped or a duplicate after its slots were reserved, the
second passing while a sender still holds some, a Lambda that gets no next batch) are simply lost
with their second: the rate is never exceeded; at worst a second is under-used by what one sender
held. SES throttling is still retried with backoff by the queue handler, as before.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable, Mapping, NamedTuple, Optional

from chalicelib.mail.messenger import Messenger, TransientSendError

DEFAULT_RATE = 14.0  # SES's starting production quota, messages per second
MAX_WAIT_SECONDS = 10.0
WINDOW_SECONDS = 60  # one counter item per minute, one counter per second in it
HORIZON_SECONDS = 10  # a reservation reaches at most this many seconds ahead (the batch's seconds)


class Taken(NamedTuple):
    """What one second gave a reservation: ``granted`` slots, and its ``count`` after the ADD."""

    granted: int
    count: int


# take_slots({second: wanted, ...}, limit) -> {second: Taken}: the seconds all of one window
TakeSlots = Callable[[Mapping[int, int], int], Mapping[int, Taken]]


def window_of(second: int) -> int:
    """The first second of ``second``'s window (its counter item)."""
    return second - second % WINDOW_SECONDS


def granted_of(asked: int, after: int, limit: int) -> int:
    """An ADD of ``asked`` answered with ``after`` took the places ``[after - asked, after)``: the
    ones below ``limit`` are the sender's."""
    return max(0, min(asked, limit - (after - asked)))


class RateLimitedMessenger:
    """A Messenger that sends only on a slot of the shared per-second counters."""

    def __init__(self, inner: Messenger, take_slots: Optional[TakeSlots] = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep, *,
                 rate: float = DEFAULT_RATE):
        self._inner = inner
        self._rate = rate
        self._take_slots = take_slots or take_slots_in_dynamodb
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()  # the slots held are this process's, whichever thread spends them
        self._held: dict[int, int] = {}  # second -> slots of it reserved and not spent yet
        self._counts: dict[int, int] = {}  # second -> the highest count of it an answer showed
        self._expected = threading.local()  # each sending thread's hint (expect_sends)

    def expect_sends(self, count: int) -> None:
        """The calling thread expects to send about ``count`` more e-mails soon, the next one
        included (the send consumer: what is left of its batch). A reservation asks for that many
        slots, less those the process already holds for later seconds; without a hint, one."""
        self._expected.count = max(1, int(count))

    def send_raw(self, **message) -> str:
        self.wait_for_slot()
        self._expected.count = max(1, getattr(self._expected, "count", 1) - 1)
        return self._inner.send_raw(**message)

    def wait_for_slot(self) -> None:
        limit = max(1, math.floor(self._rate))
        deadline = self._clock() + MAX_WAIT_SECONDS
        asked_in: Optional[int] = None  # at most one reservation a second per e-mail
        while True:
            second = int(self._clock())
            with self._lock:
                self._forget_before(second)
                if self._held.get(second, 0) > 0:
                    self._held[second] -= 1
                    return
                need = getattr(self._expected, "count", 1) - sum(self._held.values())
                plan = self._plan(second, need, limit) if need > 0 and asked_in != second else {}
            if plan:
                asked_in = second
                taken = self._take_slots(plan, limit)
                with self._lock:
                    for held_second, (granted, count) in taken.items():
                        self._counts[held_second] = max(count, self._counts.get(held_second, 0))
                        if granted > 0:
                            self._held[held_second] = self._held.get(held_second, 0) + granted
                continue  # spend one now if the current second gave any
            if self._clock() >= deadline:
                raise TransientSendError("the shared sending rate is exhausted; retrying later")
            self._sleep(max(0.0, second + 1 - self._clock()) + 0.001)

    def _plan(self, second: int, need: int, limit: int) -> dict[int, int]:
        """How many slots to ask of each second: from the first second not known to be full, what
        each is known to have left, until ``need`` is covered, within that second's window and the
        horizon."""
        plan: dict[int, int] = {}
        window = None
        for ahead in range(second, second + HORIZON_SECONDS):
            left = limit - self._counts.get(ahead, 0)
            if left <= 0 and window is None:
                continue
            if window is None:
                window = window_of(ahead)
            if window_of(ahead) != window or need <= 0:
                break
            if left > 0:
                plan[ahead] = min(need, left)
                need -= plan[ahead]
        return plan

    def _forget_before(self, second: int) -> None:
        """Slots of seconds gone are lost (never spent late); their counts no longer matter."""
        for stale in [held for held in self._held if held < second]:
            del self._held[stale]
        if len(self._counts) > 4 * HORIZON_SECONDS:
            for stale in [seen for seen in self._counts if seen < second]:
                del self._counts[stale]


def expect_sends(messenger, count: int) -> None:
    """Tell ``messenger`` how many e-mails its caller still has to send (see
    ``RateLimitedMessenger.expect_sends``); other messengers (SES stubs, tests) ignore it."""
    hint = getattr(messenger, "expect_sends", None)
    if hint is not None:
        hint(count)


def take_slots_in_dynamodb(asks: Mapping[int, int], limit: int) -> dict[int, Taken]:
    """Slots of the seconds in ``asks`` (second -> how many), all of one window, in ONE UpdateItem
    on the window's item: ``ADD s<i> :wanted`` per second, answered with the counts after it
    (``UPDATED_NEW``). In each second the request took the count's places ``[after - wanted,
    after)``; the ones below ``limit`` are this sender's (all of them, some, or none when the
    second is full). No condition, so no refusal and no second request: senders racing for a
    second's last slots each get a disjoint part of its count, and together never more than
    ``limit`` (the count itself may pass the limit; it is only a count, and the item expires an
    hour after its window).

    It goes on the send path's lean path (``lean_requests.call``), which hands anything but a plain
    200 to botocore with the same parameters; so, as botocore's own retries do anyway, an ADD whose
    answer was lost may be applied twice. That is safe: the first application's places are simply
    never used (those seconds are under-used by them), and the places granted still all lie below
    ``limit``; a repeat can never make a send over the rate."""
    from chalicelib.store import lean_requests
    from chalicelib.store.connection import connection
    from chalicelib.store.models import Item

    if not asks:
        return {}
    start = window_of(min(asks))
    if any(window_of(second) != start or wanted < 1 for second, wanted in asks.items()):
        raise ValueError(f"a reservation is positive counts of one window's seconds: {dict(asks)}")
    names = {"#type": "type", "#ttl": "ttl"}
    values = {":type": {"S": "ses_rate"}, ":ttl": {"N": str(start + WINDOW_SECONDS + 3600)}}
    adds = []
    for second, wanted in sorted(asks.items()):
        offset = second - start
        names[f"#s{offset}"] = f"s{offset}"
        values[f":s{offset}"] = {"N": str(int(wanted))}
        adds.append(f"#s{offset} :s{offset}")
    answer = lean_requests.call(connection().client, "UpdateItem", {
        "TableName": Item.Meta.table_name,
        "Key": {"pk": {"S": f"SESRATE#{start}"}, "sk": {"S": f"WINDOW#{WINDOW_SECONDS}"}},
        "UpdateExpression": "SET #type = :type, #ttl = :ttl ADD " + ", ".join(adds),
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
        "ReturnValues": "UPDATED_NEW"})
    counts = answer["Attributes"]
    taken = {}
    for second, wanted in asks.items():
        after = int(counts[f"s{second - start}"]["N"])
        taken[second] = Taken(granted_of(wanted, after, limit), after)
    return taken
