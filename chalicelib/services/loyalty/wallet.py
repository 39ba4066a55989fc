"""The cashback wallet: spent as a ``CASH-`` code, or withdrawn.

A withdrawal request takes the money out of the wallet at once (a hold: two
requests at the same time cannot overdraw it) and waits as *pending* until the
shop confirms it (paid out: a ledger note, nothing moves) or rejects it (the money
goes back). Each step is a ledger entry committed with the withdrawal record.
"""
from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Optional

from chalicelib.domain.loyalty.account import Account, InsufficientPoints
from chalicelib.domain.loyalty.codes import CASHBACK, CASHBACK_PREFIX, RewardCode, new_code
from chalicelib.domain.loyalty.lapse import day_end
from chalicelib.domain.money import format_minor, to_minor
from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.store import keys
from chalicelib.store.loyalty import program_store
from chalicelib.store.loyalty.program_store import Withdrawal
from chalicelib.store.loyalty.repository import Change
from chalicelib.services.retries import retry_on_conflict
from chalicelib.services.validation import refuse_unknown_fields

PENDING, CONFIRMED, REJECTED = "pending", "confirmed", "rejected"
STATUSES = (PENDING, CONFIRMED, REJECTED)
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,4})?$")


def _amount_minor(shop: Shop, body: dict) -> int:
    refuse_unknown_fields(body, ("amount",), "a wallet request")
    amount = body.get("amount")
    if not isinstance(amount, str) or not _AMOUNT.match(amount.strip()):
        raise BadRequest('amount: a positive decimal amount as a string, like "12.50"', field="amount")
    minor = to_minor(amount.strip(), shop.currency_exponent)
    if minor <= 0 or to_minor(amount.strip(), shop.currency_exponent + 4) % 10 ** 4:
        raise BadRequest(f"amount: must be positive, with at most {shop.currency_exponent} decimals", field="amount")
    return minor


def _account(deps, shop: Shop, email: str) -> Account:
    account = deps.repos.loyalty(shop.shop_id).load_profile(shop.customer_id_for(email))
    if account is None or account.redacted:
        raise NotFound("no loyalty account for this e-mail in this shop", field="email")
    return account


def _debit(account: Account, minor: int, kind: str, cause: str, now, detail: dict) -> None:
    try:
        account.debit_cashback(minor, kind=kind, cause=cause, now=now, detail=detail)
    except InsufficientPoints as refusal:
        raise Conflict(f"amount: {refusal.reason}", field="amount", cashback_minor=account.cashback_minor) from None


def request_withdrawal(deps, shop: Shop, email: str, body: dict) -> dict:
    """``POST /shops/{shop}/customers/{email}/withdrawals {"amount": "12.50"}``."""
    minor = _amount_minor(shop, body)

    def decide() -> dict:
        account = _account(deps, shop, email)
        now = deps.clock()
        withdrawal = Withdrawal(secrets.token_hex(8), account.customer_id, account.email, minor, PENDING, now)
        _debit(account, minor, "withdrawal", f"withdrawal:{withdrawal.withdrawal_id}", now,
               {"withdrawal_id": withdrawal.withdrawal_id})
        deps.repos.loyalty(shop.shop_id).commit(
            Change(account=account, items=[program_store.withdrawal_write(shop.shop_id, withdrawal)]), now)
        withdrawal.version += 1
        return {**_view(shop, withdrawal), "cashback_balance": format_minor(account.cashback_minor,
                                                                            shop.currency_exponent)}

    return retry_on_conflict(decide)


