"""What a shop's storefront asks about a customer, and redemptions."""
from __future__ import annotations

import base64
from datetime import timedelta
from typing import Optional

from chalicelib.domain.loyalty import membership
from chalicelib.domain.loyalty.account import Account, InsufficientPoints
from chalicelib.domain.loyalty.lapse import day_end, last_day, lapses_at
from chalicelib.domain.loyalty.codes import RewardCode, new_code
from chalicelib.domain.money import format_minor
from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.mail import outbox
from chalicelib.services.loyalty.program_effects import give_referral_code, message, share_link
from chalicelib.store import keys
from chalicelib.store.loyalty.repository import Change, ConcurrentChange
from chalicelib.services.retries import retry_on_conflict
from chalicelib.services.validation import refuse_unknown_fields

MAX_PAGE = 100
MAX_CURSOR_SORT_KEY = 256


def customer_view(deps, shop: Shop, email: str) -> dict:
    account = existing_account(deps, shop, email)
    now = deps.clock()
    if account.referral_code is None and shop.program.referral.enabled:
        account = _with_referral_code(deps, shop, email, account)
    standing = shop.program.standing(account.tier_spend(shop.program, now), shop.currency_exponent)
    exponent = shop.currency_exponent
    # The account as the expiry sweep leaves it: lots past their last day are not shown, nor counted,
    # though the sweep (hourly) may not have come by yet; nothing is written here.
    account.expire_due(now, shop.timezone)
    return {
        "customer_id": account.customer_id,
        "email": account.email,
        "points_balance": account.points_balance,
        "points_value": format_minor(shop.program.redemption_value_minor(max(account.points_balance, 0), exponent),
                                     exponent),
        "redeemable": account.points_debt == 0 and account.points_balance >= shop.program.min_redeem_points,
        # ``expires_at``: the first instant the points are gone; ``valid_until``: their last day
        # on the shop's clock, the day the e-mails name.
        "expiring": [{"points": lot.points, "expires_at": keys.iso(lapses_at(lot.expires_at, shop.timezone)),
                      "valid_until": last_day(lot.expires_at, shop.timezone).isoformat()}
                     for lot in sorted(account.lots or [], key=lambda lot: lot.expires_at)],
        "tier": standing.tier.name if standing.tier else None,
        "discount_percent": str(standing.discount_percent),
        "next_tier": standing.next_tier.name if standing.next_tier else None,
        "spend_to_next_tier": format_minor(standing.spend_to_next_minor, exponent) if standing.next_tier else None,
        "cashback_balance": format_minor(account.cashback_minor, exponent),
        "lifetime_spend": format_minor(account.lifetime_spend_minor, exponent),
        "orders_count": account.orders_count,
        "currency": shop.currency,
        "referral": {"code": account.referral_code,
                     "share_url": share_link(shop, account.referral_code) if account.referral_code else None,
                     "friend_discount_percent": str(shop.program.referral.friend_discount_percent)},
        "membership": _membership_view(shop, account, now),
        "achievements": sorted(account.achievements),
    }


def _membership_view(shop: Shop, account: Account, now) -> dict:
    active = account.is_member(now)
    plan = membership.plan_of(account, shop.program) if active else None
    return {"active": active, "member_until": keys.iso(account.member_until) if account.member_until else None,
            "free_shipping": bool(plan and plan.free_shipping),
            "free_shipping_code": account.member_shipping_code if plan and plan.free_shipping else None,
            "extra_cashback_percent": str(plan.extra_cashback_percent) if plan else "0",
            "plan": membership.plan_terms(plan) if plan else None,
            "plans": [membership.plan_terms(p) for p in shop.program.membership.all_plans()]}


def _with_referral_code(deps, shop: Shop, email: str, account: Account) -> Account:
    """Give the customer their referral code on first sight (one write; a race with
    another change is decided again on the fresh account)."""
    current = [account]

    def decide() -> Account:
        now = deps.clock()
        code = give_referral_code(shop, current[0], now)
        try:
            deps.repos.loyalty(shop.shop_id).commit(Change(account=current[0], codes=[code]), now)
        except ConcurrentChange:
            fresh = existing_account(deps, shop, email)
            if fresh.referral_code:  # the change that won gave it one
                return fresh
            current[0] = fresh
            raise
        return current[0]

    return retry_on_conflict(decide)


