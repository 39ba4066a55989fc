"""Shop platform webhooks: verify the signature, validate, map to domain events.

``parse_webhook`` is the only entry point the API layer needs; each platform
module turns its own payloads into ``chalicelib.domain.platform_events`` objects.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Mapping, Optional

from chalicelib.domain.platform_events import Delivery
from chalicelib.errors import NotFound
from chalicelib.first_use import imported_on_first_use

from .context import WebhookContext
from .headers import normalise_headers

# The JSON body helpers (platforms.body) are imported by every HTTP route; the parsers, and the
# pydantic models under them, only by the webhooks.
with imported_on_first_use():
    from . import generic, shopify, woocommerce

__all__ = ["PLATFORMS", "WebhookContext", "parse_webhook"]

PLATFORMS = ("shopify", "woocommerce", "generic")

# Each module's ``parse(ctx, headers, body, now, content_type) -> Delivery``.
_PARSERS = {"shopify": shopify, "woocommerce": woocommerce, "generic": generic}


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
    return parser.parse(ctx, normalise_headers(headers), bytes(raw_body or b""), now, content_type or "")
