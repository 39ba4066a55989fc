"""Per-locale message catalogs: ``templates/locales/{locale}.json``.

Each catalog is nested by template (``common`` holds what several mails share). A value
is either a string with ``{placeholders}`` (``str.format`` syntax) or, where a number
appears, an object of CLDR plural forms chosen by Babel's plural rule of the locale:
``{"one": "{count} point", "other": "{count} points"}`` in English and German,
``one``/``few``/``many``/``other`` in Ukrainian and Russian (``other`` is for fractions).
The texts are plain text: the HTML render escapes them, the text render leaves them be.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Union

from babel import Locale

from chalicelib.mail.base import LOCALES, TEMPLATES_DIR

Entry = Union[str, dict]


@lru_cache(maxsize=None)
def catalog(locale: str) -> dict[str, Entry]:
    """The flattened catalog of a locale: ``{"post_purchase.subject": ..., ...}``."""
    path = TEMPLATES_DIR / "locales" / f"{locale}.json"
    with path.open(encoding="utf-8") as handle:
        nested = json.load(handle)
    flat: dict[str, Entry] = {}
    _flatten(nested, "", flat)
    return flat


def _flatten(node: dict, prefix: str, out: dict) -> None:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_plural(value):
            _flatten(value, name + ".", out)
        else:
            out[name] = value


def _is_plural(value: dict) -> bool:
    return bool(value) and set(value) <= {"zero", "one", "two", "few", "many", "other"} and \
        all(isinstance(v, str) for v in value.values())


def plural_forms(locale: str) -> frozenset[str]:
    """The plural categories a catalog of this locale must give (``other`` always)."""
    return frozenset(Locale.parse(locale).plural_form.tags) | {"other"}


def check_catalogs() -> list[str]:
    """Problems across the catalogs: missing keys, missing plural forms. Empty when fine."""
    problems = []
    reference = catalog("en")
    for locale in LOCALES:
        entries = catalog(locale)
        needed = plural_forms(locale)
        for key in sorted(set(reference) - set(entries)):
            problems.append(f"{locale}: missing {key}")
        for key in sorted(set(entries) - set(reference)):
            problems.append(f"{locale}: {key} is not in en")
        for key, value in entries.items():
            if isinstance(value, dict):
                missing = needed - set(value)
                if missing:
                    problems.append(f"{locale}: {key} lacks plural forms {sorted(missing)}")
            elif isinstance(reference.get(key), dict):
                problems.append(f"{locale}: {key} must be plural-aware like en")
        if _dates_end_in_a_full_stop(locale):
            for key, value in entries.items():
                for text in (value.values() if isinstance(value, dict) else (value,)):
                    if "{date}." in text or "{dates}." in text:
                        problems.append(f"{locale}: {key} puts a full stop after a date that ends in one")
    return problems


def _dates_end_in_a_full_stop(locale: str) -> bool:
    """Whether the locale's long dates end in "." ("9 червня 2026 р.", "9 июня 2026 г."): a
    sentence ending in such a date then read "р.." in the sent mail."""
    from datetime import date

    from babel.dates import format_date

    return format_date(date(2026, 6, 9), "long", locale=locale).endswith(".")
