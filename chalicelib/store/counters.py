"""Counters kept on write, spread over shards: the one UpdateItem that adds to them.

Results (store/campaigns/results.py) and the dashboard (store/loyalty/dashboard.py) both count by
``ADD n_<name> :amount`` on one of a few shard items, the shard picked by hashing something of
the event (the customer, the order) so one subject's writes spread over partitions. The request
is built here once and handed to UpdateItem or, inside a change, to its transaction.
"""
from __future__ import annotations

import hashlib
from typing import Mapping

from chalicelib.store.models import Item

PREFIX = "n_"  # counter attributes are n_<name>


def shard_of(spread_by: str, shards: int) -> int:
    """The shard of ``spread_by`` among ``shards`` (stable: the first 32 bits of its SHA-256)."""
    return int(hashlib.sha256(spread_by.encode()).hexdigest()[:8], 16) % shards


def add_request(pk: str, sk: str, kind: str, counts: Mapping[str, int], stamps: Mapping[str, str] | None = None) -> dict:
    """The low-level UpdateItem adding ``counts`` (attribute name → amount) to the item ``pk``/``sk``
    of type ``kind``, and setting ``stamps`` (attribute name → string, e.g. when it last happened)."""
    names, values, adds = {"#type": "type"}, {":type": {"S": kind}}, []
    sets = ["#type = :type"]
    for number, (name, text) in enumerate(sorted((stamps or {}).items())):
        names[f"#s{number}"] = name
        values[f":s{number}"] = {"S": str(text)}
        sets.append(f"#s{number} = :s{number}")
    for number, (name, amount) in enumerate(sorted(counts.items())):
        names[f"#c{number}"] = name
        values[f":v{number}"] = {"N": str(int(amount))}
        adds.append(f"#c{number} :v{number}")
    return {"TableName": Item.Meta.table_name, "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
            "UpdateExpression": "SET " + ", ".join(sets) + " ADD " + ", ".join(adds),
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
