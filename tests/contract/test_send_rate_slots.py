"""``mail/rate_limit.py`` ``take_slots_in_dynamodb``: a sender's slots reserved in one ADD on the
window's item, over the current second and the following ones, answered with the counts after it;
a second with fewer left gives what it has; the slots given never pass the limit in any second,
however the requests interleave or repeat."""
from __future__ import annotations

import pytest

from chalicelib.mail.rate_limit import WINDOW_SECONDS, take_slots_in_dynamodb
from chalicelib.store import lean_requests

START = 7200  # a window's first second (7200 % 60 == 0)


def _granted(taken):
    return {second: slots.granted for second, slots in taken.items()}


def test_a_batch_takes_its_slots_at_once_then_what_is_left_then_none(repos, monkeypatch, request):
    answered = []
    plain = lean_requests.plain_answer
    monkeypatch.setattr(lean_requests, "plain_answer",
                        lambda *args: answered.append(plain(*args)) or answered[-1])
    assert _granted(take_slots_in_dynamodb({START: 10}, 14)) == {START: 10}
    # the count went 10 -> 20: places 10..13 are below 14; the next second's 6 all fit
    assert take_slots_in_dynamodb({START: 10, START + 1: 6}, 14) == {START: (4, 20), START + 1: (6, 6)}
    assert _granted(take_slots_in_dynamodb({START: 1, START + 1: 9}, 14)) == {START: 0, START + 1: 8}
    assert _granted(take_slots_in_dynamodb({START + 2: 14}, 14)) == {START + 2: 14}
    if "emulator" in request.node.name:  # a 200 every time: the lean path answered each one
        assert len(answered) == 4 and all(answered)


def test_interleaved_senders_share_each_second_without_passing_the_limit(repos):
    asks = [{START: 3}, {START: 5, START + 1: 2}, {START + 1: 9}, {START: 4}, {START: 6, START + 1: 4},
            {START + 1: 2, START + 2: 7}, {START: 1}, {START + 2: 8}]
    given = [_granted(take_slots_in_dynamodb(ask, 14)) for ask in asks]
    assert given == [{START: 3}, {START: 5, START + 1: 2}, {START + 1: 9}, {START: 4}, {START: 2, START + 1: 3},
                     {START + 1: 0, START + 2: 7}, {START: 0}, {START + 2: 7}]
    for second in (START, START + 1, START + 2):
        assert sum(taken.get(second, 0) for taken in given) == 14


def test_an_add_applied_twice_only_leaves_its_slots_unused(repos, monkeypatch):
    # the answer of the first application lost, the request sent again (as botocore's retry, or the
    # lean path handing it over, does): the first one's places are never used, nothing passes the limit
    original = lean_requests.call

    def applied_twice(client, operation, parameters, *rest):
        original(client, operation, parameters, *rest)
        return original(client, operation, parameters, *rest)

    monkeypatch.setattr(lean_requests, "call", applied_twice)
    # places 6..11 and 3..5: the lost 0..5 and 0..2 stay unused
    assert _granted(take_slots_in_dynamodb({START + 60: 6, START + 61: 3}, 14)) == {START + 60: 6, START + 61: 3}
    # 12..17 taken by the lost one, 18..23 given: over; the next second's 6..11 lost, 12..17: 2 below 14
    assert _granted(take_slots_in_dynamodb({START + 60: 6, START + 61: 6}, 14)) == {START + 60: 0, START + 61: 2}
    monkeypatch.setattr(lean_requests, "call", original)
    assert _granted(take_slots_in_dynamodb({START + 60: 1, START + 61: 1}, 14)) == {START + 60: 0, START + 61: 0}


def test_each_window_is_its_own_item_and_expires_an_hour_after_it(repos):
    assert _granted(take_slots_in_dynamodb({START + WINDOW_SECONDS - 1: 14}, 14)) == {START + WINDOW_SECONDS - 1: 14}
    assert _granted(take_slots_in_dynamodb({START + WINDOW_SECONDS: 14}, 14)) == {START + WINDOW_SECONDS: 14}
    from chalicelib.store.connection import connection
    from chalicelib.store.models import Item

    item = connection().client.get_item(
        TableName=Item.Meta.table_name, ConsistentRead=True,
        Key={"pk": {"S": f"SESRATE#{START}"}, "sk": {"S": f"WINDOW#{WINDOW_SECONDS}"}})["Item"]
    assert item["s59"] == {"N": "14"} and "s0" not in item
    assert int(item["ttl"]["N"]) == START + WINDOW_SECONDS + 3600


def test_a_reservation_across_two_windows_is_refused_before_any_request(repos):
    with pytest.raises(ValueError):
        take_slots_in_dynamodb({START + WINDOW_SECONDS - 1: 1, START + WINDOW_SECONDS: 1}, 14)
