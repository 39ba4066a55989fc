"""When a rolling-period tier will drop, and what keeps it ("tier at risk" e-mails).

With ``tier_period == "rolling_12_months"`` the tier counts the spend of the
current month and the 11 before it (``Account.tier_spend``). Each month
boundary drops the oldest month from the window, so a customer who buys
nothing more can fall below their tier's ``min_spend`` on the first day of
some coming month. ``tier_drop`` finds that day; the warning goes out
``WARNING_DAYS`` before it (``warning_day``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Optional

from chalicelib.domain.loyalty.account import add_months, month_key
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.money import to_minor

if TYPE_CHECKING:
    from chalicelib.domain.loyalty.account import Account

WARNING_DAYS = 30
ROLLING_MONTHS = 12


@dataclass(frozen=True)
class TierDrop:
    date_drops: date              # the first day of the month the tier is lost on
    tier_now: str
    tier_after: Optional[str]     # the tier the window's spend still reaches then (None: no tier)
    spend_needed_minor: int       # spend before ``date_drops`` that keeps ``tier_now`` on that day


def tier_drop(account: "Account", rules: ProgramRules, now: datetime, exponent: int) -> Optional[TierDrop]:
    """The first coming month boundary at which the customer's rolling spend, with nothing
    more spent, falls below the current tier's ``min_spend``; None for a lifetime period,
    no tier, or a tier that needs no spend."""
    if rules.tier_period != "rolling_12_months":
        return None
    tier = rules.standing(account.tier_spend(rules, now), exponent).tier
    if tier is None:
        return None
    threshold = to_minor(tier.min_spend, exponent)
    if threshold <= 0:
        return None
    this_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for ahead in range(1, ROLLING_MONTHS + 1):
        boundary = add_months(this_month, ahead)
        window = {month_key(add_months(boundary, -back)) for back in range(ROLLING_MONTHS)}
        spend = sum(v for month, v in account.spend_by_month.items() if month in window)
        if spend < threshold:
            after = rules.standing(spend, exponent).tier
            return TierDrop(boundary.date(), tier.name, after.name if after else None, threshold - spend)
    return None  # not reached: at the 12th boundary none of today's spend is in the window


def warning_day(drop: TierDrop) -> date:
    return drop.date_drops - timedelta(days=WARNING_DAYS)


def review_day(account: "Account", rules: ProgramRules, now: datetime, exponent: int) -> Optional[date]:
    """The day the tier review job should look at this account (``Account.tier_review_on``):
    the warning day of the coming drop, today when that day has passed, or the drop day
    itself once this drop was warned about (the job then looks for the next one)."""
    drop = tier_drop(account, rules, now, exponent)
    if drop is None:
        return None
    if account.tier_risk_warned_for == drop.date_drops.isoformat():
        return drop.date_drops
    return max(warning_day(drop), now.date())


def due_warning(account: "Account", rules: ProgramRules, now: datetime, exponent: int) -> Optional[TierDrop]:
    """The drop to warn about now: its warning day has come and it was not warned about yet."""
    drop = tier_drop(account, rules, now, exponent)
    if drop is None or account.tier_risk_warned_for == drop.date_drops.isoformat():
        return None
    if warning_day(drop) > now.date():
        return None
    return drop


def mark_warned(account: "Account", drop: TierDrop) -> None:
    account.tier_risk_warned_for = drop.date_drops.isoformat()
    account.tier_review_on = drop.date_drops


def warning_message(shop_id: str, customer_id: str, drop: TierDrop, created_at: str) -> dict:
    data = {"tier": drop.tier_now, "spend_needed_minor": drop.spend_needed_minor,
            "by": (drop.date_drops - timedelta(days=1)).isoformat()}
    if drop.tier_after:
        data["next_lower_tier"] = drop.tier_after
    return {
        "idempotency_key": f"tier_at_risk:{customer_id}:{drop.date_drops.isoformat()}",
        "shop_id": shop_id,
        "customer_id": customer_id,
        "template": "tier_at_risk",
        "category": "marketing",
        "campaign_id": None,
        "created_at": created_at,
        "data": data,
    }
