"""The shared sending rate: never more than the limit in a second, across senders."""
from collections import Counter

import pytest

from chalicelib.mail.messenger import TransientSendError
from chalicelib.mail.rate_limit import RateLimitedMessenger


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Recorder:
    def __init__(self, clock):
        self.clock, self.sent = clock, []

    def send_raw(self, **message):
        self.sent.append(int(self.clock.now))
        return "id"


def test_senders_sharing_the_counter_stay_under_the_rate(monkeypatch):
    clock, counter = FakeClock(), Counter()

    def take(second, limit):
        if counter[second] >= limit:
            return False
        counter[second] += 1
        return True

    inner = Recorder(clock)
    senders = [RateLimitedMessenger(inner, take, clock.time, clock.sleep, rate=3) for _ in range(4)]
    for n in range(20):
        senders[n % 4].send_raw(sender="a", recipient="b", raw=b"", configuration_set=None, tags={})
    per_second = Counter(inner.sent)
    assert max(per_second.values()) == 3 and sum(per_second.values()) == 20


def test_a_full_rate_for_too_long_is_a_transient_error(monkeypatch):
    clock = FakeClock()
    limited = RateLimitedMessenger(Recorder(clock), lambda second, limit: False, clock.time, clock.sleep)
    with pytest.raises(TransientSendError):
        limited.send_raw(sender="a", recipient="b", raw=b"", configuration_set=None, tags={})
