"""HTTP edges: JSON bodies in, service errors out as statuses with clear bodies."""
from __future__ import annotations

import functools
import json
import logging
from decimal import Decimal
from typing import Any, Callable, Optional
from urllib.parse import unquote

from chalice import Response

from chalicelib.errors import BadRequest, ServiceError
from chalicelib.logs import log_context
from chalicelib.platforms.body import refuse_oversized

logger = logging.getLogger("loyalty.api")
MAX_JSON_DEPTH = 64
# No shop id, code, address or other key a path names is this long, and a key past DynamoDB's limits
# (2,048 bytes partition, 1,024 sort) is a ValidationException even on a read. Signed tokens
# (``/u/{token}``, ``/r/{token}``) are verified before anything is read, and may be longer.
MAX_PATH_PARAMETER_BYTES = 512
_SIGNED_PARAMETERS = frozenset({"token"})


def json_route(view: Callable[..., Any]) -> Callable[..., Response]:
    """Run a view; a dict becomes 200 JSON, ``(status, dict)`` that status, and
    a ``ServiceError`` its status with ``{"error", "message", "field"}``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs) -> Response:
        shop_id = kwargs.get("shop_id")
        with log_context(shop=shop_id if isinstance(shop_id, str) else None):
            return _answer(view, args, kwargs)

    return wrapper


def _answer(view: Callable[..., Any], args, kwargs) -> Response:
    try:
        result = view(*args, **kwargs)
    except ServiceError as error:
        if error.status >= 500:
            logger.warning("request failed: %s", error.message)
        return Response(error.to_body(), status_code=error.status, headers={**_JSON, **error.headers})
    except Exception:  # the caller gets a plain 500; the details stay in the log
        logger.exception("unhandled error")
        return Response({"error": "internal_error", "message": "internal error"}, status_code=500, headers=_JSON)
    if isinstance(result, Response):
        return result
    status, body = result if isinstance(result, tuple) else (200, result)
    return Response(body, status_code=status, headers=_JSON)


_JSON = {"Content-Type": "application/json"}


def decode_path_parameters(params: Optional[dict]) -> Optional[Response]:
    """Percent-decode every path parameter once, in place; a 400 naming the parameter when one
    is not percent-encoded UTF-8, decodes to control characters or is longer than any key.

    API Gateway and ``chalice local`` hand path parameters over as the client sent them
    (chalice issue 511): ``bob%40example.com``. Decoding is ``unquote``, not ``unquote_plus``:
    in a path ``+`` is a plus sign (``bob+shop@``), only ``%2B`` is too. In place, because
    Chalice builds the view's arguments from this same dict after the middleware ran.
    """
    for name, value in list((params or {}).items()):
        if not isinstance(value, str):
            continue
        if "%" in value or not value.isprintable():
            try:
                decoded = unquote(value, encoding="utf-8", errors="strict")
            except UnicodeDecodeError:
                return _bad_path(name, "not percent-encoded UTF-8")
            if not decoded.isprintable():
                return _bad_path(name, "contains control characters")
            params[name] = value = decoded
        if name not in _SIGNED_PARAMETERS and len(value.encode("utf-8")) > MAX_PATH_PARAMETER_BYTES:
            return _bad_path(name, f"longer than {MAX_PATH_PARAMETER_BYTES} bytes")
    return None


def _bad_path(name: str, reason: str) -> Response:
    return Response(BadRequest(f"{name}: {reason}", field=name).to_body(), status_code=400, headers=_JSON)


def parse_json_object(raw_body: bytes | None) -> dict:
    """Strict JSON: at most the body limit, UTF-8, an object at the top, no duplicate keys,
    decimals kept exact."""
    if not raw_body:
        raise BadRequest("body: a JSON object is required", field="body")
    refuse_oversized(raw_body)
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("body: not UTF-8", field="body") from None
    try:
        value = json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicate_keys)
    except RecursionError:
        raise BadRequest("body: nested too deeply", field="body") from None
    except ValueError as error:
        raise BadRequest(f"body: not valid JSON ({error})", field="body") from None
    if not isinstance(value, dict):
        raise BadRequest("body: must be a JSON object", field="body")
    if _depth(value) > MAX_JSON_DEPTH:
        raise BadRequest("body: nested too deeply", field="body")
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _depth(value: Any, level: int = 1) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] or [level])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] or [level])
    return level
