"""Turning pydantic's errors into one clear message naming the field."""
from __future__ import annotations

from pydantic import ValidationError

from chalicelib.errors import BadRequest


def bad_request_from(error: ValidationError, prefix: str = "") -> BadRequest:
    first = error.errors()[0]
    path = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    reason = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        reason = "unknown field"
    if first["type"] == "missing":
        reason = "required"
    return BadRequest(f"{path or 'body'}: {reason}", field=path or "body")
