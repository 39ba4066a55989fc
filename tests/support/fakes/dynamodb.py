"""DynamoDB in a dict: the botocore client the store's repositories talk to, answered in memory.

The store speaks DynamoDB's wire format through PynamoDB and, for counters and pages, through
the botocore client itself; this fake takes those requests as they are (the operation and its
parameters in DynamoDB JSON) and answers the way DynamoDB does: conditions and update
expressions evaluated on the stored item, transactions all-or-nothing with their cancellation
reasons in request order, queries in sort-key order with Limit and ExclusiveStartKey, global
secondary indexes with their projections. Errors are botocore's own exception classes with
DynamoDB's codes, so ``except ClientError`` and ``client.exceptions.X`` code paths are the real ones.

Key sizes are checked as DynamoDB checks them, on reads too (a partition key over 2,048 bytes, a
sort key over 1,024: ValidationException), which the emulator checks on writes only. Not modelled
(the emulator tests keep them): item size and request size limits, throttling, TTL expiry,
eventual consistency, the 1 MB page limit. tests/contract checks that the
repositories behave the same on this and on the emulator.
"""
from __future__ import annotations

import copy
import functools
import re
import threading
from decimal import Decimal
from typing import Any, Callable, Iterable, Optional

Item = dict[str, dict]  # attribute name → typed value ({"S": "…"}, {"N": "1"}, …)

_IMMUTABLE = frozenset({str, bytes, int, float, bool, type(None), Decimal})


