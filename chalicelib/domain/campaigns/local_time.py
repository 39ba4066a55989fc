"""A campaign planned at a local time ("10:00 on 14 March") reaches each customer at 10:00 on
their own clock.

The wall time is the same everywhere; the instant differs by zone. The sender goes through the
segment in passes: a pass covers the recipients whose 10:00 has come by the pass's instant (fixed
when the pass begins, so a pass resumed after a crash covers the same people), skips those an
earlier pass queued, and notes the earliest instant still ahead, which is when the next pass runs.
So there is one pass per distinct local-time instant among the shop's customers (one for a shop in
one zone; four or five across the US). A sender that runs late covers every zone whose time has
come in its one pass (catch-up); a page queued twice sends nobody twice (the idempotency key).
The first pass runs when the earliest zone on Earth (UTC+14) reaches the wall time.
Pure: the caller passes the zones and the time.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

EARLIEST_UTC_OFFSET = timedelta(hours=14)  # Pacific/Kiritimati: where a wall time comes first


def instant_of(wall: datetime, zone: ZoneInfo) -> datetime:
    """When ``wall`` (naive local time) happens in ``zone``, in UTC. A wall time in a spring-forward
    gap (02:30 that does not exist) is the instant just after the gap; in a repeated hour, the
    first of the two (zoneinfo's fold=0)."""
    return wall.replace(tzinfo=zone).astimezone(timezone.utc)


def exists(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether the clocks of ``zone`` ever show ``wall`` (naive): not in a spring-forward gap."""
    return wall.replace(tzinfo=zone).astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) == wall


def first_release(wall: datetime) -> datetime:
    """The earliest instant any zone reaches ``wall``."""
    return wall.replace(tzinfo=timezone.utc) - EARLIEST_UTC_OFFSET


def send_window(wall: datetime, zones: Iterable[str]) -> list[dict]:
    """For the planner: each zone's instant for ``wall``, in order of sending, with the local
    time and UTC offset that day."""
    window = []
    for name in sorted(set(zones)):
        instant = instant_of(wall, ZoneInfo(name))
        local = instant.astimezone(ZoneInfo(name))
        offset = local.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        window.append({"zone": name, "sends_at": instant, "local_time": local.replace(tzinfo=None).isoformat(),
                       "utc_offset": f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"})
    return sorted(window, key=lambda entry: (entry["sends_at"], entry["zone"]))


def pass_decision(instant: datetime, released_until: Optional[datetime], pass_until: datetime) -> str:
    """For one recipient whose local instant is ``instant``: "queued" by an earlier pass, "due" in
    this one, or "later"."""
    if released_until is not None and instant <= released_until:
        return "queued"
    return "due" if instant <= pass_until else "later"
