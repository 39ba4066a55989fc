"""Which lots an expiry warning covers.

A warning goes out ``days_before`` a lot expires. Lots that expire within a
few days of each other are named in one e-mail, and each lot remembers the
warnings it was named in, so a customer never gets the same warning twice.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

from chalicelib.domain.loyalty.account import Lot

MERGE_DAYS = 7  # lots expiring within a week of the first one share its warning


def lots_to_warn(lots: Iterable[Lot], days_before: int, first_day: date) -> list[Lot]:
    """Unwarned lots expiring from ``first_day`` up to MERGE_DAYS later, if one
    of them expires on ``first_day`` itself (otherwise its own day will come)."""
    window_end = first_day + timedelta(days=MERGE_DAYS)
    candidates = [lot for lot in lots
                  if lot.points > 0 and days_before not in lot.warned
                  and first_day <= lot.expires_at.date() < window_end]
    if not any(lot.expires_at.date() == first_day for lot in candidates):
        return []
    return sorted(candidates, key=lambda lot: (lot.expires_at, lot.lot_id))


def warning_message(shop_id: str, customer_id: str, lots: list[Lot], days_before: int, created_at: str) -> dict:
    first = lots[0]
    return {
        "idempotency_key": f"points_expiring:{customer_id}:{days_before}:{first.expires_at.date().isoformat()}",
        "shop_id": shop_id,
        "customer_id": customer_id,
        "template": "points_expiring",
        "category": "marketing",
        "campaign_id": None,
        "created_at": created_at,
        "data": {"points": sum(lot.points for lot in lots), "expires_at": first.expires_at.isoformat()},
    }
