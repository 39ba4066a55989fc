"""``mail/rate_limit.py`` ``take_slots_in_dynamodb``: a sender's slots of a second reserved in one
ADD that answers with the count after it; a second with fewer left gives what it has; the slots
given never pass the limit, however the requests interleave or repeat."""
from __future__ import annotations

from chalicelib.mail.rate_limit import take_slots_in_dynamodb
from chalicelib.store import lean_requests


def test_a_batch_takes_its_slots_at_once_then_what_is_left_then_none(repos, monkeypatch, request):
    answered = []
    plain = lean_requests.plain_answer
    monkeypatch.setattr(lean_requests, "plain_answer",
                        lambda *args: answered.append(plain(*args)) or answered[-1])
    assert take_slots_in_dynamodb(7000, 10, 14) == 10
    assert take_slots_in_dynamodb(7000, 10, 14) == 4  # the count went 10 -> 20: places 10..13 are below 14
    assert take_slots_in_dynamodb(7000, 1, 14) == 0
    assert take_slots_in_dynamodb(7001, 14, 14) == 14  # the next second is a new item
    if "emulator" in request.node.name:  # a 200 every time: the lean path answered each one
        assert len(answered) == 4 and all(answered)


def test_interleaved_senders_share_a_second_without_passing_the_limit(repos):
    asks = [3, 5, 1, 4, 6, 2, 7, 1]
    given = [take_slots_in_dynamodb(7200, wanted, 14) for wanted in asks]
    assert given == [3, 5, 1, 4, 1, 0, 0, 0]
    assert sum(given) == 14


def test_an_add_applied_twice_only_leaves_its_slots_unused(repos, monkeypatch):
    # the answer of the first application lost, the request sent again (as botocore's retry, or the
    # lean path handing it over, does): the first one's places are never used, nothing passes the limit
    original = lean_requests.call

    def applied_twice(client, operation, parameters, *rest):
        original(client, operation, parameters, *rest)
        return original(client, operation, parameters, *rest)

    monkeypatch.setattr(lean_requests, "call", applied_twice)
    assert take_slots_in_dynamodb(7100, 6, 14) == 6  # places 6..11: the lost 0..5 stay unused
    assert take_slots_in_dynamodb(7100, 6, 14) == 0  # 12..17 taken by the lost one, 18..23 given: over
    monkeypatch.setattr(lean_requests, "call", original)
    assert take_slots_in_dynamodb(7100, 1, 14) == 0
