"""When a lot's points stop being spendable: at the end of its expiry day, in the shop's zone.

A lot stores the instant its validity runs out (paid at 14:05 plus N months). The mails name the
day of that instant as the shop's clock shows it ("valid until 7 June": mail/formatting.py formats
every date in ``shop.timezone``), so the ledger honours that whole day: the points lapse at the
first instant of the next day there. The rule is applied where lapse is decided, never stored:
lots written before it existed follow it as they are. The storefront's balance, redemption, the
expiry sweep, the expiry warnings and the mail's dates all go through this module.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Union
from zoneinfo import ZoneInfo

Zone = Union[str, ZoneInfo]

# An index day (the UTC date of a lot's expiry instant) is settled, every lot on it lapsed in any
# zone, two days later: UTC+14's day after the instant's ends at most 34 hours past that UTC day's
# start (UTC-12's ends sooner).
SETTLED_AFTER = timedelta(days=2)


def last_day(expires_at: datetime, zone: Zone) -> date:
    """The last day the points are honoured, as the shop's clock (and its mails) name it."""
    return expires_at.astimezone(_zone(zone)).date()


def lapses_at(expires_at: datetime, zone: Zone) -> datetime:
    """The first instant (UTC) the points are gone: the start of the day after ``last_day``."""
    return _day_start(last_day(expires_at, zone) + timedelta(days=1), _zone(zone))


def has_lapsed(expires_at: datetime, zone: Zone, now: datetime) -> bool:
    return now >= lapses_at(expires_at, zone)


def lapsed_points(lots: Iterable, zone: Zone, now: datetime) -> int:
    """The points of ``lots`` that have lapsed at ``now`` though no sweep has removed them yet."""
    return sum(lot.points for lot in lots or () if lot.points > 0 and has_lapsed(lot.expires_at, zone, now))


def day_end(moment: datetime, zone: Zone) -> datetime:
    """The last instant (UTC) of the shop's day of ``moment``: a code's expiry, which the mails show
    as that day and the platforms are given as the end of the discount, honours the whole day."""
    return lapses_at(moment, zone) - timedelta(microseconds=1)


def today(zone: Zone, now: datetime) -> date:
    """The shop's day at ``now``."""
    return now.astimezone(_zone(zone)).date()


def first_instant(day: date, zone: Zone) -> datetime:
    """The first instant (UTC) of the shop's ``day``: a lot stored with it is honoured through ``day``."""
    return _day_start(day, _zone(zone))


def utc_days_of(day: date, zone: Zone) -> list[date]:
    """The UTC days the instants of the shop's ``day`` fall on (one or two): the days of the lots
    index (keyed by the UTC day of the expiry instant) that hold the lots whose last day it is."""
    tz = _zone(zone)
    first = _day_start(day, tz).date()
    last = (_day_start(day + timedelta(days=1), tz) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@lru_cache(maxsize=4096)
def _day_start(day: date, zone: ZoneInfo) -> datetime:
    # Midnight read with the offset in force before it: where a DST gap swallows midnight
    # (America/Santiago, Asia/Beirut) that is the gap's own instant, the day's first; where a day
    # is skipped whole (Pacific/Apia, 30 December 2011) it is the first instant after ``day - 1``.
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)
    # A fall-back transition at midnight repeats the previous day's last hour: its first pass is
    # still that day, so the day starts after it.
    while start.astimezone(zone).date() < day:
        start += timedelta(hours=1)
    return start


def _zone(zone: Zone) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
