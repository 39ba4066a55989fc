"""Program settings from the workspace: validated like the shop document, with a preview
of what the change does to existing customers before it is saved.

The preview reads the shop's customers through the sharded directory index (the same
Query segments use, never a Scan), at most ``PREVIEW_LIMIT`` of them, and compares each
customer's tier under the current and the new rules, and the value of the points
outstanding (balance × point value).
"""
from __future__ import annotations

from collections import Counter

from pydantic import ValidationError

from chalicelib.domain.money import format_minor
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.errors import BadRequest, NotFound
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.shops import shops
from chalicelib.services.shops.shop_settings import ShopSettings, program_problem
from chalicelib.services.validation import bad_request_from
from chalicelib.store import keys

PREVIEW_LIMIT = 20_000
EDITABLE = ("program", "marketing_cap", "expiry_warning_days")
_NOT_SETTINGS = ("created_at", "updated_at", "currency_exponent")


def program_settings(deps, shop_id: str) -> dict:
    config = _stored_config(deps, shop_id)
    return {"shop_id": shop_id, "currency": config["currency"],
            **{name: config[name] for name in EDITABLE if name in config}}


def preview_program(deps, shop_id: str, body: dict) -> dict:
    """What saving ``body`` would change for the shop's existing customers (nothing is saved)."""
    shop = load_shop(deps, shop_id)
    settings = _validated(deps, shop_id, body)
    new_rules = settings.program.to_rules()
    return {"shop_id": shop_id, **_impact(deps, shop, shop.program, new_rules)}


def save_program(deps, shop_id: str, body: dict) -> dict:
    _validated(deps, shop_id, body)
    document = _merged(deps, shop_id, body)
    view, _ = shops.put_shop(deps, shop_id, document)
    return {name: view[name] for name in ("shop_id", *EDITABLE, "updated_at") if name in view}


def _impact(deps, shop, old: ProgramRules, new: ProgramRules) -> dict:
    now = deps.clock()
    exponent = shop.currency_exponent
    read = tier_changes = up = down = 0
    balance = 0
    moves: Counter = Counter()
    truncated = False
    for account in _customers(deps, shop.shop_id):
        if read >= PREVIEW_LIMIT:
            truncated = True
            break
        read += 1
        before = old.standing(account.tier_spend(old, now), exponent).tier
        after = new.standing(account.tier_spend(new, now), exponent).tier
        balance += max(account.points_balance, 0)
        before_name, after_name = before.name if before else None, after.name if after else None
        if before_name != after_name:
            tier_changes += 1
            moves[f"{before_name or 'no tier'} → {after_name or 'no tier'}"] += 1
            rank = _rank(new, after) - _rank(old, before)
            up, down = up + (rank > 0), down + (rank < 0)
    old_value = old.redemption_value_minor(balance, exponent)
    new_value = new.redemption_value_minor(balance, exponent)
    return {
        "customers_read": read, "truncated": truncated, "limit": PREVIEW_LIMIT,
        "tier_changes": tier_changes, "tier_ups": up, "tier_downs": down,
        "moves": [{"move": move, "customers": n} for move, n in moves.most_common()],
        "points_outstanding": balance,
        "outstanding_value_before": format_minor(old_value, exponent),
        "outstanding_value_after": format_minor(new_value, exponent),
        "outstanding_value_change": format_minor(new_value - old_value, exponent),
        "currency": shop.currency,
    }


def _customers(deps, shop_id: str):
    """Every customer of the shop, page by page, through the directory index segments use."""
    repo = deps.repos.loyalty(shop_id)
    for shard in range(keys.CUSTOMER_SHARDS):
        cursor = None
        while True:
            accounts, cursor = repo.customer_page(shard, cursor, 500)
            yield from accounts
            if not cursor:
                break


def _rank(rules: ProgramRules, tier) -> int:
    if tier is None:
        return 0
    ladder = sorted(rules.tiers, key=lambda t: t.min_spend)
    return 1 + [t.name for t in ladder].index(tier.name)


def _validated(deps, shop_id: str, body: dict) -> ShopSettings:
    unknown = sorted(set(body) - set(EDITABLE))
    if unknown:
        raise BadRequest(f"{unknown[0]}: not a program setting (one of {', '.join(EDITABLE)})", field=unknown[0])
    if "program" not in body or not isinstance(body["program"], dict):
        raise BadRequest("program: the program rules as an object", field="program")
    document = _merged(deps, shop_id, body)
    document["webhook_secret"] = "x" * 16  # validated apart from secrets; put_shop keeps the real one
    try:
        settings = ShopSettings.model_validate(document)
    except ValidationError as error:
        raise bad_request_from(error) from None
    problem = program_problem(settings)
    if problem:
        raise BadRequest(f"{problem[0]}: {problem[1]}", field=problem[0])
    return settings


def _merged(deps, shop_id: str, body: dict) -> dict:
    document = {k: v for k, v in _stored_config(deps, shop_id).items() if k not in _NOT_SETTINGS}
    document.update({name: body[name] for name in EDITABLE if name in body})
    return document


def _stored_config(deps, shop_id: str) -> dict:
    stored = deps.repos.shops().get(shop_id)
    if stored is None:
        raise NotFound(f"no shop {shop_id!r}", field="shop_id")
    return dict(stored.config)


__all__ = ["program_settings", "preview_program", "save_program", "PREVIEW_LIMIT"]
