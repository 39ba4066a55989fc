"""The stored timestamp format: fixed-width UTC, so string order is time order (the store's
keys, sort keys and the marketing cap's window all compare these strings)."""
from __future__ import annotations

from datetime import datetime, timezone

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(FORMAT)


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, FORMAT).replace(tzinfo=timezone.utc)
