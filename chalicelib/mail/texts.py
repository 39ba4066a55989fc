"""A shop's own words: which catalog texts an e-mail shows, and a shop's replacements of them.

The words of every e-mail live in ``templates/locales/<locale>.json`` (see ``catalog``). A
shop may replace any text one of its e-mails shows, per locale, without touching MJML:
``{"post_purchase.subject": "Danke, {order}!", "common.points": {"one": ..., "other": ...}}``.
A replacement is checked against the default it replaces: the same ``{placeholders}`` (an
unknown one would fail every send, a missing one drops a fact the e-mail promises), every
plural form the language needs (uk/ru: one, few, many, other), plain names only (``{order}``,
never ``{order.__class__}``: ``str.format`` would follow attributes).

A ``CatalogPatch`` is the checked replacements of one template in one locale; it is hashable
by content so compiled HTML and formatters are cached per patch like per template version.
"""
from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, Optional, Union

from chalicelib.mail.base import TEMPLATES, TEMPLATES_DIR
from chalicelib.mail.catalog import Entry, catalog, plural_forms

MAX_TEXT_CHARS = 2_000
MAX_TEXTS = 200
_KEY_USE = re.compile(r"""\bt\(\s*'([A-Za-z0-9_.]+)'""")
_MJ_INCLUDE = re.compile(r'<mj-include\s+path="(partials/[a-z0-9_-]+\.mjml)"\s*/>')
_JINJA_INCLUDE = re.compile(r"""\{%-?\s*(?:include|extends)\s+["'](text/_[a-z0-9_]+\.txt)["']""")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Texts the render helpers use whatever the template says: points(), the greeting.
_HELPER_KEYS = ("common.points", "common.hello", "common.hello_name")


class TextInvalid(ValueError):
    """A replacement text that cannot be used; ``key`` names it."""

    def __init__(self, key: str, reason: str):
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class CatalogPatch:
    """A shop's checked replacements for one template in one locale."""

    entries: Mapping[str, Entry] = field(default_factory=dict, hash=False, compare=False)
    digest: str = ""

    @classmethod
    def of(cls, entries: Mapping[str, Entry]) -> "CatalogPatch":
        frozen = dict(sorted(entries.items()))
        text = json.dumps(frozen, sort_keys=True, ensure_ascii=False)
        return cls(frozen, hashlib.sha256(text.encode()).hexdigest()[:16] if frozen else "")

    def __bool__(self) -> bool:
        return bool(self.entries)

    def applied_to(self, base: Mapping[str, Entry]) -> dict[str, Entry]:
        merged = dict(base)
        merged.update(self.entries)
        return merged


NO_PATCH = CatalogPatch.of({})


@lru_cache(maxsize=None)
def template_keys(template: str) -> tuple[str, ...]:
    """Every catalog key ``template``'s e-mail can show (HTML and text part, layout and
    partials included), its own keys first, then the shared ``common.*`` ones."""
    if template not in TEMPLATES:
        raise KeyError(template)
    found: set[str] = set(_HELPER_KEYS)
    seen: set[str] = set()

    def scan(path: str) -> None:
        if path in seen or not (TEMPLATES_DIR / path).is_file():
            return
        seen.add(path)
        text = (TEMPLATES_DIR / path).read_text(encoding="utf-8")
        found.update(_KEY_USE.findall(text))
        for include in _MJ_INCLUDE.findall(text) + _JINJA_INCLUDE.findall(text):
            scan(include)

    for path in (f"{template}.mjml", "layout.mjml", f"text/{template}.txt"):
        scan(path)
    reference = catalog("en")
    found.update(key for key in reference if key.startswith(f"{template}."))
    order = {key: index for index, key in enumerate(reference)}  # the catalog's own order: subject first
    known = [key for key in found if key in reference]
    return tuple(sorted(known, key=lambda key: (not key.startswith(f"{template}."), order[key])))


