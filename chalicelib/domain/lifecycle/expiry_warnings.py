"""Which lots an expiry warning covers.

A warning goes out ``days_before`` a lot's last day, the day the e-mail names and the ledger
honours to its end, both on the shop's clock (domain/loyalty/lapse.py). Lots whose last days are
within a few days of each other are named in one e-mail, and each lot remembers the
warnings it was named in, so a customer never gets the same warning twice.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

from chalicelib.domain.loyalty.account import Lot
from chalicelib.domain.loyalty.lapse import Zone, last_day

MERGE_DAYS = 7  # lots expiring within a week of the first one share its warning


def lots_to_warn(lots: Iterable[Lot], days_before: int, first_day: date, zone: Zone) -> list[Lot]:
    """Unwarned lots whose last day (in ``zone``, the shop's) is from ``first_day`` up to
    MERGE_DAYS later, if one of them ends on ``first_day`` itself (otherwise its own day will come)."""
    window_end = first_day + timedelta(days=MERGE_DAYS)
    candidates = [lot for lot in lots
                  if lot.points > 0 and days_before not in lot.warned
                  and first_day <= last_day(lot.expires_at, zone) < window_end]
    if not any(last_day(lot.expires_at, zone) == first_day for lot in candidates):
        return []
    return sorted(candidates, key=lambda lot: (lot.expires_at, lot.lot_id))


def warning_message(shop_id: str, customer_id: str, lots: list[Lot], days_before: int, created_at: str,
                    zone: Zone) -> dict:
    first = lots[0]
    return {
        "idempotency_key": f"points_expiring:{customer_id}:{days_before}:{last_day(first.expires_at, zone).isoformat()}",
        "shop_id": shop_id,
        "customer_id": customer_id,
        "template": "points_expiring",
        "category": "marketing",
        "campaign_id": None,
        "created_at": created_at,
        "data": {"points": sum(lot.points for lot in lots), "expires_at": first.expires_at.isoformat()},
    }
