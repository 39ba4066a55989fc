"""Quiet hours: no marketing e-mail at night on the customer's own clock.

Between ``start`` and ``end`` local time (by default 21:00–08:00; a shop may move them or turn them
off) a marketing e-mail waits until the quiet hours end in the customer's zone, if that is inside
its validity window (the cap's deferral carries it: domain/mail/deferral.py). Transactional mail
is never held. Local times go through ``zoneinfo``, so the end of the night is right on the days
the clocks change; an end that falls in a spring-forward gap (02:30 that does not exist) is the
first instant after the gap. Pure: the caller passes the time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(8, 0)

    def holds(self, wall: time) -> bool:
        """Whether a local wall-clock time is inside the quiet hours (the window may span midnight)."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


DEFAULT_QUIET_HOURS = QuietHours()


def next_allowed(now: datetime, zone: ZoneInfo, quiet: Optional[QuietHours]) -> datetime:
    """``now`` when marketing mail may go out now in ``zone``, else the instant the quiet hours end."""
    local = now.astimezone(zone)
    if quiet is None or not quiet.holds(local.time().replace(tzinfo=None)):
        return now
    day = local.date()
    for _ in range(2):
        # A wall time is turned into an instant by zoneinfo (fold=0: in a gap, the pre-transition offset,
        # which lands just after the gap; in a repeated hour, the first of the two).
        end = datetime.combine(day, quiet.end, tzinfo=zone).astimezone(timezone.utc)
        if end > now:
            return end
        day += timedelta(days=1)
    return now  # unreachable for a well-formed window

