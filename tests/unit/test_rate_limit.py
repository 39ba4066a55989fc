"""The shared sending rate: never more than the limit in any second, across senders, with a batch's
slots reserved in one take, over the current second and the following ones of its window."""
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.mail.messenger import TransientSendError
from chalicelib.mail.rate_limit import (WINDOW_SECONDS, RateLimitedMessenger, Taken, expect_sends, granted_of,
                                        window_of)
from tests.support.examples import examples

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
    """``take_slots`` as the window item answers it: each second's count grows by what was asked
    (an unconditional ADD: it may pass the limit), the places below the limit are the sender's."""

    def __init__(self, applied=1):
        self.count, self.granted, self.takes = Counter(), Counter(), []
        self.applied = applied  # 2: every ADD applied twice (a lost answer sent again)

    def __call__(self, asks, limit):
        assert asks and len({window_of(second) for second in asks}) == 1  # one item: one window
        answer = {}
        for second, wanted in asks.items():
            assert wanted >= 1
            for _ in range(self.applied):
                self.count[second] += wanted
            answer[second] = Taken(granted_of(wanted, self.count[second], limit), self.count[second])
            self.granted[second] += answer[second].granted
        self.takes.append(dict(asks))
        return answer


def _send_batch(sender, size):
    for left in range(size, 0, -1):
        expect_sends(sender, left)
        sender.send_raw(**MESSAGE)


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
    assert all(counter.granted[second] <= 7 for second in counter.granted)
    # every e-mail sent in a second spent a slot granted in that second's counter
    assert all(per_second[second] <= counter.granted[second] for second in per_second)


@settings(max_examples=examples(60), deadline=None)
@given(rate=st.integers(1, 20), senders=st.integers(1, 5), applied=st.sampled_from([1, 2]),
       start=st.floats(0, 200), steps=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 10),
                                                         st.sampled_from([0.0, 0.004, 0.05, 0.3])),
                                               min_size=1, max_size=12))
def test_no_interleaving_of_senders_and_batches_passes_the_rate(rate, senders, applied, start, steps):
    clock, counter = FakeClock(1000.0 + start), SharedCounter(applied)
    inners = [Recorder(clock) for _ in range(senders)]
    limited = [RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=rate) for inner in inners]
    for who, size, spends in steps:  # batches of several senders, interleaved e-mail by e-mail
        inners[who % senders].spends = spends
        for left in range(size, 0, -1):
            sender = limited[(who + left) % senders]
            expect_sends(sender, left)
            try:
                sender.send_raw(**MESSAGE)
            except TransientSendError:  # waited too long for a slot: retried by the queue, never sent over
                pass
    per_second = Counter(second for inner in inners for second in inner.sent)
    assert all(count <= rate for count in per_second.values())
    assert all(per_second[second] <= counter.granted[second] <= rate for second in per_second)


def test_a_batch_reserves_its_slots_in_one_take_and_spends_them_locally():
    clock, counter = FakeClock(), SharedCounter()
    limited = RateLimitedMessenger(Recorder(clock), counter, clock.time, clock.sleep, rate=100)
    _send_batch(limited, 10)
    assert counter.takes == [{1000: 10}]


def test_a_batch_larger_than_a_second_reserves_the_following_seconds_in_the_same_take():
    clock, counter = FakeClock(), SharedCounter()
    inner = Recorder(clock)
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=4)
    _send_batch(limited, 10)
    assert counter.takes == [{1000: 4, 1001: 4, 1002: 2}]
    assert Counter(inner.sent) == {1000: 4, 1001: 4, 1002: 2}


def test_at_fourteen_a_second_one_sender_makes_one_request_a_batch_and_fills_every_second():
    clock, counter = FakeClock(), SharedCounter()
    inner = Recorder(clock, spends=0.004)  # the send path's few ms a send: batches faster than the rate
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=14)
    for _ in range(7):
        _send_batch(limited, 10)
    assert len(counter.takes) == 7
    # the second batch asks for the 4 the second has left and 6 of the next, and so on
    assert counter.takes[:3] == [{1000: 10}, {1000: 4, 1001: 6}, {1001: 8, 1002: 2}]
    assert Counter(inner.sent) == {1000: 14, 1001: 14, 1002: 14, 1003: 14, 1004: 14}


def test_slots_held_for_a_later_second_are_spent_by_the_next_batch():
    clock, counter = FakeClock(), SharedCounter()
    inner = Recorder(clock)
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=6)
    expect_sends(limited, 10)
    for _ in range(7):  # the batch ends early (three of its e-mails were duplicates)
        limited.send_raw(**MESSAGE)
    assert counter.takes == [{1000: 6, 1001: 4}]
    _send_batch(limited, 3)  # the next batch spends the 3 slots of 1001 still held, then asks
    assert Counter(inner.sent) == {1000: 6, 1001: 4}
    assert counter.takes == [{1000: 6, 1001: 4}]


