"""The one retry loop of the use cases: decide again after a lost optimistic race, then give up."""
from __future__ import annotations

import pytest

from chalicelib.errors import Busy
from chalicelib.services.retries import retry_on_conflict
from chalicelib.store.loyalty.repository import ConcurrentChange
from chalicelib.store.privacy.privacy import ProfileChanged


def _losing(times: int, error: type[Exception] = ConcurrentChange):
    reads = []

    def decide():
        reads.append(len(reads) + 1)
        if len(reads) <= times:
            raise error("someone else committed first")
        return f"decided on read {len(reads)}"
    return decide, reads


def test_a_lost_race_is_decided_again_on_a_fresh_read():
    decide, reads = _losing(2)
    assert retry_on_conflict(decide, attempts=5) == "decided on read 3"
    assert reads == [1, 2, 3]


def test_still_losing_after_the_last_attempt_is_busy_or_the_callers_answer():
    decide, reads = _losing(10)
    with pytest.raises(Busy, match="kept changing"):
        retry_on_conflict(decide, attempts=3, busy="kept changing")
    assert len(reads) == 3

    decide, reads = _losing(10)
    assert retry_on_conflict(decide, attempts=4, exhausted=lambda: ("busy", len(reads))) == ("busy", 4)


def test_only_the_named_conflicts_are_retried():
    decide, reads = _losing(1, ProfileChanged)
    with pytest.raises(ProfileChanged):
        retry_on_conflict(decide, attempts=5)
    assert reads == [1]

    decide, reads = _losing(1, ProfileChanged)
    assert retry_on_conflict(decide, attempts=5, conflicts=(ConcurrentChange, ProfileChanged)) == "decided on read 2"

    def broken():
        raise ValueError("not a race")
    with pytest.raises(ValueError):
        retry_on_conflict(broken)


def test_the_loop_beneath_tries_again_only_what_its_caller_calls_a_lost_race_and_raises_the_last_one():
    from chalicelib.store.retries import retried

    tries = []

    def conflicting():
        tries.append(len(tries) + 1)
        raise RuntimeError(f"TransactionConflict {len(tries)}")

    with pytest.raises(RuntimeError, match="TransactionConflict 3"):
        retried(conflicting, lost_race=lambda error: "TransactionConflict" in str(error), attempts=3)
    assert tries == [1, 2, 3]

    tries.clear()
    with pytest.raises(RuntimeError, match="TransactionConflict 1"):
        retried(conflicting, lost_race=lambda error: False, attempts=3)
    assert tries == [1]
