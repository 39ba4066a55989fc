"""Manual point adjustments by the shop, from the workspace's customer lookup.

An adjustment is an ``adjust`` ledger entry (and a lot, when positive) committed like
every other balance change: one conditional transaction, retried on a concurrent
change. Its detail records who made it (the admin token or the key's label) and why,
so the customer's history shows both. The workspace sends a ``request_id`` per click:
its event record makes a repeated request a no-op.
"""
from __future__ import annotations

import re

from chalicelib.domain.loyalty.account import add_months
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.loyalty.repository import Change
from chalicelib.services.retries import retry_on_conflict
from chalicelib.services.validation import refuse_unknown_fields

MAX_ADJUST_POINTS = 1_000_000
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def adjust_points(deps, shop_id: str, email: str, body: dict, adjusted_by: str) -> dict:
    shop = load_shop(deps, shop_id)
    refuse_unknown_fields(body, ("points", "reason", "request_id"), "an adjustment")
    points, reason, request_id = body.get("points"), body.get("reason"), body.get("request_id")
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_ADJUST_POINTS:
        raise BadRequest(f"points: a whole number of points, not 0, at most {MAX_ADJUST_POINTS:,} either way",
                         field="points")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise BadRequest("reason: why the points change (shown in the customer's history), up to 500 characters",
                         field="reason")
    if not isinstance(request_id, str) or not _REQUEST_ID.match(request_id):
        raise BadRequest("request_id: 8-64 letters, digits, '-' or '_', new for each adjustment",
                         field="request_id")
    repo = deps.repos.loyalty(shop_id)
    event_id = f"adjust:{request_id}"
    customer_id = shop.customer_id_for(email)

    def decide() -> dict:
        if repo.event_seen(event_id):
            return {"result": "duplicate", "request_id": request_id}
        account = repo.load_account(customer_id)
        if account is None or account.redacted:
            raise NotFound("no loyalty account for this e-mail in this shop", field="email")
        if points < 0 and -points > max(account.points_balance, 0):
            raise Conflict(f"points: the balance is {account.points_balance}; an adjustment cannot take more",
                           field="points", points_balance=account.points_balance)
        now = deps.clock()
        account.adjust(points, cause=f"adjust:{request_id}", now=now, reason=reason.strip(),
                       expires_at=add_months(now, shop.program.points_validity_months))
        account.new_entries[-1].detail["by"] = adjusted_by
        repo.commit(Change(account=account, event_id=event_id, event_topic="admin/adjustment",
                           keep_event=True), now)
        return {"result": "applied", "points": points, "points_balance": account.points_balance,
                "reason": reason.strip(), "by": adjusted_by}

    return retry_on_conflict(decide)