def customer_history(deps, shop: Shop, email: str, limit: Optional[str], cursor: Optional[str]) -> dict:
    try:
        size = int(limit) if limit else 25
    except ValueError:
        raise BadRequest("limit: must be a whole number from 1 to 100", field="limit") from None
    if not 1 <= size <= MAX_PAGE:
        raise BadRequest("limit: must be a whole number from 1 to 100", field="limit")
    customer_id = shop.customer_id_for(email)
    after = _decode_cursor(cursor, shop.shop_id, customer_id) if cursor else None
    repo = deps.repos.loyalty(shop.shop_id)
    profile = repo.load_profile(customer_id)
    if profile is None or profile.redacted:  # erased (or being erased): nothing of theirs is shown
        raise NotFound("no loyalty account for this e-mail in this shop", field="email")
    page = repo.ledger_page(customer_id, size, after)
    exponent = shop.currency_exponent
    return {
        "entries": [{"kind": e.kind, "points": e.points, "cashback": format_minor(e.cashback_minor, exponent),
                     "spend": format_minor(e.spend_minor, exponent), "cause": e.cause,
                     "created_at": keys.iso(e.created_at), "detail": e.detail} for e in page.entries],
        "next_cursor": _encode_cursor(page.next_cursor) if page.next_cursor else None,
    }


def redeem_points(deps, shop: Shop, email: str, body: dict) -> dict:
    refuse_unknown_fields(body, ("points",), "a redemption")
    points = body.get("points")
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise BadRequest("points: must be a whole number of points, at least 1", field="points")

    def decide() -> dict:
        account = existing_account(deps, shop, email)
        now = deps.clock()
        code_id = new_code()
        try:
            # The balance is checked before the code is priced: points beyond any balance
            # (2**70, 35 digits) are a 409, never a value the decimal context cannot hold.
            portions = account.redeem(points, cause=f"code:{code_id}", now=now, rules=shop.program, zone=shop.timezone,
                                      detail={"code": code_id})
        except InsufficientPoints as refusal:
            raise Conflict(f"points: {refusal.reason}", field="points",
                           points_balance=account.spendable_balance(now, shop.timezone)) from None
        code = RewardCode(code=code_id, shop_id=shop.shop_id, kind="redemption", customer_id=account.customer_id,
                          value_minor=shop.program.redemption_value_minor(points, shop.currency_exponent),
                          points=points, created_at=now,
                          expires_at=day_end(now + timedelta(days=shop.program.redemption_code_validity_days),
                                             shop.timezone))
        code.portions = portions
        mail = [_code_mail(shop, account, code, points, now)]
        deps.repos.loyalty(shop.shop_id).commit(Change(account=account, codes=[code], outbox=mail), now)
        outbox.publish(deps, mail)
        return {"code": code.code, "points": points,
                "value": format_minor(code.value_minor, shop.currency_exponent), "currency": shop.currency,
                "expires_at": keys.iso(code.expires_at), "points_balance": account.points_balance}

    return retry_on_conflict(decide)


def _code_mail(shop: Shop, account: Account, code: RewardCode, points: int, now) -> dict:
    """The ``reward_code`` e-mail: the code the points became, committed with them (the storefront
    showed it once; the mail keeps it in the customer's inbox). Keyed by the code: sent once."""
    data = {"code": code.code, "value_minor": code.value_minor, "points": points,
            "expires_at": keys.iso(code.expires_at)}
    return message(shop.shop_id, account.customer_id, "reward_code", f"reward_code:{code.code}", data, now)


def existing_account(deps, shop: Shop, email: str) -> Account:
    account = deps.repos.loyalty(shop.shop_id).load_account(shop.customer_id_for(email))
    if account is None or account.redacted:
        raise NotFound("no loyalty account for this e-mail in this shop", field="email")
    return account


def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, shop_id: str, customer_id: str) -> str:
    try:
        sort_key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("cursor: not a cursor this API returned", field="cursor") from None
    # A ledger entry's sort key is some 60 characters; a longer one is past DynamoDB's 1,024 bytes
    # soon enough to be refused, not read.
    if not sort_key.startswith(keys.LEDGER_SK_PREFIX) or len(sort_key) > MAX_CURSOR_SORT_KEY:
        raise BadRequest("cursor: not a cursor this API returned", field="cursor")
    return sort_key
