"""Shop platform webhooks: verify the signature, validate, map to domain events.

``parse_webhook`` is the only entry point the API layer needs; each platform
module turns its own payloads into ``chalicelib.domain.platform_events`` objects.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Mapping, Optional

from chalicelib.domain.platform_events import Delivery
from chalicelib.errors import NotFound

from . import generic, shopify, woocommerce
from .context import WebhookContext
from .headers import normalise_headers

__all__ = ["PLATFORMS", "WebhookContext", "parse_webhook"]

PLATFORMS = ("shopify", "woocommerce", "generic")

_Parser = Callable[[WebhookContext, Mapping[str, str], bytes, datetime, str], Delivery]
_PARSERS: dict[str, _Parser] = {
    "shopify": shopify.parse,
    "woocommerce": woocommerce.parse,
    "generic": generic.parse,
}


def parse_webhook(
    platform: str,
    ctx: WebhookContext,
    headers: Mapping[str, str],
    raw_body: Optional[bytes],
    now: datetime,
    content_type: str = "application/json",
) -> Delivery:
    """One delivery → ``Delivery``; raises Unauthorized (401) or BadRequest (400)."""
    parser = _PARSERS.get(platform)
    if parser is None:
        raise NotFound(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}", field="platform")
    return parser(ctx, normalise_headers(headers), bytes(raw_body or b""), now, content_type or "")
