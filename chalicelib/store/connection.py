"""What every repository shares: the table's low-level connection and lookups in transactions."""
from __future__ import annotations

from pynamodb.connection.base import Connection
from pynamodb.exceptions import DoesNotExist

from chalicelib.store import lean_requests
from chalicelib.store.models import Item


def connection():
    """The connection PynamoDB keeps for the table (TransactGet/TransactWrite need it explicitly)."""
    return Item._get_connection().connection


def partition_raw_items(pk: str, sort_keys, *, consistent_read: bool = False):
    """The items of one partition within ``sort_keys`` (a condition on ``Item.sk``) as DynamoDB JSON,
    page after page, through ``lean_connection()`` (the send path's read), for a reader that maps them
    without models (``store/raw_items.py``; ``Item.from_raw_data`` makes each its model). ``Item.query``
    would add a filter naming every one of Item's kinds (``type IN (:0, :1, …)``, one value per kind):
    built, serialised, sent and evaluated with every request, though the ranges read here hold only
    Item's kinds (a tenth of the send path's Query in CPU)."""
    from functools import partial

    from pynamodb.pagination import ResultIterator

    return ResultIterator(partial(lean_connection().query, Item._get_connection().table_name), (pk,),
                          {"range_key_condition": sort_keys, "consistent_read": consistent_read})


def set_client_defaults(client_config) -> None:
    """Botocore settings for the table's client that PynamoDB has no option for, given once per cold
    start (the composition root, right after ``use_table``), before the client is made. PynamoDB
    makes its client from its connection's botocore session, which lays the session's default
    client config under PynamoDB's own (retries, timeouts, no parameter validation): what PynamoDB
    sets wins, the rest comes from here. A client made in another thread (its own session) simply
    goes without them. Only ``Item``'s connection (the send path's) gets them: each other model class
    keeps its own connection and session."""
    connection().session.set_default_client_config(client_config)


# The requests that take the lean path on ``lean_connection()``: the send path's per-e-mail Query
# and transactions, and the webhook's one read (TransactGetItems, `LoyaltyRepository.load_for_order`).
LEAN_OPERATIONS = frozenset({"Query", "TransactGetItems", "TransactWriteItems"})


class LeanConnection(Connection):
    """A view of the table's PynamoDB connection (same client, tables, settings) whose
    ``LEAN_OPERATIONS`` go through ``store/lean_requests.py``: the JSON PynamoDB built, signed and
    posted without botocore's per-request machinery; any answer but a plain 200 goes through
    PynamoDB's own call as before (its errors, botocore's retries). A client that is not
    botocore's (the in-memory store) is called as it is."""

    def __init__(self, base: Connection):  # (not Connection.__init__: everything is the base's)
        self.__dict__.update(base.__dict__)
        self.base = base

    @property
    def client(self):
        return self.base.client

    @property
    def session(self):
        return self.base.session

    def _make_api_call(self, operation_name, operation_kwargs):
        if operation_name in LEAN_OPERATIONS:
            return lean_requests.call(self.client, operation_name, operation_kwargs, self._full_call)
        return self._full_call(operation_name, operation_kwargs)

    def _full_call(self, operation_name, operation_kwargs):
        return Connection._make_api_call(self, operation_name, operation_kwargs)


def lean_connection() -> LeanConnection:
    """``connection()`` with its Query and transactions on the lean path (``LeanConnection``): what
    the send path's read, claim and final write use (``partition_raw_items``, ``MailStore.claim``,
    ``write_sent``) and the webhook's read (``LoyaltyRepository.load_for_order``); other callers
    keep ``connection()``. One per table connection."""
    base = connection()
    lean = _lean.get("connection")
    if lean is None or lean.base is not base:
        lean = _lean["connection"] = LeanConnection(base)
    return lean


_lean: dict = {}


def resolve(future):
    """The item a TransactGet future holds, or None when there is none."""
    if future is None:
        return None
    try:
        return future.get()
    except DoesNotExist:
        return None
