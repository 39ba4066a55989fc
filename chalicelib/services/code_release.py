"""Giving points back for redemption codes that expired unused."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import bootstrap
from chalicelib.services.shops import load_shop
from chalicelib.store.repository import Change, ConcurrentChange, LoyaltyRepository
from chalicelib.store.shops import ShopRepository

# Codes leave the index once released, so looking back a week only re-reads the
# few codes a missed run left behind.
LOOKBACK_DAYS = 7


def release_expired_codes_everywhere() -> dict:
    bootstrap.ensure_store()
    now = bootstrap.now()
    released = {shop_id: release_expired_codes(shop_id, now) for shop_id, _ in ShopRepository().list_ids()}
    return {"released": released}


def release_expired_codes(shop_id: str, now: datetime) -> int:
    repo = LoyaltyRepository(shop_id)
    days = [(now - timedelta(days=back)).date().isoformat() for back in range(LOOKBACK_DAYS, -1, -1)]
    released = 0
    for code in repo.issued_codes_expiring_on(days):
        if code.is_releasable(now) and _release(repo, code.code, now):
            released += 1
    return released


def _release(repo: LoyaltyRepository, code_value: str, now: datetime) -> bool:
    for _ in range(5):
        code = repo.load_code(code_value)
        if code is None or not code.is_releasable(now):
            return False
        account = repo.load_account(code.customer_id)
        if account is None:
            return False
        account.release(code.portions, cause=f"code-expired:{code.code}", now=now)
        code.status = "released"
        try:
            repo.commit(Change(account=account, codes=[code]), now)
            return True
        except ConcurrentChange:
            continue  # the order that uses it, or another change, got there first: look again
    return False
