"""When a planned campaign may be sent: never earlier than the marketer could have meant.

A ``send_at`` already past would make the campaign due at once and mail every recipient without
the question the workspace asks before an immediate send (yesterday's date typed by mistake, a
zone slip). So a past moment is refused, and sending at once is said in one way only: ``"now"``.
A form submitted at "now" reaches the service a little later: a minute's grace keeps it valid.

At a local time (each recipient's own clock) the moment differs by zone. The marketer plans in
the shop's time, so that is the zone that decides: a wall time already past in the shop's zone is
refused like any past ``send_at``; one still ahead there is accepted even where it has passed
elsewhere (a shop in Kyiv planning 10:00 at 09:00: it is already afternoon in Tokyo). Recipients
in zones where it has passed get it at once, on the first pass; the plan shows them as late.
Pure: the caller passes the moments and the clock's time.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from chalicelib.domain.campaigns import local_time

NOW = "now"  # the one way a campaign document says "send at once"
GRACE = timedelta(minutes=1)


def refusal(send_at: datetime, wall: Optional[datetime], shop_zone: ZoneInfo, now: datetime) -> Optional[str]:
    """Why the planned moment is too late to plan (None: it is not; the caller says how its API
    sends at once). ``send_at`` is aware; ``wall`` is the naive local time of a local-time campaign
    (None for one moment everywhere)."""
    moment = local_time.instant_of(wall, shop_zone) if wall is not None else send_at
    if moment >= now - GRACE:
        return None
    planned = moment.astimezone(shop_zone).replace(tzinfo=None).isoformat(timespec="minutes")
    clock = now.astimezone(shop_zone).replace(tzinfo=None).isoformat(timespec="minutes")
    return f"{planned} ({shop_zone.key}) has already passed: it is {clock} there"
