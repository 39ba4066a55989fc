"""Trying again after losing a race with another writer: the one retry loop of the code.

A write refused because another writer committed first (a version or a transaction conflict)
is tried again after a short jittered pause, so racing writers spread out, a bounded number of
times. Below both its users: ``services/retries.retry_on_conflict`` (a use case reads and decides
again) and the store's own unconditional writes (``store/mail`` final writes, which write the same
thing again).
"""
from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

T = TypeVar("T")


def retried(attempt: Callable[[], T], *, lost_race: Callable[[Exception], bool], attempts: int) -> T:
    """``attempt()``'s answer; an exception ``lost_race`` says is a lost race runs it again, up to
    ``attempts`` times in all, then propagates; any other exception propagates at once."""
    for number in range(attempts):
        try:
            return attempt()
        except Exception as error:
            if number + 1 >= attempts or not lost_race(error):
                raise
            time.sleep(random.uniform(0, 0.01 * (2 ** min(number, 5))))
    raise ValueError("attempts must be at least 1")
