"""What each DynamoDB request would cost on an on-demand table, metered at the emulator.

moto answers ``ReturnConsumedCapacity`` with a constant, so the units are worked out
here from the sizes of the items each request touches, read from the emulator's own
tables before and after the request, with DynamoDB's published rules:

- a write costs 1 write unit per started KB of the larger of the item's size before
  and after (a delete: its size before); a write inside ``TransactWriteItems`` costs
  twice that, a ``ConditionCheck`` in it as a transactional write of the item checked;
- a strongly consistent read costs 1 read unit per started 4 KB (an eventually
  consistent one half); a Query is charged on the sum of the items it returns; an
  item in ``TransactGetItems`` costs 2 units per started 4 KB; reading nothing still
  costs the minimum;
- every global secondary index an item enters, leaves or changes in costs 1 write
  unit per started KB of the index entry (ALL: the item; KEYS_ONLY: its keys), a key
  change 2 (the old entry deleted, the new one written).

Item sizes are moto's (attribute names plus values; numbers counted by their digits),
which is within a few bytes of DynamoDB's. A failed conditional write is charged like
one that succeeded, as DynamoDB does.
"""
from __future__ import annotations

import copy
import io
import json
import math
import re
import threading
from collections import Counter
from typing import Any, Optional

_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/dynamodb/")
_ACCOUNT = "123456789012"  # moto's default account


def _kb_units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


