"""What the planner shows before a campaign is saved: who would get it, held out, tested, deferred,
and when each time zone's recipients get it. Pure: the caller reads the recipients, their mail
preferences and passes the planned instant.

Forecasts, not promises: the cap is judged on the sends known now (mail queued between now and the
send time can fill a slot), and the holdout and test shares are expected counts (the draw hashes
the campaign's id, which exists only once it is saved).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping, Optional
from zoneinfo import ZoneInfo

from chalicelib.domain.campaigns import local_time
from chalicelib.domain.mail.eligibility import sends_within
from chalicelib.domain.mail.quiet_hours import QuietHours, next_allowed


@dataclass
class ZoneForecast:
    zone: str
    recipients: int = 0
    cap_deferred: int = 0


@dataclass
class Forecast:
    segment_members: int = 0
    not_sendable: Counter = field(default_factory=Counter)
    program_holdout: int = 0
    zones: dict[str, ZoneForecast] = field(default_factory=dict)

    @property
    def sendable(self) -> int:
        return sum(zone.recipients for zone in self.zones.values())

    def add(self, zone: str, marketing_sends: Mapping[str, str], at: datetime, max_messages: int,
            per_days: int) -> None:
        """A sendable recipient on ``zone``'s clock, reached at ``at``: is the cap full then?"""
        entry = self.zones.setdefault(zone, ZoneForecast(zone))
        entry.recipients += 1
        if len(sends_within(marketing_sends, at, per_days)) >= max_messages:
            entry.cap_deferred += 1


def expected(count: int, percent: float) -> int:
    return round(count * percent / 100)


def reached_at(send_at: datetime, wall: Optional[datetime], zone: ZoneInfo, now: datetime) -> tuple[datetime, bool]:
    """When a recipient on ``zone``'s clock gets it, and whether late: at a local time already past
    in their zone (planned while it was still ahead in the shop's), the first pass sends it at once."""
    if wall is None:
        return send_at, False
    instant = local_time.instant_of(wall, zone)
    return (now, True) if instant < now else (instant, False)


def send_window(forecast: Forecast, send_at: datetime, wall: Optional[datetime],
                quiet: Optional[QuietHours], now: datetime) -> list[dict]:
    """Per zone of the recipients: when they get it, their local time then, whether that is late
    (``late``: the wall time had passed there, so at once), and whether the quiet hours hold it
    until their morning (then ``deferred_to``)."""
    window = []
    for zone_name, entry in forecast.zones.items():
        zone = ZoneInfo(zone_name)
        at, late = reached_at(send_at, wall, zone, now)
        local = at.astimezone(zone)
        offset = int((local.utcoffset().total_seconds()) // 60)
        morning = next_allowed(at, zone, quiet)
        window.append({
            "zone": zone_name, "recipients": entry.recipients, "sends_at": at, "local_time":
            local.replace(tzinfo=None).isoformat(timespec="minutes"),
            "utc_offset": f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}",
            "late": late, "quiet_hours": morning > at, "deferred_to": morning if morning > at else None,
            "cap_deferred": entry.cap_deferred})
    return sorted(window, key=lambda row: (row["sends_at"], row["zone"]))
