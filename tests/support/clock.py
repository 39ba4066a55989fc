"""A clock the tests move by hand. Services read the time only from the clock their ``Deps``
carry; a test passes this one (``FakeClock`` to ``composition.build``, or ``install_clock`` for
the app the test client runs), never patching a module global."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

# A fixed instant far from any real date the suite runs on (CI also runs it 400 days ahead).
T0 = datetime.fromisoformat("2031-03-14T09:00:00+00:00")


class FakeClock:
    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


def install_clock(start: datetime = T0) -> FakeClock:
    """The app's dependencies (the test's cold start) run on a clock the test moves."""
    from chalicelib import composition

    clock = FakeClock(start)
    composition.use_clock(clock)
    return clock


@pytest.fixture(name="clock")
def app_clock(table) -> FakeClock:
    """The ``clock`` fixture of a test module that imports it: the app on this test's table runs
    on a FakeClock at T0, which the test moves."""
    return install_clock(T0)
