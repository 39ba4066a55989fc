"""What each campaign and each flow brought: counters kept on write, in a few shards.

A *subject* is ``campaign:{id}`` or ``flow:{template}`` (``domain.links``). Its
counters live in ``RESULTS_SHARDS`` items whose attributes ``n_<name>`` are added
to with UpdateItem ADD, never counted by reading sends or orders; a Query of the
shards reads them back. The shard is picked by hashing something of the event
(the customer, the order), so one campaign's writes spread over partitions.

Counters that belong to a change with its own transaction (an order attributed to
a click, a code redeemed) are added inside that transaction (``counter_update``),
so they are counted exactly once; the others (sends, delivery events, clicks) are
added right after the write that decided them, which makes them at most once: a
crash in between loses a count, never adds one.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Mapping, Optional

from chalicelib.domain.timestamps import iso, parse_iso
from chalicelib.store import counters, keys
from chalicelib.store.connection import connection
from chalicelib.store.models import Item

_PREFIX = counters.PREFIX
_LAST = "last_"  # last_<outcome>: when the outcome was last counted (fixed-width UTC)


def counter_name(outcome: str) -> str:
    return _PREFIX + re.sub(r"[^a-z0-9_]", "_", outcome.lower())[:60]


def shard_of(spread_by: str) -> int:
    return counters.shard_of(spread_by, keys.RESULTS_SHARDS)


def counter_update(shop_id: str, subject: str, counts: Mapping[str, int], spread_by: str,
                   last_at: Optional[datetime] = None) -> counters.CounterAddition:
    """The addition of ``counts`` to a shard of ``subject``; with ``last_at``, the shard also notes
    when each of these outcomes last happened."""
    named: Counter = Counter()
    for outcome, amount in counts.items():
        named[counter_name(outcome)] += int(amount)
    stamps = {_LAST + name[len(_PREFIX):]: iso(last_at) for name in named} if last_at else {}
    return counters.CounterAddition(keys.results_pk(shop_id, subject), f"SHARD#{shard_of(spread_by)}", "results", named,
                                    stamps)


class Results:
    def __init__(self, shop_id: str, subject: str):
        self.shop_id, self.subject = shop_id, subject
        self.pk = keys.results_pk(shop_id, subject)

    def add(self, outcome: str, spread_by: str, amount: int = 1) -> None:
        """Count one outcome (``sent``, ``skipped_no_consent``, ``delivered``, ``clicks`` …)."""
        self.add_many({outcome: amount}, spread_by)

    def addition(self, counts: Mapping[str, int], spread_by: str,
                 last_at: Optional[datetime] = None) -> counters.CounterAddition:
        """``add_many``'s addition, for another write's transaction to carry (a send's final write)."""
        return counter_update(self.shop_id, self.subject, counts, spread_by, last_at)

    def add_many(self, counts: Mapping[str, int], spread_by: str, last_at: Optional[datetime] = None) -> None:
        """Add ``counts``; with ``last_at``, note it as when each of these outcomes last happened."""
        if counts:
            counters.add(counter_update(self.shop_id, self.subject, counts, spread_by, last_at))

    def totals(self) -> Counter:
        """All counters: one Query over the shards."""
        return self.totals_and_last()[0]

    def totals_and_last(self) -> tuple[Counter, dict[str, datetime]]:
        """All counters and, per outcome added with ``last_at``, the latest over the shards: one Query.
        (Each shard keeps the last write's time: a send finishing late behind a newer one on the
        same shard leaves it seconds early, never later than the truth.)"""
        totals: Counter = Counter()
        last: dict[str, datetime] = {}
        paginator = connection().client.get_paginator("query")
        for page in paginator.paginate(TableName=Item.Meta.table_name, KeyConditionExpression="pk = :pk",
                                       ExpressionAttributeValues={":pk": {"S": self.pk}}, ConsistentRead=True):
            for row in page["Items"]:
                totals.update({name[len(_PREFIX):]: int(value["N"]) for name, value in row.items()
                               if name.startswith(_PREFIX)})
                for name, value in row.items():
                    if name.startswith(_LAST):
                        moment = parse_iso(value["S"])
                        outcome = name[len(_LAST):]
                        last[outcome] = max(moment, last.get(outcome, moment))
        return totals, last


def campaign_results(shop_id: str, campaign_id: str) -> Results:
    return Results(shop_id, f"campaign:{campaign_id}")
