"""Birthdays and win-back: what a customer is owed on a given day."""
from __future__ import annotations

import calendar
from datetime import date, datetime, tzinfo
from typing import Optional

from chalicelib.domain.loyalty.account import Account, add_months
from chalicelib.domain.loyalty.program import ProgramRules


def birthday_keys(today: date) -> list[str]:
    """The birthdays celebrated today (MM-DD); 29 February is kept on the 28th in common years."""
    keys = [today.strftime("%m-%d")]
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        keys.append("02-29")
    return keys


def grant_birthday(account: Account, rules: ProgramRules, today: date, now: datetime) -> Optional[dict]:
    """The birthday bonus, once a year; returns the e-mail's data, or None when nothing is owed."""
    if account.redacted or account.birthday is None or account.birthday_bonus_year == today.year:
        return None
    if account.birthday.strftime("%m-%d") not in birthday_keys(today) or rules.birthday_bonus_points <= 0:
        return None
    account.birthday_bonus_year = today.year
    account.earn(rules.birthday_bonus_points, lot_id=f"birthday-{today.year}", cause=f"birthday:{today.year}",
                 now=now, expires_at=add_months(now, rules.points_validity_months), kind="bonus")
    return {"bonus_points": rules.birthday_bonus_points}


def winback_due(account: Account, rules: ProgramRules, today: date, tz: tzinfo) -> Optional[dict]:
    """A customer with points and no order for ``winback_after_days`` is reminded once per lapse.
    ``today`` is the shop's date; ``tz`` its time zone, to count days as the shop does."""
    last = account.last_order_at
    if account.redacted or last is None or account.points_balance <= 0:
        return None
    days = (today - last.astimezone(tz).date()).days
    if days < rules.winback_after_days or account.winback_for_order_at == last:
        return None
    account.winback_for_order_at = last
    return {"days_since_last_order": days}
