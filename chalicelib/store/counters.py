"""Counters kept on write, spread over shards: the one update that adds to them.

Results (store/campaigns/results.py) and the dashboard (store/loyalty/dashboard.py) both count by
``ADD n_<name> :amount`` on one of a few shard items, the shard picked by hashing something of
the event (the customer, the order) so one subject's writes spread over partitions. The addition
is described here once and written alone (``add``) or inside a change's transaction (``add_in``),
through PynamoDB's update actions on ``CounterShardItem`` (inside a ``store.transaction.Transaction``
the same Update action, made from the names directly).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping

from pynamodb.expressions.operand import Path, Value
from pynamodb.transactions import TransactWrite

from chalicelib.store.models import CounterShardItem
from chalicelib.store.transaction import Transaction

PREFIX = "n_"  # counter attributes are n_<name>


def shard_of(spread_by: str, shards: int) -> int:
    """The shard of ``spread_by`` among ``shards`` (stable: the first 32 bits of its SHA-256)."""
    return int(hashlib.sha256(spread_by.encode()).hexdigest()[:8], 16) % shards


@dataclass(frozen=True)
class CounterAddition:
    """``counts`` (attribute name → amount) to add to the shard item ``pk``/``sk`` of type ``kind``."""

    pk: str
    sk: str
    kind: str
    counts: Mapping[str, int]
    # attribute name → text set with the addition (e.g. when an outcome last happened)
    stamps: Mapping[str, str] = field(default_factory=dict)

    def item(self) -> CounterShardItem:
        return CounterShardItem(self.pk, self.sk)

    def update_action(self) -> dict:
        """The Update action of a transaction: what ``self.item()`` with ``self.actions()`` makes
        through PynamoDB (``get_update_kwargs_from_instance``: the same expression, placeholders and
        typed values), made from the names directly; every transaction of a paid order holds one."""
        names, values, sets, adds = {}, {}, [], []
        for name, value in (("type", {"S": self.kind}),
                            *((name, {"S": str(text)}) for name, text in sorted(self.stamps.items()))):
            placeholder = len(names)
            names[f"#{placeholder}"], values[f":{placeholder}"] = name, value
            sets.append(f"#{placeholder} = :{placeholder}")
        for name, amount in sorted(self.counts.items()):
            placeholder = len(names)
            names[f"#{placeholder}"], values[f":{placeholder}"] = name, {"N": str(int(amount))}
            adds.append(f"#{placeholder} :{placeholder}")
        expression = "SET " + ", ".join(sets) + (" ADD " + ", ".join(adds) if adds else "")
        return {"TableName": CounterShardItem.Meta.table_name,
                "Key": {"pk": {"S": self.pk}, "sk": {"S": self.sk}}, "UpdateExpression": expression,
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}

    def actions(self) -> list:
        # The names are open-ended (n_<outcome>), so they are paths, not model attributes; the
        # values go typed, as a number attribute would serialize them.
        return [Path("type").set(Value({"S": self.kind})),
                *(Path(name).set(Value({"S": str(text)})) for name, text in sorted(self.stamps.items())),
                *(Path(name).add(Value({"N": str(int(amount))})) for name, amount in sorted(self.counts.items()))]


def add(addition: CounterAddition) -> None:
    """The addition on its own (one UpdateItem)."""
    addition.item().update(actions=addition.actions())


def add_in(write: TransactWrite | Transaction, addition: CounterAddition) -> None:
    """The addition as part of ``write``: counted exactly when the change commits."""
    if isinstance(write, Transaction):
        write.update_action(addition.update_action())
    else:
        write.update(addition.item(), actions=addition.actions())
