"""What every repository shares: the table's low-level connection and lookups in transactions."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.models import Item


def connection():
    """The connection PynamoDB keeps for the table (TransactGet/TransactWrite need it explicitly)."""
    return Item._get_connection().connection


def partition_items(pk: str, sort_keys, *, consistent_read: bool = False):
    """The items of one partition within ``sort_keys`` (a condition on ``Item.sk``), each as its own
    model (``Item.from_raw_data`` picks the class by the item's ``type``), page after page.
    ``Item.query`` would add a filter naming every one of Item's kinds (``type IN (:0, :1, …)``, one
    value per kind): built, serialised, sent and evaluated with every request, though the ranges read
    here hold only Item's kinds (a tenth of the send path's Query in CPU). An item of another kind
    in the range would raise instead of being filtered out."""
    from pynamodb.pagination import ResultIterator

    return ResultIterator(Item._get_connection().query, (pk,),
                          {"range_key_condition": sort_keys, "consistent_read": consistent_read},
                          map_fn=Item.from_raw_data)


def set_client_defaults(client_config) -> None:
    """Botocore settings for the table's client that PynamoDB has no option for, given once per cold
    start (the composition root, right after ``use_table``), before the client is made. PynamoDB
    makes its client from its connection's botocore session, which lays the session's default
    client config under PynamoDB's own (retries, timeouts, no parameter validation): what PynamoDB
    sets wins, the rest comes from here. A client made in another thread (its own session) simply
    goes without them. Only ``Item``'s connection (the send path's) gets them: each other model class
    keeps its own connection and session."""
    connection().session.set_default_client_config(client_config)


def resolve(future):
    """The item a TransactGet future holds, or None when there is none."""
    if future is None:
        return None
    try:
        return future.get()
    except DoesNotExist:
        return None
