"""When a date-triggered flow starts for a customer: on a day of the customer's own calendar
(their birthday, their sign-up anniversary, the end of their membership, or a day the shop names),
moved by ``offset_days`` (negative: before).

A start is one *occurrence*, named by the date it belongs to (the birthday of 2031, the membership
that ends on 2031-09-30): the run id hashes it, so the same occurrence never starts twice however
often, or however late, the daily job looks.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from chalicelib.domain.lifecycle.occasions import birthday_keys

BIRTHDAY, SIGNED_UP, MEMBERSHIP_ENDS, CALENDAR = "birthday", "signed_up", "membership_ends", "calendar"
DATE_FIELDS = (BIRTHDAY, SIGNED_UP, MEMBERSHIP_ENDS, CALENDAR)
MAX_OFFSET_DAYS = 365


def parse_calendar_date(text: str) -> tuple[Optional[int], int, int]:
    """``YYYY-MM-DD`` (that day, once) or ``MM-DD`` (that day every year) → (year or None, month, day);
    ``ValueError`` for anything else (29 February is a day of every year, kept on the 28th)."""
    parts = text.split("-") if isinstance(text, str) else []
    if len(parts) == 3 and len(parts[0]) == 4:
        day = date.fromisoformat(text)
        return day.year, day.month, day.day
    if len(parts) == 2 and all(len(part) == 2 and part.isdigit() for part in parts):
        month, day_of_month = int(parts[0]), int(parts[1])
        date(2000, month, day_of_month)  # a leap year: raises for 02-30, 13-01...
        return None, month, day_of_month
    raise ValueError("calendar_date is YYYY-MM-DD (once) or MM-DD (every year)")


def occurrence_on(trigger, account, day: date, zone: ZoneInfo) -> Optional[date]:
    """The occurrence a date trigger starts on ``day`` (the customer's day), or None.

    ``trigger``: a flow's date ``Trigger``; ``account``: the customer (``birthday``,
    ``created_at``, ``member_until``); ``zone``: the customer's time zone, in which their
    sign-up and membership end fall on a day."""
    anchor = day - timedelta(days=trigger.offset_days or 0)
    field = trigger.date_field
    if field == BIRTHDAY:
        if account.birthday is None or account.birthday.strftime("%m-%d") not in birthday_keys(anchor):
            return None
        return anchor
    if field == SIGNED_UP:
        signed = _local_day(account.created_at, zone)
        if signed is None:
            return None
        if trigger.every_year is False:  # once, N days after signing up (default: every year)
            return anchor if anchor == signed else None
        if anchor.year > signed.year and signed.strftime("%m-%d") in birthday_keys(anchor):
            return anchor
        return None
    if field == MEMBERSHIP_ENDS:
        ends = _local_day(account.member_until, zone)
        return anchor if ends is not None and anchor == ends else None
    if field == CALENDAR:
        year, month, day_of_month = parse_calendar_date(trigger.calendar_date)
        if year is not None:
            return anchor if anchor == date(year, month, day_of_month) else None
        return anchor if f"{month:02d}-{day_of_month:02d}" in birthday_keys(anchor) else None
    raise ValueError(field)


def _local_day(moment: Optional[datetime], zone: ZoneInfo) -> Optional[date]:
    if moment is None:
        return None
    return moment.astimezone(zone).date() if moment.tzinfo else moment.date()


def occurrence_key(anchor: date) -> str:
    return f"date:{anchor.isoformat()}"
