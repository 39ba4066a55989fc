"""The shared sending rate: never more than the limit in a second, across senders, with a batch's
slots reserved in one take."""
from collections import Counter

import pytest

from chalicelib.mail.messenger import TransientSendError
from chalicelib.mail.rate_limit import RateLimitedMessenger, expect_sends

MESSAGE = {"sender": "a", "recipient": "b", "raw": b"", "configuration_set": None, "tags": {}}


class FakeClock:
    def __init__(self, now=1000.0):
        self.now = now

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Recorder:
    def __init__(self, clock, spends=0.0):
        self.clock, self.sent, self.spends = clock, [], spends

    def send_raw(self, **message):
        self.sent.append(int(self.clock.now))
        self.clock.now += self.spends  # what a send takes, on the fake clock
        return "id"


class SharedCounter:
    """``take_slots`` as the DynamoDB item answers it: all of ``wanted`` when they fit, else what the
    second still has (the refusal's item, then the smaller ADD), else none."""

    def __init__(self):
        self.sent, self.takes = Counter(), []

    def __call__(self, second, wanted, limit):
        assert 1 <= wanted <= limit
        taken = min(wanted, limit - self.sent[second])
        self.sent[second] += taken
        self.takes.append((second, wanted, taken))
        return taken


def test_senders_sharing_the_counter_never_pass_the_rate_in_any_second():
    clock, counter = FakeClock(), SharedCounter()
    inner = Recorder(clock, spends=0.013)
    senders = [RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=7) for _ in range(4)]
    # four senders taking turns through batches of 10, 3 and 1, each telling what its batch has left
    for batch in range(12):
        size = (10, 3, 1)[batch % 3]
        for left in range(size, 0, -1):
            sender = senders[(batch + left) % 4]
            expect_sends(sender, left)
            sender.send_raw(**MESSAGE)
    per_second = Counter(inner.sent)
    assert sum(per_second.values()) == 4 * (10 + 3 + 1)
    assert max(per_second.values()) <= 7
    assert all(counter.sent[second] <= 7 for second in counter.sent)
    # every e-mail sent in a second had its slot counted in that second's item
    assert all(per_second[second] <= counter.sent[second] for second in per_second)


def test_a_batch_reserves_its_slots_in_one_take_and_spends_them_locally():
    clock, counter = FakeClock(), SharedCounter()
    limited = RateLimitedMessenger(Recorder(clock), counter, clock.time, clock.sleep, rate=100)
    for left in range(10, 0, -1):
        expect_sends(limited, left)
        limited.send_raw(**MESSAGE)
    assert counter.takes == [(1000, 10, 10)]


def test_the_reservation_is_capped_by_the_limit_and_the_rest_waits_for_the_next_second():
    clock, counter = FakeClock(), SharedCounter()
    inner = Recorder(clock)
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=4)
    for left in range(10, 0, -1):
        expect_sends(limited, left)
        limited.send_raw(**MESSAGE)
    assert Counter(inner.sent) == {1000: 4, 1001: 4, 1002: 2}
    assert [(second, wanted) for second, wanted, _ in counter.takes] == [(1000, 4), (1001, 4), (1002, 2)]


def test_a_second_another_sender_filled_in_part_gives_what_it_has_left():
    clock, counter = FakeClock(), SharedCounter()
    counter.sent[1000] = 6  # another Lambda took 6 of this second's 8
    inner = Recorder(clock)
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=8)
    limited.expect_sends(5)
    for _ in range(5):
        limited.send_raw(**MESSAGE)
    assert Counter(inner.sent) == {1000: 2, 1001: 3}
    assert counter.sent[1000] == 8


def test_slots_held_are_not_spent_after_their_second():
    clock, counter = FakeClock(999.9), SharedCounter()
    inner = Recorder(clock, spends=0.06)  # the second turns after two sends
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=50)
    limited.expect_sends(5)
    for _ in range(5):
        limited.send_raw(**MESSAGE)
    assert [(second, taken) for second, _, taken in counter.takes] == [(999, 5), (1000, 3)]
    assert Counter(inner.sent) == {999: 2, 1000: 3}  # the 3 slots left of second 999: unused, not carried over


def test_without_a_hint_each_send_takes_one_slot():
    clock, counter = FakeClock(), SharedCounter()
    limited = RateLimitedMessenger(Recorder(clock), counter, clock.time, clock.sleep, rate=100)
    for _ in range(3):
        limited.send_raw(**MESSAGE)
    assert [wanted for _, wanted, _ in counter.takes] == [1, 1, 1]


def test_the_hint_counts_down_with_each_send_and_never_below_one():
    clock, counter = FakeClock(), SharedCounter()
    inner = Recorder(clock, spends=1.0)  # every send in a second of its own: a new take each time
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=100)
    limited.expect_sends(3)
    for _ in range(5):
        limited.send_raw(**MESSAGE)
    assert [wanted for _, wanted, _ in counter.takes] == [3, 2, 1, 1, 1]


def test_a_messenger_without_a_rate_ignores_the_hint():
    clock = FakeClock()
    plain = Recorder(clock)
    expect_sends(plain, 10)  # a stub or SES itself: nothing to reserve
    assert plain.send_raw(**MESSAGE) == "id"


def test_a_full_rate_for_too_long_is_a_transient_error():
    clock = FakeClock()
    limited = RateLimitedMessenger(Recorder(clock), lambda second, wanted, limit: 0, clock.time, clock.sleep)
    with pytest.raises(TransientSendError):
        limited.send_raw(**MESSAGE)
