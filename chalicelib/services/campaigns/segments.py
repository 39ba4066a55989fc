"""Segments: validate a rule document, preview who is in it, walk its members page by page.

Customers are read from the shop's customer directory (index ``by_shop``, one
Query partition per shard, items projected whole), never by Scan: the reads are
sized by the shop's customers, not by the table. See docs/segments.md.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator, Optional

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.campaigns.segments import Segment, SegmentInvalid, matches, parse_segment
from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import BadRequest
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store import keys

SAMPLE_SIZE = 10
PREVIEW_PAGE_SIZE = 500


def validate_segment(document: Any) -> Segment:
    """The segment of a ``{"rules": {...}}`` document; ``BadRequest`` naming the field (``rules.all.1.op``)."""
    if not isinstance(document, (dict, Segment)):
        raise BadRequest("body: must be a JSON object", field="body")
    try:
        return parse_segment(document)
    except SegmentInvalid as error:
        raise BadRequest(str(error), field=error.path) from None


def preview_segment(deps, shop_id: str, document: dict) -> dict:
    """How many of the shop's customers the segment holds now, and up to 10 of them.

    Reads the shop's whole directory (every shard); ``customers_read`` says how many."""
    shop = load_shop(deps, shop_id)
    segment = validate_segment(document)
    now = _now(deps)
    repo = deps.repos.loyalty(shop.shop_id)
    count = read = 0
    sample: list[dict] = []
    for shard in range(keys.CUSTOMER_SHARDS):
        cursor: Optional[str] = None
        while True:
            accounts, cursor = repo.customer_page(shard, cursor, PREVIEW_PAGE_SIZE)
            read += len(accounts)
            for account in accounts:
                if _in_segment(segment, account, shop, now):
                    count += 1
                    if len(sample) < SAMPLE_SIZE:
                        sample.append(_sample_row(account))
            if cursor is None:
                break
    return {"count": count, "sample": sample, "customers_read": read}


def iter_segment(deps, shop: Shop, segment: Segment | dict, now: datetime, shard: int = 0, cursor: Optional[str] = None,
                 page_size: int = 100) -> Iterator[tuple[Account, int, Optional[str]]]:
    """The segment's members from position ``(shard, cursor)`` on (default: the start).

    Yields ``(account, shard, cursor)`` where ``(shard, cursor)`` is the position right
    after the page the account came from: a sender that has handled every account
    yielded so far resumes there (``iter_segment(..., shard=s, cursor=c)``) and reads
    no page twice. When a shard's last page is done the position is ``(shard + 1, None)``;
    ``(keys.CUSTOMER_SHARDS, None)`` is the end. Pages without a member yield nothing,
    so a resumed run may read those again (harmless: reading decides nothing).
    Accounts come from the index (lots None): reload one before changing it."""
    segment = validate_segment(segment)
    if not 0 <= shard <= keys.CUSTOMER_SHARDS:
        raise BadRequest(f"shard: must be 0..{keys.CUSTOMER_SHARDS}", field="shard")
    repo = deps.repos.loyalty(shop.shop_id)
    while shard < keys.CUSTOMER_SHARDS:
        try:
            accounts, next_cursor = repo.customer_page(shard, cursor, page_size)
        except ValueError as error:
            raise BadRequest(f"cursor: {error}", field="cursor") from None
        after = (shard, next_cursor) if next_cursor else (shard + 1, None)
        for account in accounts:
            if _in_segment(segment, account, shop, now):
                yield account, after[0], after[1]
        shard, cursor = after


def _in_segment(segment: Segment, account: Account, shop: Shop, now: datetime) -> bool:
    return matches(segment, account, now.astimezone(timezone.utc).date(), shop.currency_exponent,
                   tiers=shop.program.tiers)


def _sample_row(account: Account) -> dict:
    return {"customer_id": account.customer_id, "email": account.email, "first_name": account.first_name,
            "tier": account.tier_name, "points_balance": account.points_balance}


def _now(deps) -> datetime:
    return deps.clock()
