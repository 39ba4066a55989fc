"""Reward codes, every kind the product issues, with one set of rules.

- redemption (``PTS-``): points turned into money off, or (a catalog reward, see
  chalicelib.domain.loyalty.rewards) into a percent off, free shipping or a free product, for
  some products only; single use; given back if unused.
- special day (``DAY-``): a campaign's discount and/or free shipping in a window; one
  shared code or one per customer.
- reward (``GIFT-``): a code a link or a flow gives (birthday, win-back, referral).
- referral (``REF-``): a customer's own code to share; shared, unlimited, gives a friend's
  first order a discount. Orders carrying it are not "consumed" from it: the referral
  record is its effect (chalicelib.domain.loyalty.referrals).
- cashback (``CASH-``): cashback wallet money turned into money off; single use; given
  back to the wallet if unused by its expiry.
- membership (``SHIP-``): a member's free-shipping code for one membership period.

Each code says what it gives (money, a discount percent, free shipping), how often
it may be used (``max_uses``: 1 for single use, None for unlimited shared codes),
from when until when, and the smallest order it applies to (``min_order_minor``).
A paid order that carries a usable code consumes one use in the order's own
transaction (the code's version is a condition), so two orders racing for the last
use of a code cannot both have it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional, Sequence

from chalicelib.domain.loyalty.account import Lot
from chalicelib.domain.platform_events import OrderLine

ISSUED, CONSUMED, RELEASED = "issued", "consumed", "released"
# No 0/O or 1/I/L: codes get read aloud and typed from e-mails.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REDEMPTION_PREFIX = "PTS"
SPECIAL_DAY_PREFIX = "DAY"
REWARD_PREFIX = "GIFT"
REFERRAL_PREFIX = "REF"
CASHBACK_PREFIX = "CASH"
MEMBERSHIP_PREFIX = "SHIP"
REDEMPTION, SPECIAL_DAY, REWARD = "redemption", "special_day", "reward"
REFERRAL, CASHBACK, MEMBERSHIP = "referral", "cashback", "membership"
PREFIXES = (REDEMPTION_PREFIX, SPECIAL_DAY_PREFIX, REWARD_PREFIX, REFERRAL_PREFIX, CASHBACK_PREFIX,
            MEMBERSHIP_PREFIX)
# Kinds whose discount at the checkout is the program's cost when an order uses them. Not
# redemption or cashback codes: their value was counted once already, as points redeemed (when the
# code was made) or as cashback credited.
DISCOUNT_COST_KINDS = frozenset({SPECIAL_DAY, REWARD, REFERRAL, MEMBERSHIP})
# Kinds whose unused value goes back to the customer at expiry (points or wallet money).
RETURNABLE = frozenset({REDEMPTION, CASHBACK})


def new_code(prefix: str = REDEMPTION_PREFIX, groups: int = 3) -> str:
    """About 74 bits of randomness: unguessable, still easy to type."""
    return code_from_number(prefix, groups, secrets.randbelow(len(_ALPHABET) ** (_GROUP * groups)))


_GROUP = 5  # characters a group


def code_from_number(prefix: str, groups: int, number: int) -> str:
    """The code whose characters are ``number``'s base-31 digits (least significant first). One
    uniform draw below 31 ** characters makes each character uniform and independent, as a
    ``secrets.choice`` per character did, with one read of the system's randomness instead of
    one per character (a new customer's referral code: 12 → 3.5 µs)."""
    base, characters = len(_ALPHABET), []
    for _ in range(_GROUP * groups):
        number, digit = divmod(number, base)
        characters.append(_ALPHABET[digit])
    text = "".join(characters)
    return "-".join([prefix, *(text[at:at + _GROUP] for at in range(0, len(text), _GROUP))])


def looks_like_ours(code: str) -> bool:
    return code.upper().startswith(tuple(prefix + "-" for prefix in PREFIXES))


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
    # What its redemption counts towards in the results (campaign:{id} or flow:{template}).
    subject: Optional[str] = None
    min_order_minor: int = 0
    # None: as often as anyone likes (shared codes); single-use codes have 1.
    max_uses: Optional[int] = 1
    # A catalog reward's code (chalicelib.domain.loyalty.rewards) or an individual offer: the
    # products it applies to (empty: all), the product it makes free, the reward it came from.
    product_skus: tuple[str, ...] = ()
    free_product_sku: Optional[str] = None
    reward_id: Optional[str] = None
    version: int = 0

    def __post_init__(self) -> None:
        if self.shared and self.max_uses == 1:
            self.max_uses = None

    def refusal(self, now: datetime, order_total_minor: Optional[int] = None) -> Optional[str]:
        """Why the code cannot be used now (for an order of that total), or None when it can."""
        if self.status != ISSUED:
            return f"the code was {self.status}"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "the code has been used"
        if self.kind not in RETURNABLE:  # these stay usable until they are released
            if self.starts_at and now < self.starts_at:
                return "the code is not valid yet"
            if now > self.expires_at:
                return "the code has expired"
        if order_total_minor is not None and order_total_minor < self.min_order_minor:
            return "the order is below the code's minimum"
        return None

    def qualifying_total(self, lines: Sequence[OrderLine], order_total_minor: int) -> tuple[int, Optional[str]]:
        """What of the order the code's minimum counts (the restricted products' lines, or the
        whole order), and why the order cannot use the code at all (None when it can)."""
        if self.free_product_sku and not any(line.sku == self.free_product_sku and line.quantity > 0
                                             for line in lines):
            return 0, f"the order does not contain the free product {self.free_product_sku}"
        if not self.product_skus:
            return order_total_minor, None
        eligible = [line for line in lines if line.sku in self.product_skus]
        if not eligible:
            return 0, "the order contains none of the products the code applies to"
        return sum(max(line.paid_minor, 0) for line in eligible), None

    def consume(self, order_id: str, now: datetime, order_total_minor: Optional[int] = None,
                lines: Optional[Sequence[OrderLine]] = None) -> Optional[str]:
        """Use the code for a paid order (its lines: for a code that applies to some products
        only). Returns None when used, else why not."""
        if self.consumed_by_order == order_id:
            return "already used by this order"
        if lines is not None and order_total_minor is not None:
            order_total_minor, reason = self.qualifying_total(lines, order_total_minor)
            if reason:
                return reason
        reason = self.refusal(now, order_total_minor)
        if reason:
            return reason
        self.uses += 1
        self.consumed_by_order = order_id
        self.consumed_at = now
        if self.max_uses is not None and self.uses >= self.max_uses:
            self.status = CONSUMED
        return None

    def is_releasable(self, now: datetime) -> bool:
        return self.kind in RETURNABLE and self.status == ISSUED and self.expires_at <= now
