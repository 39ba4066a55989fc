"""Reading a shop's orders from its platform's API (for reconciliation).

* Shopify Admin REST API: ``GET /admin/api/2025-01/orders.json?status=any&updated_at_min=…
  &order=updated_at asc&limit=250`` with ``X-Shopify-Access-Token``; further pages through
  the ``Link: <…page_info=…>; rel="next"`` header (cursor pagination).
* WooCommerce REST API v3: ``GET /wp-json/wc/v3/orders?modified_after=…&dates_are_gmt=true
  &orderby=modified&order=asc&per_page=100&page=N`` with HTTP Basic consumer key and secret;
  ``X-WP-TotalPages`` says how many pages there are. A refund changes its order, so the
  order (with its ``refunds``) comes back in this list. The order lists a refund as its id,
  reason and total only; ``GET /wp-json/wc/v3/orders/{id}/refunds`` gives each refund's own
  ``line_items``, ``shipping_lines`` and ``fee_lines`` (what it paid back for).

Each yields the raw order objects (the same shapes as the webhook bodies) page by page.
urllib only: the Lambda carries no HTTP library of its own.
"""
from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Callable, Iterator, Optional

SHOPIFY_API_VERSION = "2025-01"
SHOPIFY_PAGE = 250
WOOCOMMERCE_PAGE = 100
TIMEOUT_SECONDS = 20
MAX_THROTTLE_WAITS = 5
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="?next"?')


class PlatformApiError(Exception):
    """The platform refused or failed; the message never contains credentials."""


Fetch = Callable[[urllib.request.Request], tuple[int, dict, bytes]]


def _fetch(request: urllib.request.Request, timeout: float = TIMEOUT_SECONDS) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in (error.headers or {}).items()}, error.read() or b""
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise PlatformApiError(f"cannot reach {request.full_url.split('?')[0]}: {getattr(error, 'reason', error)}") from None


MAX_WAIT_SECONDS = 30.0


def throttle_wait(response_headers: dict, attempt: int) -> float:
    """Seconds to wait before asking again after a 429/503: the server's ``Retry-After`` (delta
    seconds, or an HTTP date read against the same answer's ``Date``, so no clock of ours is
    involved), else an exponential backoff (1, 2, 4, 8, 16 s); never more than 30 s, never
    negative, and a value that is not a number or a date counts as absent."""
    backoff = min(2.0 ** attempt, MAX_WAIT_SECONDS)
    value = (response_headers.get("retry-after") or "").strip()
    if not value:
        return backoff
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            until, said_at = parsedate_to_datetime(value), parsedate_to_datetime(response_headers.get("date") or "")
            seconds = (until - said_at).total_seconds()
        except (TypeError, ValueError, IndexError):
            return backoff
    if seconds != seconds:  # NaN
        return backoff
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)


def _get_json(url: str, headers: dict, fetch: Fetch, sleep: Callable[[float], None]) -> tuple[object, dict]:
    for attempt in range(MAX_THROTTLE_WAITS + 1):
        status, response_headers, body = fetch(urllib.request.Request(url, headers={**headers, "Accept": "application/json"}))
        if status == 429 or status == 503:
            # Shopify's leaky bucket says when to come back; WooCommerce hosts sometimes do too.
            if attempt < MAX_THROTTLE_WAITS:
                sleep(throttle_wait(response_headers, attempt))
            continue
        if status in (401, 403):
            raise PlatformApiError(f"the platform refused the stored API credentials ({status})")
        if status >= 300:
            raise PlatformApiError(f"{url.split('?')[0]} answered {status}")
        try:
            return json.loads(body or b"null"), response_headers
        except json.JSONDecodeError:
            raise PlatformApiError(f"{url.split('?')[0]} answered with something that is not JSON") from None
    raise PlatformApiError("the platform kept throttling; the next run goes on from the checkpoint")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def shopify_orders(base_url: str, access_token: str, updated_since: datetime, *, fetch: Fetch = _fetch,
                   sleep: Callable[[float], None] = time.sleep) -> Iterator[list[dict]]:
    query = urllib.parse.urlencode({"status": "any", "updated_at_min": _iso(updated_since),
                                    "order": "updated_at asc", "limit": SHOPIFY_PAGE})
    url: Optional[str] = f"{base_url}/admin/api/{SHOPIFY_API_VERSION}/orders.json?{query}"
    headers = {"X-Shopify-Access-Token": access_token}
    while url:
        document, response_headers = _get_json(url, headers, fetch, sleep)
        orders = document.get("orders") if isinstance(document, dict) else None
        if not isinstance(orders, list):
            raise PlatformApiError("orders.json: no orders list in the answer")
        yield orders
        # With page_info the other filters must not be repeated: the next link carries all.
        match = _NEXT_LINK.search(response_headers.get("link", ""))
        url = match.group(1) if match else None


def woocommerce_orders(base_url: str, consumer_key: str, consumer_secret: str, modified_since: datetime, *,
                       fetch: Fetch = _fetch, sleep: Callable[[float], None] = time.sleep) -> Iterator[list[dict]]:
    token = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    page, pages = 1, 1
    while page <= pages:
        query = urllib.parse.urlencode({"modified_after": _iso(modified_since).rstrip("Z"), "dates_are_gmt": "true",
                                        "orderby": "modified", "order": "asc", "per_page": WOOCOMMERCE_PAGE,
                                        "page": page})
        document, response_headers = _get_json(f"{base_url}/wp-json/wc/v3/orders?{query}", headers, fetch, sleep)
        if not isinstance(document, list):
            raise PlatformApiError("wc/v3/orders: the answer is not a list of orders")
        yield document
        pages = int(response_headers.get("x-wp-totalpages", page) or page)
        page += 1


# Asked while a webhook waits for its answer: one short try, no waiting out a throttle.
REFUNDS_TIMEOUT_SECONDS = 5


def _quick_fetch(request: urllib.request.Request) -> tuple[int, dict, bytes]:
    return _fetch(request, timeout=REFUNDS_TIMEOUT_SECONDS)


def _no_wait(seconds: float) -> None:
    raise PlatformApiError("the platform is throttling; refund details are left for later")


def woocommerce_refunds(base_url: str, consumer_key: str, consumer_secret: str, order_id: str, *,
                        fetch: Fetch = _quick_fetch, sleep: Callable[[float], None] = _no_wait) -> list[dict]:
    """The order's refunds as the refunds endpoint describes them (one page of 100: no order is
    refunded a hundred times)."""
    token = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode()
    url = (f"{base_url}/wp-json/wc/v3/orders/{urllib.parse.quote(str(order_id), safe='')}/refunds?"
           + urllib.parse.urlencode({"per_page": WOOCOMMERCE_PAGE}))
    document, _ = _get_json(url, {"Authorization": f"Basic {token}"}, fetch, sleep)
    if not isinstance(document, list):
        raise PlatformApiError("wc/v3/orders/{id}/refunds: the answer is not a list of refunds")
    return [refund for refund in document if isinstance(refund, dict)]
