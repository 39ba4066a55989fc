"""Reward codes: what a redemption turns points into (single use, given back if
unused), and the special-day codes of a campaign (a window of validity, a
discount and/or free shipping; one shared code or one per customer)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from chalicelib.domain.account import Lot

ISSUED, CONSUMED, RELEASED = "issued", "consumed", "released"
# No 0/O or 1/I/L: codes get read aloud and typed from e-mails.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REDEMPTION_PREFIX = "PTS"
SPECIAL_DAY_PREFIX = "DAY"
REDEMPTION, SPECIAL_DAY = "redemption", "special_day"


def new_code(prefix: str = REDEMPTION_PREFIX, groups: int = 3) -> str:
    """About 74 bits of randomness: unguessable, still easy to type."""
    parts = ["".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(groups)]
    return "-".join([prefix, *parts])


def looks_like_ours(code: str) -> bool:
    return code.upper().startswith((REDEMPTION_PREFIX + "-", SPECIAL_DAY_PREFIX + "-"))


@dataclass
class RewardCode:
    code: str
    shop_id: str
    kind: str  # redemption | special_day
    customer_id: Optional[str]
    value_minor: int
    points: int
    created_at: datetime
    expires_at: datetime
    status: str = ISSUED
    # The lot portions the redemption took, to give back exactly if unused.
    portions: list[Lot] = field(default_factory=list)
    consumed_by_order: Optional[str] = None
    consumed_at: Optional[datetime] = None
    # Special days: from when the code works, what it gives, whether many may use it.
    starts_at: Optional[datetime] = None
    discount_percent: Optional[str] = None
    free_shipping: bool = False
    shared: bool = False
    uses: int = 0
    campaign_id: Optional[str] = None
    version: int = 0

    def refusal(self, now: datetime) -> Optional[str]:
        """Why the code cannot be used now, or None when it can."""
        if self.status != ISSUED:
            return f"the code was {self.status}"
        if self.kind == SPECIAL_DAY:  # redemption codes stay usable until they are released
            if self.starts_at and now < self.starts_at:
                return "the code is not valid yet"
            if now > self.expires_at:
                return "the code has expired"
        return None

    def consume(self, order_id: str, now: datetime) -> bool:
        """Use the code for a paid order; False when it was not usable."""
        if self.refusal(now) or self.consumed_by_order == order_id:
            return False
        self.uses += 1
        self.consumed_by_order = order_id
        self.consumed_at = now
        if not self.shared:
            self.status = CONSUMED
        return True

    def is_releasable(self, now: datetime) -> bool:
        return self.kind == REDEMPTION and self.status == ISSUED and self.expires_at <= now