def placeholders(text: str) -> set[str]:
    """The ``{names}`` of a ``str.format`` text; raises ValueError on broken braces."""
    names = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not _PLAIN_NAME.match(name) or spec or conversion:
            raise ValueError(f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} "
                             "is not a placeholder: use a plain name like {points}")
        names.add(name)
    return names


def check_text(template: str, locale: str, key: str, value: object) -> Entry:
    """``value`` as a replacement of ``key`` in ``locale``, or TextInvalid naming what is wrong."""
    if key not in template_keys(template):
        raise TextInvalid(key, f"not a text of {template}")
    default = catalog(locale)[key]
    if isinstance(default, dict):
        needed = plural_forms(locale)
        if isinstance(value, str):
            value = {form: value for form in needed}
        if not isinstance(value, dict):
            raise TextInvalid(key, f"plural forms {sorted(needed)} as an object, or one text")
        unknown = set(value) - needed
        missing = needed - {form for form, text in value.items() if isinstance(text, str) and text.strip()}
        if unknown:
            raise TextInvalid(key, f"{locale} has no plural form {sorted(unknown)[0]!r} (it has {sorted(needed)})")
        if missing:
            raise TextInvalid(key, f"{locale} needs the plural form {sorted(missing)[0]!r} (one, few, many "
                                   f"are different words in some languages)")
        return {form: _checked_string(key, value[form], _names(default.get(form) or default["other"]), form)
                for form in sorted(needed)}
    return _checked_string(key, value, _names(default), None)


def _names(text: str) -> set[str]:
    return placeholders(text)


def _checked_string(key: str, value: object, expected: set[str], form: Optional[str]) -> str:
    where = f" ({form})" if form else ""
    if not isinstance(value, str) or not value.strip():
        raise TextInvalid(key, f"a text is required{where}; leave the key out to use the default")
    if len(value) > MAX_TEXT_CHARS:
        raise TextInvalid(key, f"over {MAX_TEXT_CHARS} characters{where}")
    if any(ord(c) < 32 and c not in "\n" for c in value):
        raise TextInvalid(key, f"control characters are not allowed{where}")
    try:
        found = placeholders(value)
    except ValueError as error:
        message = str(error)
        if "Single" in message or "unmatched" in message or "expected" in message:
            message = "a { or } is not closed: write {{ or }} for a brace shown as is"
        raise TextInvalid(key, f"{message}{where}") from None
    unknown = sorted(found - expected)
    if unknown:
        available = ", ".join(f"{{{name}}}" for name in sorted(expected)) or "none"
        raise TextInvalid(key, f"{{{unknown[0]}}} is not a placeholder of this text{where}; available: {available}")
    missing = sorted(expected - found)
    if missing:
        raise TextInvalid(key, f"{{{missing[0]}}} is missing{where}: the e-mail would lose it")
    return value


def patch_for(template: str, locale: str, entries: Union[Mapping[str, Entry], None]) -> CatalogPatch:
    """A stored set of replacements as a patch (keys the defaults dropped since are ignored)."""
    if not entries:
        return NO_PATCH
    keys = set(template_keys(template))
    return CatalogPatch.of({key: value for key, value in entries.items() if key in keys})


def texts_of(template: str, locale: str, patch: CatalogPatch = NO_PATCH) -> list[dict]:
    """What a texts form shows: each key with its default, the shop's text (or None),
    its placeholders and, for plural texts, the forms the language needs."""
    defaults = catalog(locale)
    rows = []
    for key in template_keys(template):
        default = defaults[key]
        plural = isinstance(default, dict)
        sample = default.get("other") if plural else default
        rows.append({"key": key, "default": default, "value": patch.entries.get(key),
                     "placeholders": sorted(placeholders(sample)),
                     "plural_forms": sorted(plural_forms(locale)) if plural else None,
                     "shared": not key.startswith(f"{template}.")})
    return rows