def decide_withdrawal(deps, shop: Shop, withdrawal_id: str, action: str, body: Optional[dict] = None) -> dict:
    """``POST /admin/shops/{shop}/withdrawals/{id}/confirm|reject``: only a pending one."""
    if action not in ("confirm", "reject"):
        raise NotFound("action: confirm or reject", field="action")
    note = (body or {}).get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise BadRequest("note: text of at most 500 characters", field="note")
    repo = deps.repos.loyalty(shop.shop_id)

    def decide() -> dict:
        withdrawal = program_store.load_withdrawal(shop.shop_id, withdrawal_id)
        if withdrawal is None:
            raise NotFound("withdrawal: no such withdrawal in this shop", field="withdrawal_id")
        if withdrawal.status != PENDING:
            raise Conflict(f"withdrawal: already {withdrawal.status}", field="withdrawal_id", status=withdrawal.status)
        account = repo.load_profile(withdrawal.customer_id)
        if account is None:
            raise NotFound("withdrawal: its customer no longer exists", field="withdrawal_id")
        now = deps.clock()
        withdrawal.decided_at, withdrawal.note = now, note
        cause = f"withdrawal-{action}:{withdrawal.withdrawal_id}"
        if action == "confirm":
            withdrawal.status = CONFIRMED
            account.note("withdrawal_paid", cause, now, {"withdrawal_id": withdrawal.withdrawal_id,
                                                         "amount_minor": withdrawal.amount_minor})
        else:
            withdrawal.status = REJECTED
            account.return_cashback(withdrawal.amount_minor, kind="withdrawal_returned", cause=cause, now=now,
                                    detail={"withdrawal_id": withdrawal.withdrawal_id})
        repo.commit(Change(account=account, items=[program_store.withdrawal_write(shop.shop_id, withdrawal)]), now)
        withdrawal.version += 1
        return {**_view(shop, withdrawal), "cashback_balance": format_minor(account.cashback_minor,
                                                                            shop.currency_exponent)}

    return retry_on_conflict(decide, busy="too many concurrent changes; please retry")


def list_withdrawals(shop: Shop, status: Optional[str], limit: Optional[str], cursor: Optional[str]) -> dict:
    status = status or PENDING
    if status not in STATUSES:
        raise BadRequest(f"status: one of {', '.join(STATUSES)}", field="status")
    try:
        size = int(limit) if limit else 50
    except ValueError:
        size = 0
    if not 1 <= size <= 100:
        raise BadRequest("limit: a whole number from 1 to 100", field="limit")
    if cursor and "#" not in cursor:
        raise BadRequest("cursor: not a cursor this API returned", field="cursor")
    rows, next_cursor = program_store.withdrawals_page(shop.shop_id, status, size, cursor)
    return {"withdrawals": [_view(shop, row) for row in rows], "next_cursor": next_cursor}


def cashback_code(deps, shop: Shop, email: str, body: dict) -> dict:
    """``POST …/cashback-codes {"amount": "50.00"}``: wallet money as a single-use code,
    given back to the wallet if unused by its expiry (the code-release job)."""
    minor = _amount_minor(shop, body)

    def decide() -> dict:
        account = _account(deps, shop, email)
        now = deps.clock()
        code = RewardCode(code=new_code(CASHBACK_PREFIX), shop_id=shop.shop_id, kind=CASHBACK,
                          customer_id=account.customer_id, value_minor=minor, points=0, created_at=now,
                          expires_at=day_end(now + timedelta(days=shop.program.redemption_code_validity_days),
                                             shop.timezone))
        _debit(account, minor, "cashback_code", f"code:{code.code}", now, {"code": code.code})
        deps.repos.loyalty(shop.shop_id).commit(Change(account=account, codes=[code]), now)
        return {"code": code.code, "value": format_minor(minor, shop.currency_exponent), "currency": shop.currency,
                "expires_at": keys.iso(code.expires_at),
                "cashback_balance": format_minor(account.cashback_minor, shop.currency_exponent)}

    return retry_on_conflict(decide)


def _view(shop: Shop, withdrawal: Withdrawal) -> dict:
    return {"id": withdrawal.withdrawal_id, "customer_id": withdrawal.customer_id, "email": withdrawal.email,
            "amount": format_minor(withdrawal.amount_minor, shop.currency_exponent), "currency": shop.currency,
            "status": withdrawal.status, "created_at": keys.iso(withdrawal.created_at),
            "decided_at": keys.iso(withdrawal.decided_at) if withdrawal.decided_at else None, "note": withdrawal.note}