class CapacityMeter:
    """WSGI middleware in front of the emulator (requests must reach it one at a time)."""

    def __init__(self, app):
        self._app = app
        self.units: Counter = Counter()  # read_units, write_units, index_write_units
        self.calls: Counter = Counter()  # other services: "sqs:SendMessageBatch", "sesv2:SendEmail"
        # One row per item a request wrote or read (bench.capacity_items): what it is, its size, its units.
        self.items: list[dict] = []
        self._lock = threading.Lock()

    # -- WSGI -------------------------------------------------------------------
    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            if target.startswith("AmazonSQS."):
                self._call("sqs:" + target.split(".", 1)[1])
            elif environ.get("PATH_INFO", "").startswith("/v2/email/outbound-emails"):
                self._call("sesv2:SendEmail")
            return self._app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        operation = target.split(".", 1)[1]
        match = _REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
        backend = self._backend(match.group(1) if match else "us-east-1")
        request = json.loads(body or b"{}")
        writes = list(self._writes(operation, request))
        # copies: the emulator's UpdateItem changes the stored item in place, and an update's index
        # write (an ALL projection's entry rewritten) is only seen against the item as it was
        before = {(table, _key_of(key)): copy.deepcopy(self._item(backend, table, key)) for table, key, _ in writes}
        chunks = list(self._app(environ, start_response))
        try:
            response = json.loads(b"".join(chunks) or b"{}")
        except ValueError:
            response = {}
        units: Counter = Counter()
        rows = []
        for table, key, kind in writes:
            old = before[(table, _key_of(key))]
            new = self._item(backend, table, key)
            wru = self._write_units(kind, old, new)
            by_index = self._index_units_by_index(backend, table, old, new)
            units["write_units"] += wru
            units["index_write_units"] += sum(by_index.values())
            rows.append({"operation": operation, "item": _item_name(new or old, key), "write": kind,
                         "bytes": max([i.size() for i in (old, new) if i is not None] or [0]),
                         "wru": wru, "index_wru": dict(by_index), "rru": 0})
        reads = list(self._read_rows(backend, operation, request, response))
        units["read_units"] += sum(row["rru"] for row in reads)
        rows.extend(reads)
        with self._lock:
            self.units.update(units)
            self.items.extend(rows)
        return chunks

    def items_since(self, start: int) -> list[dict]:
        with self._lock:
            return list(self.items[start:])

    def _call(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1

    def snapshot(self) -> Counter:
        """Units and other services' calls so far, in one counter."""
        with self._lock:
            return Counter(self.units) + Counter(self.calls)

    # -- what a request writes ----------------------------------------------------
    @staticmethod
    def _writes(operation: str, request: dict):
        """(table, key or item, kind) for every item the request writes."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            yield request["TableName"], request.get("Key") or request.get("Item"), operation
        elif operation == "BatchWriteItem":
            for table, entries in request.get("RequestItems", {}).items():
                for entry in entries:
                    if "PutRequest" in entry:
                        yield table, entry["PutRequest"]["Item"], "PutItem"
                    else:
                        yield table, entry["DeleteRequest"]["Key"], "DeleteItem"
        elif operation == "TransactWriteItems":
            for entry in request.get("TransactItems", []):
                (kind, action), = entry.items()
                yield action["TableName"], action.get("Key") or action.get("Item"), f"Transact{kind}"

    @staticmethod
    def _write_units(kind: str, old, new) -> int:
        sizes = [item.size() for item in (old, new) if item is not None] or [0]
        if kind.endswith("ConditionCheck"):
            sizes = [old.size() if old is not None else 0]
        units = _kb_units(max(sizes), 1024)
        return 2 * units if kind.startswith("Transact") else units

    def _index_units(self, backend, table_name: str, old, new) -> int:
        return sum(self._index_units_by_index(backend, table_name, old, new).values())

    def _index_units_by_index(self, backend, table_name: str, old, new) -> Counter:
        table = backend.get_table(table_name)
        units: Counter = Counter()
        for index in table.global_indexes:
            keys = [part["AttributeName"] for part in index.schema]
            projection = index.projection.get("ProjectionType", "ALL")

            def entry(item) -> Optional[tuple]:
                if item is None or any(name not in item.attrs for name in keys):
                    return None
                return tuple(str(item.attrs[name].value) for name in keys)

            def size(item) -> int:
                if projection == "ALL":
                    return item.size()
                names = set(keys) | {table.hash_key_attr, table.range_key_attr}
                if projection == "INCLUDE":
                    names |= set(index.projection.get("NonKeyAttributes", []))
                return sum(len(name) + item.attrs[name].size() for name in names if name and name in item.attrs)

            name = index.name
            was, now = entry(old), entry(new)
            if was is None and now is None:
                continue
            if was is None:
                units[name] += _kb_units(size(new), 1024)
            elif now is None:
                units[name] += 1
            elif was != now:
                units[name] += 1 + _kb_units(size(new), 1024)
            elif projection == "ALL" and old.to_json() != new.to_json():
                units[name] += _kb_units(max(size(old), size(new)), 1024)
            elif projection == "INCLUDE" and _projected(old, index) != _projected(new, index):
                units[name] += _kb_units(max(size(old), size(new)), 1024)
        return units

    # -- what a request reads -------------------------------------------------------
    def _read_units(self, backend, operation: str, request: dict, response: dict) -> float:
        return sum(row["rru"] for row in self._read_rows(backend, operation, request, response))

    def _read_rows(self, backend, operation: str, request: dict, response: dict):
        """One row per item read (a Query: one row for what it returned), with its read units."""
        def row(item, key, size, rru, how):
            return {"operation": operation, "item": _item_name(item, key), "read": how, "bytes": size,
                    "rru": rru, "wru": 0, "index_wru": {}}

        if operation == "GetItem":
            item = self._item(backend, request["TableName"], request["Key"])
            size = item.size() if item is not None else 0
            units = _kb_units(size, 4096)
            consistent = bool(request.get("ConsistentRead"))
            yield row(item, request["Key"], size, units if consistent else units / 2,
                      "strong" if consistent else "eventual")
        elif operation == "TransactGetItems":
            for entry in request.get("TransactItems", []):
                get = entry["Get"]
                item = self._item(backend, get["TableName"], get["Key"])
                size = item.size() if item is not None else 0
                yield row(item, get["Key"], size, 2 * _kb_units(size, 4096), "transactional")
        elif operation == "BatchGetItem":
            for table, spec in request.get("RequestItems", {}).items():
                for key in spec.get("Keys", []):
                    item = self._item(backend, table, key)
                    size = item.size() if item is not None else 0
                    units = _kb_units(size, 4096)
                    consistent = bool(spec.get("ConsistentRead"))
                    yield row(item, key, size, units if consistent else units / 2,
                              "strong" if consistent else "eventual")
        elif operation in ("Query", "Scan"):
            items = response.get("Items", [])
            size = sum(_json_item_size(item) for item in items)
            units = _kb_units(size, 4096)
            consistent = bool(request.get("ConsistentRead"))
            names = sorted({_json_item_name(item) for item in items}) or ["(nothing)"]
            yield {"operation": operation, "item": "+".join(names), "read": "strong" if consistent else "eventual",
                   "bytes": size, "rru": units if consistent else units / 2, "wru": 0, "index_wru": {},
                   "query": request.get("IndexName") or "table"}

    # -- the emulator's state -------------------------------------------------------------
    @staticmethod
    def _backend(region: str):
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[_ACCOUNT][region]

    @staticmethod
    def _item(backend, table_name: str, key_or_item: dict):
        try:
            table = backend.get_table(table_name)
        except Exception:
            return None
        key = {name: key_or_item[name] for name in (table.hash_key_attr, table.range_key_attr)
               if name and name in key_or_item}
        try:
            return backend.get_item(table_name, key)
        except Exception:
            return None


def _key_of(key_or_item: dict) -> str:
    return json.dumps({k: key_or_item[k] for k in sorted(key_or_item) if k in ("pk", "sk")}, sort_keys=True)


def _json_item_size(item: dict[str, Any]) -> int:
    """Size of an item in DynamoDB's JSON form, by the same rules as moto's ``Item.size``."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    return sum(len(name.encode()) + DynamoType(value).size() for name, value in item.items())


def _item_name(item, key: dict) -> str:
    """What an item is: its ``type`` (the models' discriminator), else the first part of its keys."""
    if item is not None and "type" in item.attrs:
        return str(item.attrs["type"].value)
    return _key_shape(key)


def _json_item_name(item: dict[str, Any]) -> str:
    if "type" in item:
        return next(iter(item["type"].values()))
    return _key_shape(item)


def _key_shape(key: dict) -> str:
    def head(part: dict | None) -> str:
        value = next(iter(part.values())) if part else ""
        return str(value).split("#", 1)[0]

    return f"{head(key.get('pk'))}/{head(key.get('sk'))}"


def _projected(item, index) -> dict:
    names = index.projection.get("NonKeyAttributes", [])
    return {name: item.attrs[name].value for name in names if name in item.attrs}