def _copied(value):
    """A deep copy of a request, item or typed value: dicts, lists and sets of immutable scalars,
    as ``copy.deepcopy`` makes it, without its memo and dispatch on every scalar (deepcopy was a
    twelfth of a service test's CPU: every request and every item read or written is copied, so a
    test can never reach into the table). Anything else goes to ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {key: _copied(member) for key, member in value.items()}
    if kind is list:
        return [_copied(member) for member in value]
    if kind in _IMMUTABLE:
        return value
    if kind is tuple:
        return tuple(_copied(member) for member in value)
    if kind is set or kind is frozenset:
        return kind(_copied(member) for member in value)
    return copy.deepcopy(value)


# -- typed values -----------------------------------------------------------------------------
def _type_of(value: dict) -> str:
    (kind,) = value.keys()
    return kind


def _number(text: str) -> Decimal:
    return Decimal(text)


def _plain(value: dict):
    """A typed value as something Python compares and hashes."""
    kind = _type_of(value)
    raw = value[kind]
    if kind == "N":
        return ("N", _number(raw))
    if kind in ("S", "B", "BOOL", "NULL"):
        return (kind, raw)
    if kind == "NS":
        return (kind, frozenset(_number(n) for n in raw))
    if kind in ("SS", "BS"):
        return (kind, frozenset(raw))
    if kind == "L":
        return (kind, tuple(_plain(v) for v in raw))
    if kind == "M":
        return (kind, tuple(sorted((k, _plain(v)) for k, v in raw.items())))
    raise _validation(f"unknown attribute type {kind}")


def _same_key(wanted: dict) -> Callable[[Optional[dict]], bool]:
    """Whether a key attribute (S, N or B) equals ``wanted``: a string or binary key is equal
    exactly when its typed value is, a number when its value is ("1.0" is "1"). An index query
    tests every item of the table, and ``_equal`` made both sides comparable for each one (4 % of
    tests/services' CPU)."""
    plain = _plain(wanted)

    def same(value: Optional[dict]) -> bool:
        if value is None:
            return False
        if value == wanted:
            return True
        return "N" in value and "N" in wanted and _plain(value) == plain

    return same


def _equal(left: Optional[dict], right: Optional[dict]) -> bool:
    if left is None or right is None:
        return False
    return _plain(left) == _plain(right)


def _ordered(left: Optional[dict], right: Optional[dict]) -> Optional[tuple]:
    """Both values as comparable scalars of one orderable type, or None (the comparison is false)."""
    if left is None or right is None:
        return None
    kind = _type_of(left)
    if kind != _type_of(right) or kind not in ("N", "S", "B"):
        return None
    if kind == "N":
        return _number(left["N"]), _number(right["N"])
    if kind == "S":
        return left["S"].encode(), right["S"].encode()  # DynamoDB orders strings by their UTF-8 bytes
    return _as_bytes(left["B"]), _as_bytes(right["B"])


def _as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _sort_key(value: dict):
    kind = _type_of(value)
    if kind == "N":
        return _number(value["N"])
    if kind == "S":
        return value["S"].encode()
    return _as_bytes(value[kind])


def _format_number(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text if text not in ("-0",) else "0"


# -- errors -----------------------------------------------------------------------------------
_exceptions = None


def _exception_classes():
    """botocore's own modelled exceptions of DynamoDB (a client made once, offline)."""
    global _exceptions
    if _exceptions is None:
        import botocore.session

        client = botocore.session.get_session().create_client(
            "dynamodb", region_name="eu-central-1", aws_access_key_id="fake", aws_secret_access_key="fake")
        _exceptions = client.exceptions
    return _exceptions


class _Failure(Exception):
    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


def _validation(message: str) -> _Failure:
    return _Failure("ValidationException", message)


def _condition_failed(item: Optional[Item], return_item: bool) -> _Failure:
    extra = {"Item": _copied(item)} if return_item and item else {}
    return _Failure("ConditionalCheckFailedException", "The conditional request failed", **extra)


# -- expressions: tokens ----------------------------------------------------------------------
_TOKEN = re.compile(r"""
    \s*(?:
      (?P<op><>|<=|>=|=|<|>|\(|\)|,|\.|\[|\]|\+|-)
    | (?P<name>\#[A-Za-z0-9_]+)
    | (?P<value>:[A-Za-z0-9_]+)
    | (?P<number>[0-9]+)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""", re.VERBOSE)


@functools.lru_cache(maxsize=4096)
def _tokenized(text: str) -> tuple[tuple[str, str], ...]:
    # A store asks the same few dozen expressions over and over: each is split once (the split
    # was half of compiling a condition, 2 % of tests/services' CPU). A bad one raises every time.
    items = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise _validation(f"invalid expression near {text[position:position + 20]!r}")
        kind = match.lastgroup
        items.append((kind, match.group(kind)))
        position = match.end()
    return tuple(items)


class _Tokens:
    def __init__(self, text: str):
        self.items: tuple[tuple[str, str], ...] = _tokenized(text)
        self.at = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.at + offset
        return self.items[index] if index < len(self.items) else ("end", "")

    def next(self) -> tuple[str, str]:
        token = self.peek()
        self.at += 1
        return token

    def keyword(self, *words: str) -> bool:
        kind, text = self.peek()
        return kind == "word" and text.upper() in words

    def expect(self, text: str) -> None:
        kind, found = self.next()
        if found != text and found.upper() != text:
            raise _validation(f"expected {text!r}, found {found!r}")

    def done(self) -> bool:
        return self.at >= len(self.items)


class _Context:
    def __init__(self, names: Optional[dict], values: Optional[dict]):
        self.names = names or {}
        self.values = values or {}

    def name(self, token: str) -> str:
        if token.startswith("#"):
            if token not in self.names:
                raise _validation(f"undefined attribute name {token}")
            return self.names[token]
        return token

    def value(self, token: str) -> dict:
        if token not in self.values:
            raise _validation(f"undefined attribute value {token}")
        return self.values[token]


# A path is a list of steps: str (map key) or int (list index).
Path = list


def _parse_path(tokens: _Tokens, context: _Context) -> Path:
    kind, text = tokens.next()
    if kind not in ("name", "word"):
        raise _validation(f"expected an attribute, found {text!r}")
    path: Path = [context.name(text)]
    while True:
        _, following = tokens.peek()
        if following == ".":
            tokens.next()
            kind, text = tokens.next()
            path.append(context.name(text))
        elif following == "[":
            tokens.next()
            _, index = tokens.next()
            tokens.expect("]")
            path.append(int(index))
        else:
            return path


def _resolve(item: Optional[Item], path: Path) -> Optional[dict]:
    if item is None:
        return None
    current: Any = {"M": item}
    for step in path:
        if isinstance(step, int):
            if "L" not in current or step >= len(current["L"]):
                return None
            current = current["L"][step]
        else:
            if "M" not in current or step not in current["M"]:
                return None
            current = current["M"][step]
    return current


# -- conditions (also filters and key conditions) ---------------------------------------------
Predicate = Callable[[Optional[Item]], bool]
Operand = Callable[[Optional[Item]], Optional[dict]]


def compile_condition(text: str, names: Optional[dict], values: Optional[dict]) -> Predicate:
    tokens = _Tokens(text)
    predicate = _or(tokens, _Context(names, values))
    if not tokens.done():
        raise _validation(f"unexpected {tokens.peek()[1]!r} in condition")
    return predicate


def _or(tokens: _Tokens, context: _Context) -> Predicate:
    parts = [_and(tokens, context)]
    while tokens.keyword("OR"):
        tokens.next()
        parts.append(_and(tokens, context))
    return parts[0] if len(parts) == 1 else (lambda item: any(part(item) for part in parts))


def _and(tokens: _Tokens, context: _Context) -> Predicate:
    parts = [_not(tokens, context)]
    while tokens.keyword("AND"):
        tokens.next()
        parts.append(_not(tokens, context))
    return parts[0] if len(parts) == 1 else (lambda item: all(part(item) for part in parts))


def _not(tokens: _Tokens, context: _Context) -> Predicate:
    if tokens.keyword("NOT"):
        tokens.next()
        inner = _not(tokens, context)
        return lambda item: not inner(item)
    return _primary(tokens, context)


_FUNCTIONS = ("ATTRIBUTE_EXISTS", "ATTRIBUTE_NOT_EXISTS", "ATTRIBUTE_TYPE", "BEGINS_WITH", "CONTAINS")


def _primary(tokens: _Tokens, context: _Context) -> Predicate:
    kind, text = tokens.peek()
    if text == "(":
        tokens.next()
        inner = _or(tokens, context)
        tokens.expect(")")
        return inner
    if kind == "word" and text.upper() in _FUNCTIONS and tokens.peek(1)[1] == "(":
        return _function(tokens, context)
    left = _operand(tokens, context)
    kind, text = tokens.next()
    if text in ("=", "<>", "<", "<=", ">", ">="):
        right = _operand(tokens, context)
        return _comparison(text, left, right)
    if text.upper() == "BETWEEN":
        low = _operand(tokens, context)
        tokens.expect("AND")
        high = _operand(tokens, context)
        lower, upper = _comparison(">=", left, low), _comparison("<=", left, high)
        return lambda item: lower(item) and upper(item)
    if text.upper() == "IN":
        tokens.expect("(")
        choices = [_operand(tokens, context)]
        while tokens.peek()[1] == ",":
            tokens.next()
            choices.append(_operand(tokens, context))
        tokens.expect(")")
        return lambda item: any(_equal(left(item), choice(item)) for choice in choices)
    raise _validation(f"unexpected {text!r} in condition")


def _comparison(operator: str, left: Operand, right: Operand) -> Predicate:
    if operator == "=":
        return lambda item: _equal(left(item), right(item))
    if operator == "<>":
        def differs(item):
            a, b = left(item), right(item)
            return a is not None and b is not None and not _equal(a, b) or (a is None) != (b is None)
        return differs
    compare = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
               ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[operator]

    def ordered(item):
        pair = _ordered(left(item), right(item))
        return pair is not None and compare(*pair)
    return ordered


def _function(tokens: _Tokens, context: _Context) -> Predicate:
    _, name = tokens.next()
    name = name.upper()
    tokens.expect("(")
    path = _parse_path(tokens, context)
    argument: Optional[Operand] = None
    if tokens.peek()[1] == ",":
        tokens.next()
        argument = _operand(tokens, context)
    tokens.expect(")")
    if name == "ATTRIBUTE_EXISTS":
        return lambda item: _resolve(item, path) is not None
    if name == "ATTRIBUTE_NOT_EXISTS":
        return lambda item: _resolve(item, path) is None
    if name == "ATTRIBUTE_TYPE":
        return lambda item: (_resolve(item, path) is not None
                             and _type_of(_resolve(item, path)) == argument(item).get("S"))
    if name == "BEGINS_WITH":
        def begins(item):
            value, prefix = _resolve(item, path), argument(item)
            if value is None or prefix is None or _type_of(value) != _type_of(prefix) or _type_of(value) not in "SB":
                return False
            kind = _type_of(value)
            return _as_bytes(value[kind]).startswith(_as_bytes(prefix[kind])) if kind == "B" \
                else value["S"].startswith(prefix["S"])
        return begins

    def contains(item):  # CONTAINS
        value, wanted = _resolve(item, path), argument(item)
        if value is None or wanted is None:
            return False
        kind = _type_of(value)
        if kind == "S":
            return _type_of(wanted) == "S" and wanted["S"] in value["S"]
        if kind in ("SS", "NS", "BS"):
            return _plain(wanted)[1] in _plain(value)[1]
        if kind == "L":
            return any(_equal(element, wanted) for element in value["L"])
        return False
    return contains


def _operand(tokens: _Tokens, context: _Context) -> Operand:
    kind, text = tokens.peek()
    if kind == "value":
        tokens.next()
        value = context.value(text)
        return lambda item: value
    if kind == "word" and text.upper() == "SIZE" and tokens.peek(1)[1] == "(":
        tokens.next()
        tokens.expect("(")
        path = _parse_path(tokens, context)
        tokens.expect(")")

        def size(item):
            value = _resolve(item, path)
            if value is None:
                return None
            kind = _type_of(value)
            raw = value[kind]
            length = len(raw.encode()) if kind == "S" else len(raw) if kind in ("B", "SS", "NS", "BS", "L", "M") else None
            return None if length is None else {"N": str(length)}
        return size
    path = _parse_path(tokens, context)
    return lambda item: _resolve(item, path)


# -- update expressions -----------------------------------------------------------------------
def apply_update(item: Item, text: str, names: Optional[dict], values: Optional[dict]) -> tuple[Item, set[str]]:
    """The item after ``text`` and the top-level attributes it touched."""
    context = _Context(names, values)
    tokens = _Tokens(text)
    actions: list[tuple[str, Path, Any]] = []
    while not tokens.done():
        kind, clause = tokens.next()
        clause = clause.upper()
        if clause not in ("SET", "REMOVE", "ADD", "DELETE"):
            raise _validation(f"unexpected {clause!r} in update expression")
        while True:
            path = _parse_path(tokens, context)
            if clause == "SET":
                tokens.expect("=")
                actions.append((clause, path, _set_value(tokens, context)))
            elif clause in ("ADD", "DELETE"):
                _, token = tokens.next()
                actions.append((clause, path, context.value(token)))
            else:
                actions.append((clause, path, None))
            if tokens.peek()[1] != ",":
                break
            tokens.next()
    touched = {path[0] for _, path, _ in actions}
    if len(touched) < len(actions) and len({tuple(path) for _, path, _ in actions}) < len(actions):
        raise _validation("Two document paths overlap in the update expression")
    old = _copied(item)
    new = _copied(item)
    for clause, path, argument in actions:
        if clause == "SET":
            _assign(new, path, argument(old))
        elif clause == "REMOVE":
            _remove(new, path)
        elif clause == "ADD":
            _add(new, path, argument)
        else:
            _delete_from_set(new, path, argument)
    return new, touched


def _set_value(tokens: _Tokens, context: _Context) -> Operand:
    left = _set_operand(tokens, context)
    operator = tokens.peek()[1]
    if operator in ("+", "-"):
        tokens.next()
        right = _set_operand(tokens, context)

        def arithmetic(item):
            a, b = left(item), right(item)
            if a is None or b is None or _type_of(a) != "N" or _type_of(b) != "N":
                raise _validation("An operand in the update expression has an incorrect data type")
            result = _number(a["N"]) + _number(b["N"]) if operator == "+" else _number(a["N"]) - _number(b["N"])
            return {"N": _format_number(result)}
        return arithmetic
    return left


def _set_operand(tokens: _Tokens, context: _Context) -> Operand:
    kind, text = tokens.peek()
    if kind == "word" and text.upper() == "IF_NOT_EXISTS" and tokens.peek(1)[1] == "(":
        tokens.next()
        tokens.expect("(")
        path = _parse_path(tokens, context)
        tokens.expect(",")
        fallback = _set_operand(tokens, context)
        tokens.expect(")")
        return lambda item: _resolve(item, path) if _resolve(item, path) is not None else fallback(item)
    if kind == "word" and text.upper() == "LIST_APPEND" and tokens.peek(1)[1] == "(":
        tokens.next()
        tokens.expect("(")
        first = _set_operand(tokens, context)
        tokens.expect(",")
        second = _set_operand(tokens, context)
        tokens.expect(")")

        def append(item):
            a, b = first(item), second(item)
            if a is None or b is None or "L" not in a or "L" not in b:
                raise _validation("list_append takes two lists")
            return {"L": _copied(a["L"]) + _copied(b["L"])}
        return append
    operand = _operand(tokens, context)

    def required(item):
        value = operand(item)
        if value is None:
            raise _validation("The provided expression refers to an attribute that does not exist in the item")
        return _copied(value)
    return required


def _container(item: Item, path: Path, create: bool = False):
    """The map or list holding the last step of ``path`` (None when a step is missing)."""
    current: Any = {"M": item}
    for step in path[:-1]:
        if isinstance(step, int):
            if "L" not in current or step >= len(current["L"]):
                return None
            current = current["L"][step]
        else:
            if "M" not in current or step not in current["M"]:
                return None
            current = current["M"][step]
    return current


def _assign(item: Item, path: Path, value: dict) -> None:
    holder = _container(item, path)
    last = path[-1]
    if holder is None:
        raise _validation("The document path provided in the update expression is invalid for update")
    if isinstance(last, int):
        if "L" not in holder:
            raise _validation("The document path provided in the update expression is invalid for update")
        if last >= len(holder["L"]):
            holder["L"].append(value)
        else:
            holder["L"][last] = value
    else:
        if "M" not in holder:
            raise _validation("The document path provided in the update expression is invalid for update")
        holder["M"][last] = value


def _remove(item: Item, path: Path) -> None:
    holder = _container(item, path)
    last = path[-1]
    if holder is None:
        return
    if isinstance(last, int):
        if "L" in holder and last < len(holder["L"]):
            del holder["L"][last]
    elif "M" in holder:
        holder["M"].pop(last, None)


def _add(item: Item, path: Path, value: dict) -> None:
    current = _resolve(item, path)
    kind = _type_of(value)
    if current is None:
        _assign(item, path, _copied(value))
        return
    if kind == "N" and _type_of(current) == "N":
        _assign(item, path, {"N": _format_number(_number(current["N"]) + _number(value["N"]))})
    elif kind in ("SS", "NS", "BS") and _type_of(current) == kind:
        merged = list(current[kind]) + [element for element in value[kind] if element not in current[kind]]
        _assign(item, path, {kind: merged})
    else:
        raise _validation("An operand in the update expression has an incorrect data type")


def _delete_from_set(item: Item, path: Path, value: dict) -> None:
    current = _resolve(item, path)
    kind = _type_of(value)
    if current is None:
        return
    if _type_of(current) != kind or kind not in ("SS", "NS", "BS"):
        raise _validation("An operand in the update expression has an incorrect data type")
    left = [element for element in current[kind] if element not in value[kind]]
    if left:
        _assign(item, path, {kind: left})
    else:
        _remove(item, path)


def _project(item: Item, projection: Optional[str], names: Optional[dict]) -> Item:
    if not projection:
        return _copied(item)
    context = _Context(names, None)
    result: Item = {}
    tokens = _Tokens(projection)
    while not tokens.done():
        path = _parse_path(tokens, context)
        value = _resolve(item, path)
        if value is not None:
            if len(path) == 1:
                result[path[0]] = _copied(value)
            else:  # nested projections keep the enclosing maps
                target: dict = result.setdefault(path[0], {"M": {}}) if isinstance(path[1], str) else None
                if target is not None:
                    for step in path[1:-1]:
                        target = target["M"].setdefault(step, {"M": {}})
                    target["M"][path[-1]] = _copied(value)
        if tokens.peek()[1] == ",":
            tokens.next()
    return result


# -- tables -----------------------------------------------------------------------------------
class _Index:
    def __init__(self, name: Optional[str], hash_key: str, range_key: Optional[str], projection: dict):
        self.name, self.hash_key, self.range_key = name, hash_key, range_key
        self.projection = projection


class _Table:
    def __init__(self, definition: dict):
        self.definition = _copied(definition)
        self.name = definition["TableName"]
        self.primary = _Index(None, *_key_names(definition["KeySchema"]), {"ProjectionType": "ALL"})
        self.indexes = {index["IndexName"]: _Index(index["IndexName"], *_key_names(index["KeySchema"]),
                                                   index.get("Projection", {"ProjectionType": "ALL"}))
                        for index in definition.get("GlobalSecondaryIndexes", [])}
        self.partitions: dict[Any, dict[Any, Item]] = {}

    def key_of(self, item_or_key: Item) -> tuple:
        hash_value = item_or_key.get(self.primary.hash_key)
        if hash_value is None:
            raise _validation(f"One of the required keys was not given a value: {self.primary.hash_key}")
        _check_key_size(hash_value, None)
        range_value = None
        if self.primary.range_key:
            range_value = item_or_key.get(self.primary.range_key)
            if range_value is None:
                raise _validation(f"One of the required keys was not given a value: {self.primary.range_key}")
            _check_key_size(None, range_value)
        return _plain(hash_value), _plain(range_value) if range_value is not None else None

    def get(self, key: Item) -> Optional[Item]:
        hash_part, range_part = self.key_of(key)
        return self.partitions.get(hash_part, {}).get(range_part)

    def put(self, item: Item) -> None:
        hash_part, range_part = self.key_of(item)
        self.partitions.setdefault(hash_part, {})[range_part] = item

    def delete(self, key: Item) -> None:
        hash_part, range_part = self.key_of(key)
        partition = self.partitions.get(hash_part)
        if partition is not None:
            partition.pop(range_part, None)
            if not partition:
                del self.partitions[hash_part]

    def items(self) -> Iterable[Item]:
        for partition in self.partitions.values():
            yield from partition.values()

    def describe(self) -> dict:
        return {**_copied(self.definition), "TableStatus": "ACTIVE", "ItemCount": sum(1 for _ in self.items()),
                "TableArn": f"arn:aws:dynamodb:eu-central-1:123456789012:table/{self.name}"}


def _key_names(schema: list[dict]) -> tuple[str, Optional[str]]:
    hash_key = next(entry["AttributeName"] for entry in schema if entry["KeyType"] == "HASH")
    range_key = next((entry["AttributeName"] for entry in schema if entry["KeyType"] == "RANGE"), None)
    return hash_key, range_key


# -- the client -------------------------------------------------------------------------------
def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


class FakeDynamoDBClient:
    """The part of botocore's DynamoDB client the store uses, in memory. One lock around every
    request: DynamoDB applies each request atomically, and threads of one test share the fake."""

    _request_signer = None  # PynamoDB looks here for credentials before reusing a client

    class meta:  # noqa: N801  (botocore's attribute name)
        region_name = "eu-central-1"
        endpoint_url = "memory://dynamodb"
        service_model = None

    def __init__(self):
        self.tables: dict[str, _Table] = {}
        self.lock = threading.RLock()
        self.requests: dict[str, int] = {}

    @property
    def exceptions(self):
        return _exception_classes()

    def _make_api_call(self, operation: str, parameters: dict) -> dict:
        handler = getattr(self, "_" + _snake(operation), None)
        if handler is None:
            raise NotImplementedError(f"the in-memory DynamoDB does not do {operation}")
        with self.lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1
            try:
                return handler(**_copied(parameters))
            except _Failure as failure:
                response = {"Error": {"Code": failure.code, "Message": failure.message},
                            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}}, **failure.extra}
                raise _exception_classes().from_code(failure.code)(response, operation) from None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        operation = "".join(part.capitalize() for part in name.split("_"))
        return lambda **parameters: self._make_api_call(operation, parameters)

    def get_paginator(self, operation: str) -> "_Paginator":
        return _Paginator(self, {"query": "Query", "scan": "Scan"}[operation])

    def get_waiter(self, name: str) -> "_Waiter":
        return _Waiter()

    # -- tables ---------------------------------------------------------------------------------
    def _table(self, name: str) -> _Table:
        if name not in self.tables:
            raise _Failure("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
        return self.tables[name]

    def _create_table(self, **definition) -> dict:
        name = definition["TableName"]
        if name in self.tables:
            raise _Failure("ResourceInUseException", f"Table already exists: {name}")
        self.tables[name] = _Table(definition)
        return {"TableDescription": self.tables[name].describe()}

    def _describe_table(self, TableName: str) -> dict:
        return {"Table": self._table(TableName).describe()}

    def _delete_table(self, TableName: str) -> dict:
        table = self._table(TableName)
        del self.tables[TableName]
        return {"TableDescription": table.describe()}

    def _list_tables(self, **_) -> dict:
        return {"TableNames": sorted(self.tables)}

    def _update_time_to_live(self, TableName: str, TimeToLiveSpecification: dict) -> dict:
        self._table(TableName)
        return {"TimeToLiveSpecification": TimeToLiveSpecification}

    def _describe_time_to_live(self, TableName: str) -> dict:
        self._table(TableName)
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}}

    # -- single items ---------------------------------------------------------------------------
    def _get_item(self, TableName: str, Key: Item, ProjectionExpression: Optional[str] = None,
                  ExpressionAttributeNames: Optional[dict] = None, ConsistentRead: bool = False,
                  AttributesToGet: Optional[list] = None, **_) -> dict:
        item = self._table(TableName).get(Key)
        if item is None:
            return {}
        if AttributesToGet:
            return {"Item": {name: _copied(value) for name, value in item.items() if name in AttributesToGet}}
        return {"Item": _project(item, ProjectionExpression, ExpressionAttributeNames)}

    @staticmethod
    def _check(item: Optional[Item], condition: Optional[str], names, values, return_item: bool = False) -> None:
        if condition and not compile_condition(condition, names, values)(item):
            raise _condition_failed(item, return_item)

    def _put_item(self, TableName: str, Item: Item, ConditionExpression: Optional[str] = None,
                  ExpressionAttributeNames: Optional[dict] = None, ExpressionAttributeValues: Optional[dict] = None,
                  ReturnValues: str = "NONE", ReturnValuesOnConditionCheckFailure: str = "NONE", **_) -> dict:
        table = self._table(TableName)
        old = table.get(Item)
        self._check(old, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues,
                    ReturnValuesOnConditionCheckFailure == "ALL_OLD")
        _check_item(Item)
        table.put(Item)
        return {"Attributes": _copied(old)} if ReturnValues == "ALL_OLD" and old else {}

    def _update_item(self, TableName: str, Key: Item, UpdateExpression: Optional[str] = None,
                     ConditionExpression: Optional[str] = None, ExpressionAttributeNames: Optional[dict] = None,
                     ExpressionAttributeValues: Optional[dict] = None, ReturnValues: str = "NONE",
                     ReturnValuesOnConditionCheckFailure: str = "NONE", **_) -> dict:
        table = self._table(TableName)
        old = table.get(Key)
        self._check(old, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues,
                    ReturnValuesOnConditionCheckFailure == "ALL_OLD")
        new, touched = self._updated(table, Key, old, UpdateExpression, ExpressionAttributeNames,
                                     ExpressionAttributeValues)
        table.put(new)
        if ReturnValues == "ALL_NEW":
            return {"Attributes": _copied(new)}
        if ReturnValues == "ALL_OLD":
            return {"Attributes": _copied(old)} if old else {}
        if ReturnValues == "UPDATED_NEW":
            return {"Attributes": {name: _copied(new[name]) for name in touched if name in new}}
        if ReturnValues == "UPDATED_OLD":
            return {"Attributes": {name: _copied(old[name]) for name in touched if old and name in old}}
        return {}

    @staticmethod
    def _updated(table: _Table, key: Item, old: Optional[Item], expression, names, values) -> tuple[Item, set]:
        base = _copied(old) if old is not None else _copied(key)
        if not expression:
            return base, set()
        new, touched = apply_update(base, expression, names, values)
        for key_name in filter(None, (table.primary.hash_key, table.primary.range_key)):
            if key_name in touched:
                raise _validation(f"Cannot update attribute {key_name}. This attribute is part of the key")
        _check_item(new)
        return new, touched

    def _delete_item(self, TableName: str, Key: Item, ConditionExpression: Optional[str] = None,
                     ExpressionAttributeNames: Optional[dict] = None, ExpressionAttributeValues: Optional[dict] = None,
                     ReturnValues: str = "NONE", ReturnValuesOnConditionCheckFailure: str = "NONE", **_) -> dict:
        table = self._table(TableName)
        old = table.get(Key)
        self._check(old, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues,
                    ReturnValuesOnConditionCheckFailure == "ALL_OLD")
        table.delete(Key)
        return {"Attributes": _copied(old)} if ReturnValues == "ALL_OLD" and old else {}

    # -- many items -----------------------------------------------------------------------------
    def _query(self, TableName: str, KeyConditionExpression: str, IndexName: Optional[str] = None, **options) -> dict:
        table = self._table(TableName)
        index = table.indexes[IndexName] if IndexName else table.primary
        names, values = options.get("ExpressionAttributeNames"), options.get("ExpressionAttributeValues")
        hash_value, range_condition = _split_key_condition(KeyConditionExpression, names, values, index)
        _check_key_size(hash_value, None)
        if IndexName:
            in_partition = _same_key(hash_value)
            candidates = [item for item in table.items()
                          if in_partition(item.get(index.hash_key))
                          and (index.range_key is None or index.range_key in item)]
        else:
            candidates = list(table.partitions.get(_plain(hash_value), {}).values())
        candidates = [item for item in candidates if range_condition(item)]
        return self._page(table, index, candidates, options)

    def _scan(self, TableName: str, IndexName: Optional[str] = None, Segment: int = 0, TotalSegments: int = 1,
              **options) -> dict:
        table = self._table(TableName)
        index = table.indexes[IndexName] if IndexName else table.primary
        candidates = [item for item in table.items()
                      if index.hash_key in item and (index.range_key is None or index.range_key in item)]
        if TotalSegments > 1:
            candidates = [item for item in candidates
                          if hash(repr(_plain(item[table.primary.hash_key]))) % TotalSegments == Segment]
        return self._page(table, index, candidates, {**options, "_scan": True})

    def _page(self, table: _Table, index: _Index, candidates: list[Item], options: dict) -> dict:
        def order(item):
            parts = [] if options.get("_scan") else []
            if options.get("_scan"):
                parts.append(repr(_plain(item[index.hash_key])))
            if index.range_key:
                parts.append(_sort_key(item[index.range_key]))
            if index is not table.primary:  # ties in an index: the table's keys decide, stably
                parts.append(repr(table.key_of(item)))
            return tuple(parts)

        candidates.sort(key=order, reverse=not options.get("ScanIndexForward", True))
        start = options.get("ExclusiveStartKey")
        if start:
            hash_keys = {table.primary.hash_key, index.hash_key}
            for name, value in start.items():
                _check_key_size(value, None) if name in hash_keys else _check_key_size(None, value)
            start_order = order({**start})
            forward = options.get("ScanIndexForward", True)
            candidates = [item for item in candidates
                          if (order(item) > start_order if forward else order(item) < start_order)]
        limit = options.get("Limit")
        evaluated = candidates[:limit] if limit else candidates
        more = bool(limit) and len(candidates) > limit
        names, values = options.get("ExpressionAttributeNames"), options.get("ExpressionAttributeValues")
        matching = evaluated
        if options.get("FilterExpression"):
            keep = compile_condition(options["FilterExpression"], names, values)
            matching = [item for item in evaluated if keep(item)]
        response: dict = {"Count": len(matching), "ScannedCount": len(evaluated)}
        if options.get("Select") != "COUNT":
            response["Items"] = [_project(_index_view(table, index, item), options.get("ProjectionExpression"), names)
                                 for item in matching]
        if more and evaluated:
            last = evaluated[-1]
            key_names = {table.primary.hash_key, table.primary.range_key, index.hash_key, index.range_key} - {None}
            response["LastEvaluatedKey"] = {name: _copied(last[name]) for name in key_names}
        return response

    def _batch_write_item(self, RequestItems: dict, **_) -> dict:
        for table_name, requests in RequestItems.items():
            table = self._table(table_name)
            if len(requests) > 25:
                raise _validation("Too many items requested for the BatchWriteItem call")
            for request in requests:
                if "PutRequest" in request:
                    _check_item(request["PutRequest"]["Item"])
                    table.put(request["PutRequest"]["Item"])
                else:
                    table.delete(request["DeleteRequest"]["Key"])
        return {"UnprocessedItems": {}}

    def _batch_get_item(self, RequestItems: dict, **_) -> dict:
        responses: dict = {}
        for table_name, request in RequestItems.items():
            table = self._table(table_name)
            found = [table.get(key) for key in request["Keys"]]
            responses[table_name] = [_project(item, request.get("ProjectionExpression"),
                                              request.get("ExpressionAttributeNames"))
                                     for item in found if item is not None]
        return {"Responses": responses, "UnprocessedKeys": {}}

    # -- transactions ---------------------------------------------------------------------------
    def _transact_get_items(self, TransactItems: list, **_) -> dict:
        responses = []
        for entry in TransactItems:
            get = entry["Get"]
            item = self._table(get["TableName"]).get(get["Key"])
            responses.append({"Item": _project(item, get.get("ProjectionExpression"),
                                               get.get("ExpressionAttributeNames"))} if item else {})
        return {"Responses": responses}

    def _transact_write_items(self, TransactItems: list, ClientRequestToken: Optional[str] = None, **_) -> dict:
        if len(TransactItems) > 100:
            raise _validation("Member must have length less than or equal to 100")
        seen: set = set()
        plans = []
        for entry in TransactItems:
            (kind, request), = entry.items()
            table = self._table(request["TableName"])
            key = request["Item"] if kind == "Put" else request["Key"]
            identity = (table.name, table.key_of(key))
            if identity in seen:
                raise _validation("Transaction request cannot include multiple operations on one item")
            seen.add(identity)
            plans.append((kind, request, table, table.get(key)))
        reasons, failed = [], False
        for kind, request, table, old in plans:
            condition = request.get("ConditionExpression")
            if condition and not compile_condition(condition, request.get("ExpressionAttributeNames"),
                                                   request.get("ExpressionAttributeValues"))(old):
                reason = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
                if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old:
                    reason["Item"] = _copied(old)
                reasons.append(reason)
                failed = True
            else:
                reasons.append({"Code": "None"})
        if failed:
            codes = ", ".join(reason["Code"] for reason in reasons)
            raise _Failure("TransactionCanceledException",
                           f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                           CancellationReasons=reasons)
        writes = []
        for kind, request, table, old in plans:  # every update computed before any is applied
            if kind == "Put":
                _check_item(request["Item"])
                writes.append((table, "put", request["Item"]))
            elif kind == "Update":
                new, _ = self._updated(table, request["Key"], old, request.get("UpdateExpression"),
                                       request.get("ExpressionAttributeNames"),
                                       request.get("ExpressionAttributeValues"))
                writes.append((table, "put", new))
            elif kind == "Delete":
                writes.append((table, "delete", request["Key"]))
        for table, action, payload in writes:
            table.put(payload) if action == "put" else table.delete(payload)
        return {}


