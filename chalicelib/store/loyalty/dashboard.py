"""A shop's dashboard counters: per UTC day, in ``DASHBOARD_SHARDS`` partitions.

Every change to a customer adds its counts (``domain.dashboard.change_counts``) to
``DASH#{shop}#{shard}`` / ``DAY#{day}`` with an UpdateItem ADD inside the change's own
transaction (the shard picked by the customer, so one transaction touches one
dashboard item). Reading any range of days is one Query per shard.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Mapping

from chalicelib.store import counters, keys
from chalicelib.store.connection import connection
from chalicelib.store.models import Item

_PREFIX = counters.PREFIX


def dashboard_update(shop_id: str, day: str, counts: Mapping[str, int], spread_by: str) -> counters.CounterAddition:
    """The addition of ``counts`` to ``day`` in the shard of ``spread_by``."""
    shard = counters.shard_of(spread_by, keys.DASHBOARD_SHARDS)
    return counters.CounterAddition(keys.dashboard_pk(shop_id, shard), keys.dashboard_sk(day), "dashboard",
                                {_PREFIX + name: amount for name, amount in counts.items()})


def daily_counts(shop_id: str, until_day: str) -> dict[str, Counter]:
    """Every day's counts up to ``until_day`` (all of them: running totals need the start)."""
    days: dict[str, Counter] = defaultdict(Counter)
    paginator = connection().client.get_paginator("query")
    for shard in range(keys.DASHBOARD_SHARDS):
        for page in paginator.paginate(
                TableName=Item.Meta.table_name,
                KeyConditionExpression="pk = :pk AND sk <= :until",
                ExpressionAttributeValues={":pk": {"S": keys.dashboard_pk(shop_id, shard)},
                                           ":until": {"S": keys.dashboard_sk(until_day)}}):
            for row in page["Items"]:
                day = row["sk"]["S"][len("DAY#"):]
                days[day].update({name[len(_PREFIX):]: int(value["N"]) for name, value in row.items()
                                  if name.startswith(_PREFIX)})
    return dict(days)
