"""What every repository shares: the table's low-level connection and lookups in transactions."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.models import Item


def connection():
    """The connection PynamoDB keeps for the table (TransactGet/TransactWrite need it explicitly)."""
    return Item._get_connection().connection


def resolve(future):
    """The item a TransactGet future holds, or None when there is none."""
    if future is None:
        return None
    try:
        return future.get()
    except DoesNotExist:
        return None
