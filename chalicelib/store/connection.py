"""What every repository shares: the table's low-level connection and lookups in transactions."""
from __future__ import annotations

import functools
from typing import Iterator, Optional

from pynamodb.connection.base import Connection
from pynamodb.exceptions import DoesNotExist

from chalicelib.store import lean_requests
from chalicelib.store.models import Item


def connection():
    """The connection PynamoDB keeps for the table (TransactGet/TransactWrite need it explicitly)."""
    return Item._get_connection().connection


def keys_only_index_rows(index: str, hash_attribute: str, value: str, *, newest_first: bool = False,
                         page_size: Optional[int] = None) -> Iterator[dict]:
    """The rows (keys, as DynamoDB JSON) of a KEYS_ONLY index under one hash key, in sort key order
    (``newest_first``: reversed), page after page. PynamoDB would filter on the item type, which a
    KEYS_ONLY index does not project, so this pages with the client."""
    paginator = connection().client.get_paginator("query")
    options = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}
    for page in paginator.paginate(TableName=Item.Meta.table_name, IndexName=index, ScanIndexForward=not newest_first,
                                   KeyConditionExpression="#h = :v", ExpressionAttributeNames={"#h": hash_attribute},
                                   ExpressionAttributeValues={":v": {"S": value}}, **options):
        yield from page["Items"]


def partition_range_raw_items(pk: str, low: str, high: str, *, consistent_read: bool = False):
    """The items of one partition with ``low <= sk <= high`` as DynamoDB JSON, page after page, on
    ``lean_connection()``: the send path's read, mapped without models (``store/raw_items.py``).
    The Query is PynamoDB's own ``Connection.query`` for ``Item.sk.between(low, high)``, made once
    per range (the key condition, names, values; ``_range_query``) with only the partition key (and,
    past the first page, the last key read) filled in per call: 0.04 ms of CPU less an e-mail than
    the condition objects and the pages' iterator built for every read
    (tests/contract/test_send_requests.py holds the requests equal). ``Item.query`` would add a
    filter naming every one of Item's kinds (``type IN (:0, :1, …)``), built, sent and evaluated with
    every request, though the ranges read here hold only Item's kinds."""
    from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
    from pynamodb.exceptions import QueryError

    lean = lean_connection()
    first, following = _range_query(Item._get_connection().table_name, low, high, consistent_read)
    request = first.filled(pk)
    while True:
        try:
            page = lean.dispatch("Query", request)
        except BOTOCORE_EXCEPTIONS as error:  # as PynamoDB's query raises it
            raise QueryError("Failed to query items: {}".format(error), error)
        yield from page.get("Items") or ()
        last_key = page.get("LastEvaluatedKey")
        if last_key is None:
            return
        request = following.filled(pk, last_key)


class _PreparedQuery:
    """One Query's parameters as PynamoDB's ``Connection.query`` makes them, made once with a marker
    for the partition key (and the page's start key): each call gets a copy with its own."""

    MARK = "\x00pk\x00"

    def __init__(self, parameters: dict):
        self._parameters = parameters
        values = parameters["ExpressionAttributeValues"]
        self._place = next(place for place, value in values.items() if value == {"S": self.MARK})

    def filled(self, pk: str, start_key: Optional[dict] = None) -> dict:
        request = dict(self._parameters)
        request["ExpressionAttributeValues"] = {**request["ExpressionAttributeValues"], self._place: {"S": pk}}
        request["ExpressionAttributeNames"] = dict(request["ExpressionAttributeNames"])
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        return request


@functools.lru_cache(maxsize=32)
def _range_query(table_name: str, low: str, high: str, consistent_read: bool) -> tuple[_PreparedQuery, _PreparedQuery]:
    """The first page's and a following page's Query of a sort key range, as ``Connection.query``
    builds them (captured before it sends them)."""
    captured = []

    class Capture(Connection):
        def __init__(self, base):  # (not Connection.__init__: everything is the base's)
            self.__dict__.update(base.__dict__)

        def dispatch(self, operation_name, operation_kwargs):
            captured.append(operation_kwargs)
            return {}

    capture = Capture(connection())
    marker = _PreparedQuery.MARK
    for start_key in (None, {"pk": {"S": marker}, "sk": {"S": marker}}):
        capture.query(table_name, marker, range_key_condition=Item.sk.between(low, high),
                      consistent_read=consistent_read, exclusive_start_key=start_key)
    return _PreparedQuery(captured[0]), _PreparedQuery(captured[1])


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
    the send path's read, claim and final write use (``partition_range_raw_items``, ``MailStore.claim``,
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
