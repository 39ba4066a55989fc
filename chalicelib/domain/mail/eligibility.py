"""May this person get this e-mail? The one answer, for every sender.

Any e-mail needs a known, unredacted customer with an address. A marketing e-mail also needs
the customer's marketing consent as the shop's platform last stated it, no unsubscribe from
our own pages, and room under the shop's marketing cap (at most ``max_messages`` marketing
e-mails within ``per_days``; a message already counted, when it is retried, keeps its place).
The sender (services/mail/mailer.py) asks ``refusal``; the segment field ``marketing_consent``
counts by ``has_marketing_consent``. Pure: the caller passes the time.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Mapping, Optional, Protocol

from chalicelib.domain.timestamps import iso


class MarketingCap(Protocol):  # chalicelib.domain.shops.shop.MarketingCap
    max_messages: int
    per_days: int


class Recipient(Protocol):
    email: Optional[str]
    redacted: bool
    marketing_consent: Optional[bool]


def has_marketing_consent(account: Recipient) -> bool:
    """The customer said yes to marketing, and is not erased."""
    return account.marketing_consent is True and not account.redacted


def refusal(account: Optional[Recipient], *, marketing: bool, unsubscribed: bool, marketing_sends: Mapping[str, str],
            cap: MarketingCap, now: datetime, idempotency_key: str) -> Optional[str]:
    """Why this e-mail may not go to this person (the reason its send log records), or None."""
    if account is None:
        return "unknown_customer"
    if account.redacted:
        return "redacted"
    if not account.email:
        return "no_email"
    if not marketing:
        return None
    if not has_marketing_consent(account):
        return "no_consent"
    if unsubscribed:
        return "unsubscribed"
    recent = sends_within(marketing_sends, now, cap.per_days)
    if len(recent) >= cap.max_messages and send_slot(idempotency_key) not in recent:
        return "marketing_cap"
    return None


def send_slot(idempotency_key: str) -> str:
    """The key under which a marketing send counts toward the cap (no raw key stored twice)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def sends_within(marketing_sends: Mapping[str, str], now: datetime, days: int) -> dict[str, str]:
    """The marketing sends (slot → fixed-width UTC time) inside the cap's window ending ``now``."""
    since = iso(now - timedelta(days=days))
    return {slot: at for slot, at in marketing_sends.items() if at > since}


def counted(marketing_sends: Mapping[str, str], now: datetime, days: int, idempotency_key: str) -> dict[str, str]:
    """The sends to store once this one is claimed: the window's, with this one (a retry keeps its first time)."""
    recent = sends_within(marketing_sends, now, days)
    slot = send_slot(idempotency_key)
    recent.setdefault(slot, marketing_sends.get(slot) or iso(now))
    return recent

