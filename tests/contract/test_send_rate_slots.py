"""``mail/rate_limit.py`` ``take_slots_in_dynamodb``: a sender's slots of a second reserved in one
conditional ADD; a second with fewer left gives what it has (read from the refusal's item); the
counter never passes the limit, however the requests interleave or repeat."""
from __future__ import annotations

from chalicelib.mail.rate_limit import _add_sent, take_slots_in_dynamodb
from chalicelib.store.connection import connection
from chalicelib.store.models import Item


def _sent(second: int) -> int:
    item = connection().client.get_item(TableName=Item.Meta.table_name, ConsistentRead=True,
                                        Key={"pk": {"S": f"SESRATE#{second}"}, "sk": {"S": "RATE"}}).get("Item")
    return int(item["sent"]["N"]) if item else 0


def test_a_batch_takes_its_slots_at_once_then_what_is_left_then_none(repos):
    assert take_slots_in_dynamodb(7000, 10, 14) == 10
    assert take_slots_in_dynamodb(7000, 10, 14) == 4  # refused for 10; the refusal said 10 were sent
    assert take_slots_in_dynamodb(7000, 1, 14) == 0
    assert _sent(7000) == 14
    assert take_slots_in_dynamodb(7001, 14, 14) == 14  # the next second is a new item


def test_a_repeated_add_never_passes_the_limit_it_only_leaves_slots_unused(repos):
    # an ADD applied twice (its answer lost and the request sent again) counts twice, under the condition
    assert _add_sent(7100, 6, 14) == (False, None)
    assert _add_sent(7100, 6, 14) == (False, None)
    assert _add_sent(7100, 6, 14) == (True, 12)
    assert take_slots_in_dynamodb(7100, 6, 14) == 2
    assert _sent(7100) == 14
