"""bench.ses_throughput's stand-in for SES: it admits the account's rate and refuses the rest the
way SES does, so the throughput benchmark counts any e-mail the rate limiter lets through too early."""
from __future__ import annotations

import pytest

from bench.ses_throughput import TokenBucketSes
from chalicelib.mail.messenger import TransientSendError

MESSAGE = {"sender": "news@shop.example", "recipient": "buyer+news@example.com", "raw": b"...",
           "configuration_set": "loyalty", "tags": {}}


class Ticks:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_full_second_is_admitted_at_once_and_the_next_message_is_refused_as_ses_refuses_it():
    clock = Ticks()
    ses = TokenBucketSes(14, clock=clock)

    ids = [ses.send_raw(**MESSAGE) for _ in range(14)]
    with pytest.raises(TransientSendError, match="Maximum sending rate exceeded"):
        ses.send_raw(**MESSAGE)

    assert len(set(ids)) == 14 and (ses.accepted, ses.refused) == (14, 1)


def test_tokens_come_back_at_the_rate_and_never_beyond_one_seconds_worth():
    clock = Ticks()
    ses = TokenBucketSes(1000, clock=clock)
    assert all(ses.take() for _ in range(1000)) and not ses.take()

    clock.now += 0.0105  # ten and a half milliseconds at 1,000 a second: ten whole messages
    assert [ses.take() for _ in range(11)] == [True] * 10 + [False]

    clock.now += 60  # a quiet minute still allows one second's burst, not sixty
    assert sum(ses.take() for _ in range(1500)) == 1000


def test_a_rate_below_one_a_second_still_admits_one_message():
    clock = Ticks()
    ses = TokenBucketSes(0.5, clock=clock)
    assert ses.take() and not ses.take()
    clock.now += 2
    assert ses.take()
