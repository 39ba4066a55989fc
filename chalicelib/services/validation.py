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


def refuse_unknown_fields(body: dict, known: tuple[str, ...], what: str = "this request") -> None:
    """A misspelt field is refused with its name, not ignored (``pointz`` would otherwise
    silently mean "no points")."""
    unknown = sorted(str(name) for name in body if name not in known)
    if unknown:
        raise BadRequest(f"{unknown[0]}: not a field of {what} ({', '.join(known)})", field=unknown[0])
