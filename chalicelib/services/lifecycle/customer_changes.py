"""One scheduled change to one customer: read, decide, commit with its e-mails, retry on a race.

Every daily job (expiry, expiry warnings, birthdays, win-back, tier at risk)
changes customers the same way: load the account, let a domain rule decide,
commit the account and the outbox messages the change owes in one
transaction, publish those messages; if another writer got there first, read
again and decide again.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from chalicelib.domain.loyalty.account import Account
from chalicelib.mail import outbox
from chalicelib.store.loyalty.repository import Change, ConcurrentChange, LoyaltyRepository

ATTEMPTS = 5
COMMITTED, UNCHANGED, MISSING, BUSY = "committed", "unchanged", "missing", "busy"


@dataclass(frozen=True)
class CustomerChange:
    status: str
    reads: int
    messages: list[dict] = field(default_factory=list)


def change_customer(deps, repo: LoyaltyRepository, customer_id: str, now: datetime,
                    decide: Callable[[Account], Optional[list[dict]]], *, with_lots: bool = True) -> CustomerChange:
    """``decide`` changes the account and returns the e-mails the change owes (maybe none),
    or None when there is nothing to do."""
    for attempt in range(1, ATTEMPTS + 1):
        account = repo.load_account(customer_id) if with_lots else repo.load_profile(customer_id)
        if account is None:
            return CustomerChange(MISSING, attempt)
        messages = decide(account)
        if messages is None:
            return CustomerChange(UNCHANGED, attempt)
        try:
            repo.commit(Change(account=account, outbox=messages), now)
        except ConcurrentChange:
            time.sleep(random.uniform(0, 0.01 * attempt))
            continue
        outbox.publish(deps, messages)
        return CustomerChange(COMMITTED, attempt, messages)
    return CustomerChange(BUSY, ATTEMPTS)
