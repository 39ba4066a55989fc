"""Fixed-window request counters shared by every Lambda instance (the abuse limits).

One item per counter and window, ``RATE#{name}#{window}`` / ``RATE``, taken with one
conditional UpdateItem: ``ADD hits 1`` only while ``hits < limit``. So a check costs one write
(about 1 WCU; a refused one too), never a read, and concurrent instances can never let more
than ``limit`` through in a window. ``ttl`` lets DynamoDB delete the item after its window.
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from chalicelib.store.connection import connection
from chalicelib.store.models import Item

RATE_SK = "RATE"
_TTL_MARGIN_SECONDS = 3600
# DynamoDB throttling one counter item means that counter is being hammered: the request is over.
_THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def rate_pk(name: str, window: int) -> str:
    return f"RATE#{name}#{window}"


class RateCounters:
    def take(self, name: str, window: int, limit: int, window_ends_at: int) -> bool:
        """Count one request in ``name``'s window; False (and nothing counted) when it is full."""
        try:
            connection().client.update_item(
                TableName=Item.Meta.table_name,
                Key={"pk": {"S": rate_pk(name, window)}, "sk": {"S": RATE_SK}},
                UpdateExpression="SET #type = :type, #ttl = :ttl ADD hits :one",
                ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
                ExpressionAttributeNames={"#type": "type", "#ttl": "ttl"},
                ExpressionAttributeValues={":type": {"S": "rate_counter"}, ":one": {"N": "1"},
                                           ":limit": {"N": str(limit)},
                                           ":ttl": {"N": str(window_ends_at + _TTL_MARGIN_SECONDS)}})
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException" or code in _THROTTLED:
                return False
            raise
        return True
