"""Calendar months: the one rule for "N months later" (validity of points, the tier window).

The day of the month is kept, or the month's last day when it has fewer days (31 January plus
one month is 28 or 29 February; 29 February plus twelve months is 28 February)."""
from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import TypeVar

Moment = TypeVar("Moment", date, datetime)


def add_months(moment: Moment, months: int) -> Moment:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def month_key(moment: date) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"
