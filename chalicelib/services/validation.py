"""Turning pydantic's errors into one clear message naming the field."""
from __future__ import annotations

from pydantic import ValidationError

from chalicelib.errors import BadRequest


def bad_request_from(error: ValidationError, prefix: str = "") -> BadRequest:
    first = error.errors()[0]
    path = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    reason = _plain(first)
    if first["type"] == "extra_forbidden":
        reason = "unknown field"
    if first["type"] == "missing":
        reason = "required"
    return BadRequest(f"{path or 'body'}: {reason}", field=path or "body")


# pydantic's wording for the commonest slips, as a person would say them ("Input should be a valid
# decimal" → "should be a number, such as 0.05").
_PLAIN = {"decimal_parsing": "should be a number, such as 0.05", "decimal_type": "should be a number, such as 0.05",
          "int_parsing": "should be a whole number", "int_from_float": "should be a whole number",
          "bool_parsing": "should be true or false", "string_type": "should be text",
          "datetime_parsing": "should be a date and time, such as 2031-03-14T10:00",
          "datetime_from_date_parsing": "should be a date and time, such as 2031-03-14T10:00",
          "date_parsing": "should be a date, such as 2031-03-14", "date_from_datetime_parsing": "should be a date, such as 2031-03-14"}


def _plain(error: dict) -> str:
    if error["type"] in _PLAIN:
        return _PLAIN[error["type"]]
    return error["msg"].removeprefix("Value error, ").replace("Input should be", "should be")


def refuse_unknown_fields(body: dict, known: tuple[str, ...], what: str = "this request") -> None:
    """A misspelt field is refused with its name, not ignored (``pointz`` would otherwise
    silently mean "no points")."""
    unknown = sorted(str(name) for name in body if name not in known)
    if unknown:
        raise BadRequest(f"{unknown[0]}: not a field of {what} ({', '.join(known)})", field=unknown[0])
