"""Where a tracked link may lead, where a reward lands, and which click an order owes to.

Pure rules, no I/O, no clock: the click service and the ledger call them.

A tracked link's destination must be on one of the shop's own hosts (its storefront
and the extra ``link_domains`` it names), over http(s), with no credentials in it.
Everything else is refused: another host, ``//evil.example`` (scheme-relative),
``javascript:`` and friends, encoded or with control characters, backslashes that
browsers read as slashes, and hosts that only end like the shop's
(``shop.example.evil.com``) or only start like it (``evilshop.example``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Optional
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

_MAX_URL_LENGTH = 2000
# a control character, a space or a backslash anywhere: one scan in C (every link of every e-mail passes here)
_UNSAFE_CHARACTER = re.compile(r"[\x00-\x20\x7f\\]")


def host_of(url: str) -> Optional[str]:
    try:
        return (urlsplit(url).hostname or "").lower() or None
    except ValueError:
        return None


def shop_hosts(storefront_url: str, link_domains: Iterable[str] = ()) -> frozenset[str]:
    """The hosts a shop's links may lead to: the storefront's and each named domain
    (a domain covers itself and its subdomains, e.g. ``shop.example`` covers
    ``www.shop.example``)."""
    hosts = {host_of(storefront_url) or ""}
    hosts.update(domain.strip().lower().rstrip(".") for domain in link_domains)
    return frozenset(h for h in hosts if h)


def on_shop_host(host: str, hosts: Iterable[str]) -> bool:
    return any(host == allowed or host.endswith("." + allowed) for allowed in hosts)


def safe_destination(url: object, hosts: Iterable[str]) -> Optional[str]:
    """The URL when a link may lead there, else None (see the module docstring)."""
    if not isinstance(url, str) or not url or len(url) > _MAX_URL_LENGTH:
        return None
    if url != url.strip() or _UNSAFE_CHARACTER.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.username or parts.password:
        return None
    host = (parts.hostname or "").lower()
    if not host or not on_shop_host(host, hosts):
        return None
    if parts.scheme == "http" and host not in ("localhost", "127.0.0.1") and port not in (None, 80):
        return None
    return url


def with_code(platform: str, destination: str, code: str) -> Optional[str]:
    """Where a link carrying ``code`` lands so the code is applied, or None when the
    platform cannot apply it from a URL (the customer then sees a page with the code).

    - Shopify applies a discount from ``/discount/{code}?redirect={path}`` (its
      shareable discount links) and then shows the page the link pointed to.
    - WooCommerce has no such URL of its own; the shop adds the documented snippet
      (docs/links.md) that applies ``?coupon_code=`` to the cart.
    """
    parts = urlsplit(destination)
    if platform == "shopify":
        path = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
        return urlunsplit((parts.scheme, parts.netloc, f"/discount/{quote(code, safe='')}",
                           urlencode({"redirect": path}), ""))
    if platform == "woocommerce":
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "coupon_code"]
        query.append(("coupon_code", code))
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), parts.fragment))
    return None


@dataclass(frozen=True)
class Click:
    """The customer's latest click on a tracked link."""

    subject: str  # campaign:{id} or flow:{template}
    send_key: str
    clicked_at: datetime


def attributed_click(click: Optional[Click], paid_at: datetime, window_days: int) -> Optional[Click]:
    """The click a paid order is attributed to: the latest click, if it came before
    the payment and no more than ``window_days`` before it (the edge included)."""
    if click is None or window_days <= 0:
        return None
    if click.clicked_at <= paid_at <= click.clicked_at + timedelta(days=window_days):
        return click
    return None


def campaign_subject(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


def flow_subject(template: str) -> str:
    return f"flow:{template}"


def subject_of(campaign_id: Optional[str], template: str) -> str:
    """What a message's results count towards: its campaign, or its flow (template)."""
    return campaign_subject(campaign_id) if campaign_id else flow_subject(template)


def with_utm(url: str, source: str, medium: str, campaign: str) -> str:
    """``url`` with the campaign tags (utm_source, utm_medium, utm_campaign) the shop's analytics reads;
    tags the link already has (the marketer's own) are kept, the fragment stays last."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    for name, value in (("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)):
        if name not in present and value:
            query.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
