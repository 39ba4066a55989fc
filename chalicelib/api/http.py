"""HTTP edges: JSON bodies in, service errors out as statuses with clear bodies."""
from __future__ import annotations

import functools
import json
import logging
from decimal import Decimal
from typing import Any, Callable

from chalice import Response

from chalicelib import bootstrap
from chalicelib.errors import BadRequest, PayloadTooLarge, ServiceError

logger = logging.getLogger("loyalty.api")
MAX_JSON_DEPTH = 64


def json_route(view: Callable[..., Any]) -> Callable[..., Response]:
    """Run a view; a dict becomes 200 JSON, ``(status, dict)`` that status, and
    a ``ServiceError`` its status with ``{"error", "message", "field"}``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs) -> Response:
        try:
            result = view(*args, **kwargs)
        except ServiceError as error:
            if error.status >= 500:
                logger.warning("request failed: %s", error.message)
            headers = _JSON
            if getattr(error, "retry_after", None):
                headers = {**_JSON, "Retry-After": str(error.retry_after)}
            return Response(error.to_body(), status_code=error.status, headers=headers)
        except Exception:  # the caller gets a plain 500; the details stay in the log
            logger.exception("unhandled error")
            return Response({"error": "internal_error", "message": "internal error"}, status_code=500, headers=_JSON)
        if isinstance(result, Response):
            return result
        status, body = result if isinstance(result, tuple) else (200, result)
        return Response(body, status_code=status, headers=_JSON)

    return wrapper


_JSON = {"Content-Type": "application/json"}


def parse_json_object(raw_body: bytes | None) -> dict:
    """Strict JSON: at most the body limit, UTF-8, an object at the top, no duplicate keys,
    decimals kept exact."""
    if not raw_body:
        raise BadRequest("body: a JSON object is required", field="body")
    limit = bootstrap.settings().max_body_bytes
    if len(raw_body) > limit:
        raise PayloadTooLarge(f"body: {len(raw_body)} bytes is over the {limit}-byte limit", field="body")
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
