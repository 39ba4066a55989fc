"""What every platform's shipment payload shares: carrier states in our words, tracking links
that are safe to put behind a button, bounded lists of parcel numbers."""
from __future__ import annotations

from typing import Annotated, Iterable, Optional
from urllib.parse import urlsplit

from pydantic import Field

from chalicelib.domain.platform_events import SHIPMENT_STATUSES

MAX_PARCELS = 50
TrackingText = Annotated[str, Field(max_length=255)]
TrackingUrlText = Annotated[str, Field(max_length=2048)]
TrackingList = Annotated[list[Optional[TrackingText]], Field(max_length=MAX_PARCELS)]
TrackingUrlList = Annotated[list[Optional[TrackingUrlText]], Field(max_length=MAX_PARCELS)]

# Spellings seen besides Shopify's own (carrier aggregators, WooCommerce plugins).
_STATUS_ALIASES = {"label_purchased": "label_printed", "picked_up": "in_transit", "carrier_picked_up": "in_transit",
                   "shipped": "in_transit", "available_for_pickup": "ready_for_pickup", "exception": "failure",
                   "failed_attempt": "attempted_delivery", "out_for_delivery": "out_for_delivery"}


def carrier_status(value: Optional[str], default: str = "in_transit") -> str:
    """A carrier state in our words; an unknown one is read as "in transit" (it left the shop)."""
    text = (value or "").strip().lower().replace("-", "_").replace(" ", "_")
    text = _STATUS_ALIASES.get(text, text)
    return text if text in SHIPMENT_STATUSES else default


def safe_links(urls: Iterable[Optional[str]]) -> tuple[str, ...]:
    """Only http(s) links with a host: a ``javascript:`` or relative URL from a payload never
    becomes a button in a customer's mail."""
    kept = []
    for url in urls:
        if not url or not url.strip():
            continue
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            continue
        if parts.scheme in ("http", "https") and parts.netloc:
            kept.append(url.strip())
    return tuple(kept)


def numbers(values: Iterable[Optional[str]]) -> tuple[str, ...]:
    seen: list[str] = []
    for value in values:
        if value and value.strip() and value.strip() not in seen:
            seen.append(value.strip())
    return tuple(seen)
