"""Strict decoding of a verified webhook body into a JSON object.

Stricter than ``json.loads``: duplicate keys are an error (two parsers could
otherwise disagree on which value counts), NaN/Infinity are refused, numbers
with a fraction become ``Decimal`` so money never passes through float, nesting
is capped, and every string must be encodable as UTF-8 (no lone surrogates).
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from chalicelib.errors import BadRequest, PayloadTooLarge

MAX_DEPTH = 64
# The largest body any route or webhook accepts (API Gateway's own limit is 10 MB).
MAX_BODY_BYTES = 1024 * 1024


def refuse_oversized(raw_body: bytes, limit: int = MAX_BODY_BYTES) -> None:
    """413 naming the body when it is over the limit: checked before anything reads it."""
    if len(raw_body) > limit:
        raise PayloadTooLarge(f"body: {len(raw_body)} bytes is over the {limit}-byte limit", field="body")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)  # in C; a key given twice leaves fewer entries than pairs
    if len(obj) != len(pairs):
        seen: set = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _invalid(reason: str) -> BadRequest:
    return BadRequest(f"body is not valid JSON: {reason}", field="body")


# The only way a decoded body can hold a lone surrogate: a \uD800–\uDFFF escape (the text itself
# was valid UTF-8). A false match (an escaped backslash before "ud800") only costs the full check.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _check_shape(value: Any, text: str) -> None:
    """Depth limit and UTF-8-encodable strings, checked without recursion. Strings are looked at
    only when the text has a surrogate escape; otherwise only the containers are walked."""
    if _SURROGATE_ESCAPE.search(text):
        _check_strings_and_depth(value)
        return
    level, depth = [value], 1  # the containers at one depth (json.loads makes only dicts and lists)
    while level:
        if depth > MAX_DEPTH:
            raise _invalid(f"nested deeper than {MAX_DEPTH} levels")
        deeper = []
        for node in level:
            for child in (node.values() if node.__class__ is dict else node):
                if child.__class__ is dict or child.__class__ is list:
                    deeper.append(child)
        level, depth = deeper, depth + 1


def _check_strings_and_depth(value: Any) -> None:
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise _invalid("string with an unpaired surrogate escape") from None
            continue
        if isinstance(node, dict):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise _invalid(f"nested deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in children)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, Decimal)):
        return "number"
    return "string" if isinstance(value, str) else "array"


# What ``json.loads(text, object_pairs_hook=..., parse_float=Decimal, parse_constant=...)`` makes on
# every call (a decoder and its C scanner), made once.
_STRICT_DECODER = json.JSONDecoder(object_pairs_hook=_object_without_duplicates, parse_float=Decimal,
                                   parse_constant=_refuse_constant)


def load_json_object(raw_body: bytes) -> dict:
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        if text.startswith("\ufeff"):  # (json.loads' own check, which the decoder alone does not make)
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        data = _STRICT_DECODER.decode(text)
    except _DuplicateKey as exc:
        shown = exc.key if len(exc.key) <= 80 else exc.key[:80] + "…"
        raise _invalid(f"duplicate key {shown!r}") from None
    except RecursionError:
        # The C scanner recurses per nesting level; far past MAX_DEPTH anyway.
        raise _invalid(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, NaN, over-long integers
        raise _invalid(str(exc)) from None
    if not isinstance(data, dict):
        raise _invalid(f"expected an object at the top level, got {_json_type(data)}")
    _check_shape(data, text)
    return data
