"""Loaded only under ``make test-clock`` (PYTHONPATH), in every Python process of the run.

The shifted run leaves monotonic clocks real (``FAKETIME_DONT_FAKE_MONOTONIC=1``): with them
faked, every timed lock wait (``Event.wait(0.2)``, ``queue.get(timeout=…)``) blocks for the whole
shift, because glibc's ``sem_clockwait`` is not intercepted. But libfaketime 0.9.10 then turns
the absolute monotonic deadline of ``time.sleep`` (``clock_nanosleep`` with ``TIMER_ABSTIME``)
into EINVAL. A relative ``select`` sleeps the same time and is left alone.
"""
import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


time.sleep = _sleep
