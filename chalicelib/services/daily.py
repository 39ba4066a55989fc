"""Every scheduled job over every shop, at a given moment (the CLI's `jobs run daily`).

The schedules in app.py run the same functions hourly; each is idempotent, so
running this by hand, or twice, gives and sends nothing twice.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from chalicelib import bootstrap
from chalicelib.services import code_release, expiry, expiry_warnings, occasions, tier_risk
from chalicelib.services.shops import load_shop
from chalicelib.store.shops import ShopRepository


def run_daily(now: Optional[datetime] = None, shop_ids: Optional[Iterable[str]] = None) -> dict:
    bootstrap.ensure_store()
    now = now or bootstrap.now()
    ids = list(shop_ids) if shop_ids else [shop_id for shop_id, _ in ShopRepository().list_ids()]
    report = {}
    for shop_id in ids:
        shop = load_shop(shop_id)
        report[shop_id] = {
            "expired": vars(expiry.expire_points(shop_id, now)),
            "expiry_warnings": vars(expiry_warnings.send_expiry_warnings(shop, now)),
            "occasions": vars(occasions.run_occasions(shop, now)),
            "tier_risk": vars(tier_risk.send_tier_risk_warnings(shop, now)),
            "codes_released": code_release.release_expired_codes(shop_id, now),
        }
    return {"now": now.isoformat(), "shops": report}
