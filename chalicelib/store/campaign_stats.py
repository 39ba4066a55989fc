"""Campaign outcome counters, kept on write in a few shards (never counted by reading the sends).

Each shard is one item whose attributes ``n_<outcome>`` are counters: one
UpdateItem with ADD per outcome, and a Query of the shards to read them.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter

from chalicelib.store import keys
from chalicelib.store.connection import connection
from chalicelib.store.models import Item

_PREFIX = "n_"


class CampaignStats:
    def __init__(self, shop_id: str, campaign_id: str):
        self.pk = keys.campaign_stats_pk(shop_id, campaign_id)

    def add(self, outcome: str, spread_by: str) -> None:
        """Count one final outcome (``sent``, ``failed``, ``skipped_no_consent`` …)."""
        shard = int(hashlib.sha256(spread_by.encode()).hexdigest()[:8], 16) % keys.CAMPAIGN_STATS_SHARDS
        attribute = _PREFIX + re.sub(r"[^a-z0-9_]", "_", outcome.lower())[:60]
        connection().client.update_item(
            TableName=Item.Meta.table_name, Key={"pk": {"S": self.pk}, "sk": {"S": f"SHARD#{shard}"}},
            UpdateExpression="SET #type = :type ADD #counter :one",
            ExpressionAttributeNames={"#type": "type", "#counter": attribute},
            ExpressionAttributeValues={":type": {"S": "campaign_stats"}, ":one": {"N": "1"}})

    def totals(self) -> Counter:
        """The campaign's counts: one Query over its shards."""
        totals: Counter = Counter()
        paginator = connection().client.get_paginator("query")
        for page in paginator.paginate(TableName=Item.Meta.table_name, KeyConditionExpression="pk = :pk",
                                       ExpressionAttributeValues={":pk": {"S": self.pk}}, ConsistentRead=True):
            for row in page["Items"]:
                totals.update({name[len(_PREFIX):]: int(value["N"]) for name, value in row.items()
                               if name.startswith(_PREFIX)})
        return totals
