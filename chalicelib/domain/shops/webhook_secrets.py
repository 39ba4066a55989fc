"""Webhook secret rotation: the current secret, and previous ones until they retire.

A platform keeps signing with the old secret for a while after a shop rotates it
(deliveries already queued, retries over hours, a second store front not yet
updated), so a replaced secret stays accepted until its retire time or until the
shop retires it by hand. Saving the settings again, with the same secret or
without one, keeps every previous secret that has not retired.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Optional

DEFAULT_GRACE_DAYS = 7
# More would only widen what an old leaked secret can do; three covers rotating
# twice within one grace period.
MAX_PREVIOUS = 3


@dataclass(frozen=True)
class PreviousSecret:
    secret: str
    # None: kept from before secrets had retire times; the next save of the
    # settings gives it one.
    retire_at: Optional[datetime]

    def live(self, now: datetime) -> bool:
        return self.retire_at is None or self.retire_at > now


@dataclass(frozen=True)
class SecretRing:
    current: str
    previous: tuple[PreviousSecret, ...] = ()

    def accepted(self, now: datetime) -> tuple[str, ...]:
        """Every secret a delivery may be signed with at ``now``, the current one first."""
        return tuple(s for s in (self.current, *(p.secret for p in self.previous if p.live(now))) if s)

    def saved(self, new_secret: Optional[str], now: datetime, grace: timedelta,
              also_previous: Optional[str] = None) -> "SecretRing":
        """The ring after a save of the settings. ``new_secret`` None or equal to the
        current one changes nothing but dropping what has retired; a different one
        becomes current and the replaced secret retires after ``grace``.
        ``also_previous``: a secret the shop names itself as still in use."""
        retire_at = now + grace
        live = [p if p.retire_at is not None else PreviousSecret(p.secret, retire_at)
                for p in self.previous if p.live(now)]
        current = self.current
        if new_secret and new_secret != current:
            if current:
                live.insert(0, PreviousSecret(current, retire_at))
            current = new_secret
        if also_previous and also_previous != current:
            live.insert(0, PreviousSecret(also_previous, retire_at))
        return SecretRing(current, _distinct(live, current, now))

    def retired(self) -> "SecretRing":
        """Every previous secret retired now (the shop knows nothing signs with them any more)."""
        return SecretRing(self.current, ())


def _distinct(previous: Iterable[PreviousSecret], current: str, now: datetime) -> tuple[PreviousSecret, ...]:
    kept: dict[str, PreviousSecret] = {}
    for entry in previous:
        if entry.secret == current or not entry.live(now):
            continue
        known = kept.get(entry.secret)
        if known is None or (known.retire_at or now) < (entry.retire_at or now):
            kept[entry.secret] = entry
    newest_first = sorted(kept.values(), key=lambda p: p.retire_at or now, reverse=True)
    return tuple(newest_first[:MAX_PREVIOUS])