_MAX_HASH_KEY_BYTES, _MAX_RANGE_KEY_BYTES = 2048, 1024


def _check_key_size(hash_value: Optional[dict], range_value: Optional[dict]) -> None:
    """DynamoDB's key size limits, with its messages (it checks them on every request naming a key)."""
    if hash_value is not None and len(_as_bytes(_plain(hash_value))) > _MAX_HASH_KEY_BYTES:
        raise _validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
                          "size limit of2048 bytes")
    if range_value is not None and len(_as_bytes(_plain(range_value))) > _MAX_RANGE_KEY_BYTES:
        raise _validation("One or more parameter values were invalid: Aggregated size of all range keys has "
                          "exceeded the size limit of 1024 bytes")


def _check_item(item: Item) -> None:
    for name, value in item.items():
        kind = _type_of(value)
        if kind in ("SS", "NS", "BS") and not value[kind]:
            raise _validation(f"One or more parameter values were invalid: An number set  may not be empty ({name})")


def _index_view(table: _Table, index: _Index, item: Item) -> Item:
    projection = index.projection.get("ProjectionType", "ALL")
    if index is table.primary or projection == "ALL":
        return item
    kept = {table.primary.hash_key, table.primary.range_key, index.hash_key, index.range_key} - {None}
    if projection == "INCLUDE":
        kept |= set(index.projection.get("NonKeyAttributes", []))
    return {name: value for name, value in item.items() if name in kept}


