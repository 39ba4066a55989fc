"""Which clock a customer lives by: the IANA time zone of a country and subdivision.

The tz database (the ``tzdata`` package, which ``zoneinfo`` reads too) lists every country's zones in
``zone.tab``. A country with one zone (or one time: see
``subdivisions.py``) is exact from the country alone; a country with several takes the zone of the
subdivision (``subdivisions.SUBDIVISION_ZONES``); without a known subdivision, the shop's own zone
when it lies in that country (a Californian shop's customer in an unnamed state is most likely
nearby), else the country's principal zone (``subdivisions.PRINCIPAL_ZONES``: where most people live). No country: the shop's zone.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.places.subdivisions import EXCEPTIONS_ONLY, PRINCIPAL_ZONES, SUBDIVISION_ZONES

def _read_tab(name: str) -> list[list[str]]:
    try:
        text = resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # no tzdata package: the system's copy
        with open(f"/usr/share/zoneinfo/{name}", encoding="utf-8") as handle:
            text = handle.read()
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def country_zones() -> dict[str, tuple[str, ...]]:
    """ISO 3166-1 alpha-2 → its zones (in zone.tab's order, which is not by population)."""
    zones: dict[str, list[str]] = {}
    for row in _read_tab("zone.tab"):
        zones.setdefault(row[0], []).append(row[2])
    return {country: tuple(names) for country, names in zones.items()}


def _folded(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain.lower())


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    return {_folded(row[1]): row[0] for row in _read_tab("iso3166.tab") if len(row) > 1}


def country_code(text: Optional[str]) -> Optional[str]:
    """An ISO alpha-2 code from what a platform sends: "us", "US", "United States"; None if unknown."""
    if not text or not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) == 2 and text.upper() in country_zones():
        return text.upper()
    return _country_names().get(_folded(text)) if len(text) <= 80 else None


def subdivision_code(country: str, text: Optional[str]) -> Optional[str]:
    """The subdivision part of "CA", "US-CA", "us-ca", "Q ROO"; None when empty."""
    if not text or not isinstance(text, str):
        return None
    code = text.strip().upper()[:16]
    if code.startswith(f"{country}-"):
        code = code[len(country) + 1:]
    return code or None


def zone_for(country: Optional[str], province: Optional[str], shop_zone: str) -> str:
    """The IANA zone of a customer at this country and province (codes or names, as sent)."""
    code = country_code(country)
    zones = country_zones().get(code or "", ())
    if not zones:
        return shop_zone
    if len(zones) == 1:
        return zones[0]
    subdivision = subdivision_code(code, province)
    named = SUBDIVISION_ZONES.get(code, {}).get(subdivision or "")
    if named:
        return named
    principal = PRINCIPAL_ZONES.get(code, zones[0])
    if subdivision and code in EXCEPTIONS_ONLY:  # a region the table does not list keeps the main time
        return principal
    return shop_zone if shop_zone in zones else principal


def zone_of(name: Optional[str], fallback: str) -> ZoneInfo:
    """The zone stored for a customer, or the shop's when none is stored (or it is no longer known)."""
    if name and is_zone(name):
        return ZoneInfo(name)
    return ZoneInfo(fallback)


def is_zone(name: object) -> bool:
    if not isinstance(name, str) or not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
