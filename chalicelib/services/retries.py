"""Deciding again after losing an optimistic race: the one retry loop of the use cases.

A use case reads, decides and commits its change on the versions it read; when another writer
committed first, the store refuses it (``ConcurrentChange``) and nothing of it lands. Then it
reads and decides again, after a short jittered pause so racing writers spread out, a bounded
number of times (``store/retries.retried``, the one loop beneath), and finally answers ``Busy``
(503: the client retries later), or whatever the caller says a busy outcome is (a job that
skips the customer until its next run, a page).
"""
from __future__ import annotations

from typing import Callable, Optional, TypeVar

from chalicelib.errors import Busy
from chalicelib.store.loyalty.repository import ConcurrentChange
from chalicelib.store.retries import retried

T = TypeVar("T")

MAX_ATTEMPTS = 10
BUSY = "too many concurrent changes to this customer; please retry"


def retry_on_conflict(decide: Callable[[], T], *, attempts: int = MAX_ATTEMPTS, busy: str = BUSY,
                      conflicts: tuple[type[Exception], ...] = (ConcurrentChange,),
                      exhausted: Optional[Callable[[], T]] = None) -> T:
    """``decide()``'s answer; each of ``conflicts`` (a lost optimistic race) it raises makes it
    run again (it reads afresh), up to ``attempts`` times; then ``exhausted()``'s answer, or
    ``Busy(busy)`` without one."""
    try:
        return retried(decide, lost_race=lambda error: isinstance(error, conflicts), attempts=attempts)
    except conflicts:
        if exhausted is not None:
            return exhausted()
        raise Busy(busy) from None
