"""Abuse limits: storefront lookups, code checks, redemptions, workspace sign-in, the admin API.

Each check counts the request in a shared DynamoDB counter (one conditional UpdateItem,
``chalicelib.store.access.rate_counters``) and refuses with 429 and ``Retry-After`` once the window
is full. Addresses and keys are counted as hashes: no address is stored in the clear. The
limits and their defaults: ``chalicelib.domain.access.limits`` (docs/security.md, "Abuse limits").
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Optional

from chalicelib.domain.access import limits
from chalicelib.errors import TooManyRequests
from chalicelib.store.access.rate_counters import RateCounters

_WHAT = {limits.LOOKUP: "customer lookups", limits.CODE_CHECK: "code checks", limits.REDEEM: "redemptions",
         limits.SIGN_IN: "sign-in attempts", limits.ADMIN: "admin requests"}
_PER = {limits.PER_ADDRESS: "from this address", limits.PER_KEY: "with this key"}


def enforce(deps, action: str, scope: str, subject: Optional[str], *, now: Optional[datetime] = None,
            configured: Optional[dict] = None, counters: Optional[RateCounters] = None) -> None:
    """Count one request of ``action`` by ``subject`` (an address or a key); 429 when over the limit."""
    limit = (configured if configured is not None else deps.config.limits).get((action, scope))
    if limit is None or not subject:
        return
    window = limit.window(now or deps.clock())
    name = f"{action}#{scope}#{_digest(scope, subject)}"
    if not (counters or deps.repos.rate_counters()).take(name, window.index, limit.count, window.ends_at):
        raise TooManyRequests(f"too many {_WHAT[action]} {_PER[scope]}: at most {limit.count} per "
                              f"{limit.seconds} s; try again in {window.retry_after} s",
                              retry_after=window.retry_after)


def _digest(scope: str, subject: str) -> str:
    return hashlib.sha256(f"{scope}|{subject}".encode()).hexdigest()[:32]
