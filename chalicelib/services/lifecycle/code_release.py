"""Giving points (redemption codes) or wallet money (cashback codes) back for codes that expired unused."""
from __future__ import annotations

from datetime import datetime

from chalicelib.services.lifecycle.job_days import complete, days_to_scan
from chalicelib.services.retries import retry_on_conflict
from chalicelib.store.loyalty.repository import Change, LoyaltyRepository

JOB = "code_release"


def release_expired_codes(deps, shop_id: str, now: datetime, zone: str) -> int:
    repo = deps.repos.loyalty(shop_id)
    # Codes leave the index once released or used: days already done cost an empty Query.
    released, pending = 0, 0
    for code in repo.issued_codes_expiring_on(days_to_scan(deps, shop_id, JOB, now)):
        if code.is_releasable(now):
            if _release(repo, code.code, now, zone):
                released += 1
            else:
                pending += 1
    if not pending:
        complete(deps, shop_id, JOB, now)
    return released


def _release(repo: LoyaltyRepository, code_value: str, now: datetime, zone: str) -> bool:
    def attempt() -> bool:
        code = repo.load_code(code_value)
        if code is None or not code.is_releasable(now):
            return False
        account = repo.load_account(code.customer_id)
        if account is None:
            return False
        if code.kind == "cashback":
            account.return_cashback(code.value_minor, kind="cashback_release", cause=f"code-expired:{code.code}",
                                    now=now)
        else:
            account.release(code.portions, cause=f"code-expired:{code.code}", now=now, zone=zone)
        code.status = "released"
        repo.commit(Change(account=account, codes=[code]), now)
        return True

    # The order that uses the code, or another change, may get there first: look again; still
    # racing after five looks, the code stays pending for the next run.
    return retry_on_conflict(attempt, attempts=5, exhausted=lambda: False)
