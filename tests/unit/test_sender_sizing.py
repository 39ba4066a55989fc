"""Sending sized by SES: the send Lambda's concurrency follows the account's SES rate."""
from __future__ import annotations

import dataclasses
import logging

import pytest

from chalicelib.domain.mail.sender_sizing import MAX_CONCURRENCY, MIN_CONCURRENCY, sender_concurrency
from chalicelib.mail.sender_scaling import LambdaSenderScaling


@pytest.mark.parametrize("rate, seconds, expected", [
    (14, 0.11, MIN_CONCURRENCY),     # the sandbox-sized account: 14 a second keep 2 Lambdas busy
    (50, 0.11, 6),
    (1000, 0.11, 110),               # a large account: ceil(1000 x 0.11)
    (100_000, 0.11, MAX_CONCURRENCY),
    (0, 0.11, MIN_CONCURRENCY), (float("nan"), 0.11, MIN_CONCURRENCY), (14, -1, MIN_CONCURRENCY),
])
def test_concurrency_keeps_the_ses_rate_busy(rate, seconds, expected):
    assert sender_concurrency(rate, seconds) == expected


class _Lambda:
    def __init__(self, maximum):
        self.calls: list[tuple] = []
        self.maximum = maximum

    def list_event_source_mappings(self, FunctionName):
        return {"EventSourceMappings": [
            {"UUID": "u-sqs", "EventSourceArn": "arn:aws:sqs:eu-central-1:1:loyalty-mail-send-prod",
             "ScalingConfig": {"MaximumConcurrency": self.maximum}},
            {"UUID": "u-ddb", "EventSourceArn": "arn:aws:dynamodb:eu-central-1:1:table/x/stream/y"}]}

    def put_function_concurrency(self, **kwargs):
        self.calls.append(("reserve", kwargs["ReservedConcurrentExecutions"]))

    def update_event_source_mapping(self, **kwargs):
        self.calls.append(("scale", kwargs["UUID"], kwargs["ScalingConfig"]["MaximumConcurrency"]))


class _Ses:
    def __init__(self, rate):
        self.rate = rate

    def get_account(self):
        return {"SendQuota": {"Max24HourSend": 1e6, "MaxSendRate": self.rate, "SentLast24Hours": 0}}


def test_growing_reserves_first_and_shrinking_scales_first():
    grow = _Lambda(maximum=5)
    LambdaSenderScaling(grow, _Ses(100)).apply("loyalty-mail-prod-send_email", 11)
    assert grow.calls == [("reserve", 12), ("scale", "u-sqs", 11)]  # the stream mapping is not the sender's
    shrink = _Lambda(maximum=110)
    LambdaSenderScaling(shrink, _Ses(14)).apply("loyalty-mail-prod-send_email", 2)
    assert shrink.calls == [("scale", "u-sqs", 2), ("reserve", 3)]  # the reservation never under the maximum


def test_size_sender_reads_the_quota_and_sets_the_function(fake_deps, caplog):
    from chalicelib.services.mail.sender_sizing import size_sender

    lam = _Lambda(maximum=2)
    fake_deps.sender_scaling = LambdaSenderScaling(lam, _Ses(1000))
    fake_deps.config = dataclasses.replace(fake_deps.config, send_function_name="loyalty-mail-prod-send_email",
                                           ses_max_send_rate=14)
    with caplog.at_level(logging.WARNING, logger="loyalty.mail"):
        answer = size_sender(fake_deps)
    assert answer["max_send_rate"] == 1000 and answer["concurrency"] == 110
    assert lam.calls == [("reserve", 111), ("scale", "u-sqs", 110)]
    assert "LOYALTY_SES_MAX_SEND_RATE says 14.0" in caplog.text  # the rate limiter must follow the quota


def test_without_a_function_it_only_reports(fake_deps):
    from chalicelib.services.mail.sender_sizing import size_sender

    lam = _Lambda(maximum=2)
    fake_deps.sender_scaling = LambdaSenderScaling(lam, _Ses(14))
    answer = size_sender(fake_deps)
    assert answer["concurrency"] == 2 and answer["changed"] == [] and lam.calls == []
