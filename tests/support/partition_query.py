"""A partition's items within a sort key condition as PynamoDB's own ``Connection.query`` reads
them, page after page, on the lean connection: the reference the send's prepared read
(``store.connection.partition_range_raw_items``) is held equal to, and the lean path's Query on
both stores."""
from __future__ import annotations

from functools import partial

from pynamodb.pagination import ResultIterator


def partition_raw_items(pk: str, sort_keys, *, consistent_read: bool = False):
    """The items of ``pk`` within ``sort_keys`` (a condition on ``Item.sk``) as DynamoDB JSON."""
    from chalicelib.store.connection import lean_connection
    from chalicelib.store.models import Item

    return ResultIterator(partial(lean_connection().query, Item._get_connection().table_name), (pk,),
                          {"range_key_condition": sort_keys, "consistent_read": consistent_read})
