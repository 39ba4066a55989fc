"""A template error in plain words, for the person editing the template.

The TemplateError keeps the exact message (logs, the API's ``error``); this says what a
marketer can act on: "a ``{{`` on line 2 is not closed", "``customer.loyalty_nickname`` is not
a field; available: first_name, locale". ``context`` is the render's context (what a name
could be); ``source`` is the edited MJML (to find the unclosed tag and the full dotted name).
"""
from __future__ import annotations

import re
from typing import Optional

from chalicelib.mail.compiler import jinja_tags

_NO_ATTRIBUTE = re.compile(r"has no attribute '([A-Za-z_][A-Za-z0-9_]*)'")
_UNDEFINED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")
_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
MAX_LISTED = 20


def unclosed_tag(source: str) -> Optional[tuple[str, int]]:
    """The first ``{{``, ``{%`` or ``{#`` of ``source`` with no closer, and its line."""
    closed = set()
    for start, end in jinja_tags(source):
        closed.update(range(start, end))
    for match in re.finditer(r"\{[{%#]", source):
        if match.start() not in closed:
            return match.group(0), source.count("\n", 0, match.start()) + 1
    return None


def in_plain_words(message: str, line: Optional[int], source: Optional[str], context: Optional[dict]) -> Optional[str]:
    """The error said for a person, or None when there is nothing plainer to say."""
    if source and ("Jinja" in message or "unexpected" in message):
        found = unclosed_tag(source)
        if found:
            opener, at = found
            return f"a `{opener}` on line {at} is not closed: end it with `{_CLOSERS[opener]}`"
    match = _NO_ATTRIBUTE.search(message)
    if match and context is not None:
        attribute = match.group(1)
        path = _dotted_before(source, line, attribute)
        value = _resolve(context, path) if path else None
        name = f"{'.'.join(path)}.{attribute}" if path else attribute
        if isinstance(value, dict):
            return f"`{name}` is not a field; available: {_listed(value)}"
        return f"`{name}` is not a field"
    match = _UNDEFINED.search(message)
    if match and context is not None:
        return f"`{match.group(1)}` is not a field; available: {_listed(context)}"
    return None


def _dotted_before(source: Optional[str], line: Optional[int], attribute: str) -> Optional[list[str]]:
    if not source:
        return None
    lines = source.splitlines()
    candidates = [lines[line - 1]] if line and 0 < line <= len(lines) else []
    candidates += lines
    pattern = re.compile(rf"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\.{re.escape(attribute)}\b")
    for text in candidates:
        found = pattern.search(text)
        if found:
            return found.group(1).split(".")
    return None


def _resolve(context: dict, path: list[str]):
    value = context
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _listed(mapping: dict) -> str:
    names = sorted(name for name in mapping if not callable(mapping[name]) and not name.startswith("_"))
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")