def _split_key_condition(text: str, names, values, index: _Index) -> tuple[dict, Predicate]:
    """The hash key's value and the whole KeyConditionExpression as a predicate (PynamoDB wraps
    its parts in parentheses, so the parts are found by their tokens, not by splitting)."""
    context = _Context(names, values)
    tokens = _Tokens(text).items
    hash_value = None
    for at in range(len(tokens) - 2):
        (kind, attribute), (_, operator), (value_kind, value) = tokens[at:at + 3]
        if kind in ("name", "word") and operator == "=" and value_kind == "value" \
                and context.name(attribute) == index.hash_key:
            hash_value = context.value(value)
    if hash_value is None:
        raise _validation("Query condition missed key schema element: " + index.hash_key)
    return hash_value, compile_condition(text, names, values)


class _Paginator:
    def __init__(self, client: FakeDynamoDBClient, operation: str):
        self.client, self.operation = client, operation

    def paginate(self, **parameters):
        parameters = dict(parameters)
        config = parameters.pop("PaginationConfig", None) or {}
        if config.get("PageSize"):
            parameters["Limit"] = config["PageSize"]
        while True:
            page = self.client._make_api_call(self.operation, parameters)
            yield page
            if "LastEvaluatedKey" not in page:
                return
            parameters["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class _Waiter:
    def wait(self, **_) -> None:
        return None
