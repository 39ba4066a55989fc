"""Abuse limits: how many requests one client address or one key may make per window.

A limit is a fixed window: at most ``count`` requests in each ``seconds``-long window
(windows start at multiples of ``seconds`` since the Unix epoch, the same for every Lambda
instance). A client can at most double the rate across one window boundary; for the
purpose (stopping brute force and floods) that is enough, and it costs one conditional
write per check (``chalicelib.store.access.rate_counters``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

# What is limited, and per what.
LOOKUP = "lookup"  # storefront: a customer's account and history
CODE_CHECK = "code_check"  # storefront: GET /shops/{shop}/codes/{code} (guessing codes)
REDEEM = "redeem"  # storefront: redemptions, cashback codes, withdrawals (money moves)
SIGN_IN = "sign_in"  # POST /admin/session (guessing keys)
ADMIN = "admin"  # every admin API request (Bearer token or workspace session)
PER_ADDRESS = "address"  # the client's address as API Gateway saw it (never X-Forwarded-For)
PER_KEY = "key"  # the storefront key; for sign-in, the shop the presented key names (or the admin token)


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    def __post_init__(self):
        if self.count < 1 or self.seconds < 1:
            raise ValueError("a limit needs at least 1 request in at least 1 second")

    def window(self, now: datetime) -> "Window":
        moment = now.timestamp()
        index = math.floor(moment / self.seconds)
        ends = (index + 1) * self.seconds
        return Window(index=index, ends_at=ends, retry_after=max(1, math.ceil(ends - moment)))

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}"


@dataclass(frozen=True)
class Window:
    index: int  # which window since the epoch
    ends_at: int  # Unix seconds
    retry_after: int  # whole seconds until the next window, at least 1


DEFAULTS: dict[tuple[str, str], Limit] = {
    (LOOKUP, PER_KEY): Limit(1200, 60),
    (LOOKUP, PER_ADDRESS): Limit(1200, 60),
    (CODE_CHECK, PER_KEY): Limit(300, 60),
    (CODE_CHECK, PER_ADDRESS): Limit(300, 60),
    (REDEEM, PER_KEY): Limit(120, 60),
    (REDEEM, PER_ADDRESS): Limit(120, 60),
    (SIGN_IN, PER_ADDRESS): Limit(10, 300),
    (SIGN_IN, PER_KEY): Limit(100, 300),
    (ADMIN, PER_ADDRESS): Limit(600, 60),
}


def variable_name(action: str, scope: str) -> str:
    """The environment variable that overrides one limit: ``LOYALTY_LIMIT_CODE_CHECK_PER_KEY``."""
    return f"LOYALTY_LIMIT_{action.upper()}_PER_{scope.upper()}"


def parse_limit(text: str, name: str) -> Optional[Limit]:
    """``"120/60"`` (120 requests per 60 seconds), or ``off``. Anything else is a configuration
    error that names the variable."""
    value = text.strip().lower()
    if value in ("off", "none", "0"):
        return None
    count, slash, seconds = value.partition("/")
    try:
        if not slash:
            raise ValueError
        return Limit(int(count), int(seconds))
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected COUNT/SECONDS (e.g. 120/60) or off") from None


def configured(environ: dict[str, str]) -> dict[tuple[str, str], Optional[Limit]]:
    """Every limit: the default, unless its variable says otherwise (None: off)."""
    limits: dict[tuple[str, str], Optional[Limit]] = dict(DEFAULTS)
    for action, scope in DEFAULTS:
        name = variable_name(action, scope)
        if environ.get(name, "").strip():
            limits[(action, scope)] = parse_limit(environ[name], name)
    return limits