def test_a_second_another_sender_filled_in_part_gives_what_it_has_left_and_the_rest_is_asked_later():
    clock, counter = FakeClock(), SharedCounter()
    counter.count[1000] = 6  # another Lambda took 6 of this second's 8
    inner = Recorder(clock)
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=8)
    limited.expect_sends(5)
    for _ in range(5):
        limited.send_raw(**MESSAGE)
    assert Counter(inner.sent) == {1000: 2, 1001: 3}
    assert counter.takes == [{1000: 5}, {1001: 3}]  # the contention costs one more request


def test_a_second_seen_full_is_not_asked_again():
    clock, counter = FakeClock(), SharedCounter()
    inner = Recorder(clock)
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=5)
    _send_batch(limited, 5)  # 1000 is full now, and the sender knows it
    _send_batch(limited, 3)
    assert counter.takes == [{1000: 5}, {1001: 3}]
    assert Counter(inner.sent) == {1000: 5, 1001: 3}


def test_a_reservation_stops_at_its_window_and_the_next_window_is_asked_when_it_comes():
    last = 1000 - 1000 % WINDOW_SECONDS + WINDOW_SECONDS - 1  # the last second of a window
    clock, counter = FakeClock(float(last)), SharedCounter()
    inner = Recorder(clock)
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=4)
    _send_batch(limited, 10)
    assert counter.takes == [{last: 4}, {last + 1: 4, last + 2: 2}]
    assert Counter(inner.sent) == {last: 4, last + 1: 4, last + 2: 2}


def test_a_reservation_starting_past_a_full_last_second_goes_to_the_next_window_at_once():
    last = 1000 - 1000 % WINDOW_SECONDS + WINDOW_SECONDS - 1
    clock, counter = FakeClock(float(last)), SharedCounter()
    inner = Recorder(clock)
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=4)
    _send_batch(limited, 4)  # fills the window's last second
    _send_batch(limited, 6)  # asked of the next window's item straight away, in one request
    assert counter.takes == [{last: 4}, {last + 1: 4, last + 2: 2}]
    assert Counter(inner.sent) == {last: 4, last + 1: 4, last + 2: 2}


def test_slots_held_are_not_spent_after_their_second():
    clock, counter = FakeClock(999.9), SharedCounter()
    inner = Recorder(clock, spends=0.06)  # the second turns after two sends
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=50)
    limited.expect_sends(5)
    for _ in range(5):
        limited.send_raw(**MESSAGE)
    assert counter.takes == [{999: 5}, {1000: 3}]
    assert Counter(inner.sent) == {999: 2, 1000: 3}  # the 3 slots left of second 999: unused, not carried over


def test_without_a_hint_each_send_takes_one_slot():
    clock, counter = FakeClock(), SharedCounter()
    limited = RateLimitedMessenger(Recorder(clock), counter, clock.time, clock.sleep, rate=100)
    for _ in range(3):
        limited.send_raw(**MESSAGE)
    assert counter.takes == [{1000: 1}] * 3


def test_the_hint_counts_down_with_each_send_and_never_below_one():
    clock, counter = FakeClock(), SharedCounter()
    inner = Recorder(clock, spends=1.0)  # every send in a second of its own: a new take each time
    limited = RateLimitedMessenger(inner, counter, clock.time, clock.sleep, rate=100)
    limited.expect_sends(3)
    for _ in range(5):
        limited.send_raw(**MESSAGE)
    assert counter.takes == [{1000: 3}, {1001: 2}, {1002: 1}, {1003: 1}, {1004: 1}]


def test_a_messenger_without_a_rate_ignores_the_hint():
    clock = FakeClock()
    plain = Recorder(clock)
    expect_sends(plain, 10)  # a stub or SES itself: nothing to reserve
    assert plain.send_raw(**MESSAGE) == "id"


def test_a_full_rate_for_too_long_is_a_transient_error():
    clock = FakeClock()

    def nothing_left(asks, limit):
        return {second: Taken(0, limit + wanted) for second, wanted in asks.items()}

    limited = RateLimitedMessenger(Recorder(clock), nothing_left, clock.time, clock.sleep)
    with pytest.raises(TransientSendError):
        limited.send_raw(**MESSAGE)


@pytest.mark.parametrize("asked, after, limit, granted", [
    (10, 10, 14, 10), (10, 20, 14, 4), (1, 21, 14, 0), (6, 12, 14, 6), (6, 18, 14, 2), (3, 40, 14, 0)])
def test_the_places_below_the_limit_are_the_senders(asked, after, limit, granted):
    assert granted_of(asked, after, limit) == granted
