"""Single-use reward codes: what a redemption turns points into."""
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


def new_code(prefix: str = REDEMPTION_PREFIX, groups: int = 3) -> str:
    """About 74 bits of randomness: unguessable, still easy to type."""
    parts = ["".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(groups)]
    return "-".join([prefix, *parts])


def looks_like_ours(code: str) -> bool:
    return code.upper().startswith(REDEMPTION_PREFIX + "-")


@dataclass
class RewardCode:
    code: str
    shop_id: str
    kind: str  # redemption
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
    version: int = 0

    def consume(self, order_id: str, now: datetime) -> bool:
        """Use the code for a paid order; False when it was not usable."""
        if self.status != ISSUED or self.consumed_by_order == order_id:
            return False
        self.status = CONSUMED
        self.consumed_by_order = order_id
        self.consumed_at = now
        return True

    def is_releasable(self, now: datetime) -> bool:
        return self.status == ISSUED and self.expires_at <= now
