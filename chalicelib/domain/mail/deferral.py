"""One marketing cap that defers by priority instead of dropping.

Every marketing e-mail has a priority (by default: the points-expiry warning and tier-at-risk
first, then birthday and win-back, then welcome, then campaigns; a shop may reorder them) and a
validity window (how long after it was queued it is still worth sending). When the customer's
cap is full, the e-mail waits for the cap's next free slot instead of being dropped, if that slot
opens inside its window; when a slot opens, the waiting e-mails of that customer are released
highest priority first, as many as there are free slots, so a higher-priority e-mail takes the slot
a lower one was waiting for. One whose window passes while it waits is counted ``expired_in_queue``.
Pure: the caller passes the time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Optional, Sequence

from chalicelib.domain.timestamps import iso, parse_iso

CAMPAIGN = "campaign"
EXPIRED_IN_QUEUE = "expired_in_queue"  # the outcome of an e-mail whose window passed while it waited
# Highest first. "campaign" stands for every campaign's e-mail.
DEFAULT_PRIORITY_ORDER: tuple[str, ...] = ("points_expiring", "tier_at_risk", "birthday", "winback", "welcome", CAMPAIGN)
PRIORITY_KINDS = frozenset(DEFAULT_PRIORITY_ORDER)
# How long an e-mail is still worth sending after it was queued.
DEFAULT_VALIDITY = {"points_expiring": timedelta(days=5), "tier_at_risk": timedelta(days=5),
                    "birthday": timedelta(days=7), "winback": timedelta(days=7), "welcome": timedelta(days=3),
                    CAMPAIGN: timedelta(days=3)}


def kind_of(template: str, campaign_id: Optional[str]) -> str:
    return CAMPAIGN if campaign_id else template


def priority(template: str, campaign_id: Optional[str], order: Sequence[str] = DEFAULT_PRIORITY_ORDER) -> int:
    """0 is the highest; a kind the order does not name comes last."""
    kind = kind_of(template, campaign_id)
    return order.index(kind) if kind in order else len(order)


def valid_until(template: str, campaign_id: Optional[str], queued_at: datetime,
                explicit: Optional[datetime] = None, data: Optional[Mapping] = None) -> datetime:
    """The end of the e-mail's window: the message's own; for an expiry warning, when the points
    expire (warning after that is pointless, before it is worth a wait); else its kind's default
    from when it was queued."""
    if explicit is not None:
        return explicit
    if template == "points_expiring" and data and isinstance(data.get("expires_at"), str):
        try:
            expires = datetime.fromisoformat(data["expires_at"])
        except ValueError:
            expires = None
        if expires is not None and expires.tzinfo is not None:
            return expires
    return queued_at + DEFAULT_VALIDITY.get(kind_of(template, campaign_id), DEFAULT_VALIDITY[CAMPAIGN])


def next_free_slot(marketing_sends: Mapping[str, str], now: datetime, max_messages: int, per_days: int) -> datetime:
    """When the cap next has room: ``now`` if it has room, else when enough of the window's sends
    have aged out of it (the oldest that must leave, plus the window)."""
    since = iso(now - timedelta(days=per_days))
    recent = sorted(at for at in marketing_sends.values() if at > since)
    excess = len(recent) - max_messages
    if excess < 0:
        return now
    return parse_iso(recent[excess]) + timedelta(days=per_days)


def free_slots(marketing_sends: Mapping[str, str], now: datetime, max_messages: int, per_days: int) -> int:
    since = iso(now - timedelta(days=per_days))
    return max(0, max_messages - sum(1 for at in marketing_sends.values() if at > since))


@dataclass(frozen=True)
class Waiting:
    """A deferred e-mail as the release sees it."""

    key: str  # its idempotency key
    priority: int
    queued_at: datetime
    valid_until: datetime


def release_plan(waiting: Iterable[Waiting], slots: int, now: datetime) -> tuple[list[Waiting], list[Waiting], list[Waiting]]:
    """(release now, keep waiting, expired) for one customer's waiting e-mails and ``slots`` free
    slots: expired ones first out, then the highest priority (and, within one, the longest waiting)."""
    alive, expired = [], []
    for item in waiting:
        (expired if item.valid_until <= now else alive).append(item)
    alive.sort(key=lambda item: (item.priority, item.queued_at, item.key))
    return alive[:slots], alive[slots:], expired
