"""What a service asks for the time: a callable returning an aware UTC datetime.

The composition root gives services ``system_clock``; tests give them a clock they move by hand
(tests/support/clock.py). No module reads the wall clock itself.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)
