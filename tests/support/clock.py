"""A clock the tests move by hand: the services read ``bootstrap.now``, never the wall clock."""
from __future__ import annotations

from datetime import datetime, timedelta

# A fixed instant far from any real date the suite runs on (CI also runs it 400 days ahead).
T0 = datetime.fromisoformat("2031-03-14T09:00:00+00:00")


class Clock:
    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def install_clock(monkeypatch, start: datetime = T0) -> Clock:
    from chalicelib import bootstrap

    clock = Clock(start)
    monkeypatch.setattr(bootstrap, "now", clock)
    return clock
