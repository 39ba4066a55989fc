"""Request headers as the parsers read them: lower-case names, trimmed values."""
from __future__ import annotations

from typing import Mapping, Optional

from chalicelib.errors import BadRequest


def normalise_headers(headers: Optional[Mapping[str, str]]) -> dict[str, str]:
    return {str(name).lower(): str(value).strip() for name, value in (headers or {}).items() if value is not None}


def required_header(headers: Mapping[str, str], name: str) -> str:
    """``name`` as the platform spells it; looked up lower-cased."""
    value = headers.get(name.lower())
    if not value:
        raise BadRequest(f"missing {name} header", field=f"headers.{name}")
    return value
