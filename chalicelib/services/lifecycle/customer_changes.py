"""One scheduled change to one customer: read, decide, commit with its e-mails, retry on a race.

Every daily job (expiry, expiry warnings, birthdays, win-back, tier at risk)
changes customers the same way: load the account, let a domain rule decide,
commit the account and the outbox messages the change owes in one
transaction, publish those messages; if another writer got there first, read
again and decide again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from chalicelib.domain.loyalty.account import Account
from chalicelib.mail import outbox
from chalicelib.services.retries import retry_on_conflict
from chalicelib.store.loyalty.repository import Change, LoyaltyRepository

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
    reads = 0

    def attempt() -> CustomerChange:
        nonlocal reads
        reads += 1
        account = repo.load_account(customer_id) if with_lots else repo.load_profile(customer_id)
        if account is None:
            return CustomerChange(MISSING, reads)
        messages = decide(account)
        if messages is None:
            return CustomerChange(UNCHANGED, reads)
        repo.commit(Change(account=account, outbox=messages), now)
        outbox.publish(deps, messages)
        return CustomerChange(COMMITTED, reads, messages)

    return retry_on_conflict(attempt, attempts=ATTEMPTS, exhausted=lambda: CustomerChange(BUSY, reads))
