"""Achievements (first order, fifth order, first review, reaching a tier) and the
sign-up bonus: each given once per customer, with bonus points, decided inside
the transaction of the change that earned it."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.domain.loyalty.account import Account, add_months
from chalicelib.domain.loyalty.program import AchievementRule, ProgramRules


def reached(rule: AchievementRule, account: Account, rules: ProgramRules) -> bool:
    if rule.kind == "orders":
        return account.orders_count >= rule.threshold
    if rule.kind == "reviews":
        return account.reviews_count >= rule.threshold
    ladder = {tier.name.lower(): tier.min_spend for tier in rules.tiers}
    current = ladder.get((account.tier_name or "").lower())
    wanted = ladder.get((rule.tier or "").lower())
    return current is not None and wanted is not None and current >= wanted


def award(account: Account, rules: ProgramRules, now: datetime) -> list[dict]:
    """Every achievement the account has newly reached: points credited (a ``bonus``
    entry each), remembered on the profile; returns each one's e-mail data."""
    if account.redacted:
        return []
    won = []
    for rule in rules.achievements:
        achievement_id = rule.achievement_id
        if achievement_id in account.achievements or not reached(rule, account, rules):
            continue
        account.achievements.add(achievement_id)
        if rule.points:
            account.earn(rule.points, lot_id=f"achievement-{achievement_id}", cause=f"achievement:{achievement_id}",
                         now=now, expires_at=add_months(now, rules.points_validity_months), kind="bonus")
        won.append({"achievement": rule.kind, "threshold": rule.threshold, "tier": rule.tier,
                    "points": rule.points, "achievement_id": achievement_id})
    return won


def grant_signup_bonus(account: Account, rules: ProgramRules, first_appearance: bool, now: datetime) -> Optional[dict]:
    """The sign-up bonus when a customer first appears with marketing consent (a
    customer record, or a first order): once per customer. Returns the welcome e-mail's data."""
    if (account.signup_bonus_given or account.redacted or not first_appearance or not account.marketing_consent
            or rules.signup_bonus_points <= 0):
        return None
    account.signup_bonus_given = True
    account.earn(rules.signup_bonus_points, lot_id="signup", cause="signup", now=now,
                 expires_at=add_months(now, rules.points_validity_months), kind="bonus")
    return {"bonus_points": rules.signup_bonus_points}
