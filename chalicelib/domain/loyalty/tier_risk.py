"""When a rolling-period tier will drop, and what keeps it ("tier at risk" e-mails).

With ``tier_period == "rolling_12_months"`` the tier counts the spend paid in the last
12 months, to the day (``chalicelib.domain.loyalty.tier_window``). Each paid day's spend
leaves the window on its anniversary, so a customer who buys nothing more falls below
their tier's ``min_spend`` on the anniversary of some order. ``tier_drop`` finds that day;
the warning goes out ``WARNING_DAYS`` before it (``warning_day``), and the tier review job
(services/lifecycle/tier_risk.py) lowers the stored tier on the day itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Optional

from chalicelib.domain.loyalty import tier_window
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.money import to_minor

if TYPE_CHECKING:
    from chalicelib.domain.loyalty.account import Account

WARNING_DAYS = 30


@dataclass(frozen=True)
class TierDrop:
    date_drops: date              # the first day without the tier (the anniversary of a paid day)
    tier_now: str
    tier_after: Optional[str]     # the tier the window's spend still reaches then (None: no tier)
    spend_needed_minor: int       # spend before ``date_drops`` that keeps ``tier_now`` on that day


def tier_drop(account: "Account", rules: ProgramRules, now: datetime, exponent: int) -> Optional[TierDrop]:
    """The first coming day on which the customer's rolling spend, with nothing more spent,
    falls below the current tier's ``min_spend``; None for a lifetime period, no tier, or a
    tier that needs no spend."""
    if rules.tier_period != "rolling_12_months":
        return None
    today = now.date()
    spend = tier_window.window_spend(account.spend_by_day, today)
    tier = rules.standing(spend, exponent).tier
    if tier is None:
        return None
    threshold = to_minor(tier.min_spend, exponent)
    if threshold <= 0:
        return None
    for day, leaving in tier_window.exits(account.spend_by_day, today):
        spend -= leaving
        if spend < threshold:
            after = rules.standing(spend, exponent).tier
            return TierDrop(day, tier.name, after.name if after else None, threshold - spend)
    return None  # not reached: once every counted day has left, the spend is 0


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
