"""What one order earned, line by line, and how much of it has been refunded.

Keeping the earning per line is what lets a refund of one line take back exactly
that line's share, and a full refund or cancellation take back exactly what the
order earned: reversals are computed from cumulative refunded shares, so the
rounding of partial refunds can never add up to more (or less) than the whole.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
import math
from typing import Optional

from chalicelib.domain.platform_events import Refund

OPEN, PAID, CANCELLED = "open", "paid", "cancelled"


@dataclass
class EarnedLine:
    line_id: str
    quantity: int
    spend_minor: int
    eligible_minor: int
    points: int
    cashback_minor: int
    refunded_quantity: int = 0
    refunded_amount_minor: int = 0

    def refunded_share(self) -> Fraction:
        share = Fraction(min(self.refunded_quantity, self.quantity), self.quantity) if self.quantity else Fraction(0)
        if self.spend_minor > 0:
            share += Fraction(self.refunded_amount_minor, self.spend_minor)
        elif self.refunded_amount_minor > 0:
            share = Fraction(1)
        return min(share, Fraction(1))

    def reversed_so_far(self) -> tuple[int, int, int]:
        """(points, cashback, spend) taken back by the refunds recorded so far."""
        if not self.refunded_quantity and not self.refunded_amount_minor:  # a share of 0 (most lines)
            return 0, 0, 0
        share = self.refunded_share()
        return (_floor(self.points * share), _floor(self.cashback_minor * share), _floor(self.spend_minor * share))

    @property
    def fully_refunded(self) -> bool:
        return self.refunded_share() >= 1


@dataclass(frozen=True)
class Reversal:
    points: int
    cashback_minor: int
    spend_minor: int

    @property
    def is_empty(self) -> bool:
        return not (self.points or self.cashback_minor or self.spend_minor)


@dataclass
class OrderRecord:
    shop_id: str
    order_id: str
    customer_id: Optional[str] = None
    status: str = OPEN
    name: str = ""
    lines: list[EarnedLine] = field(default_factory=list)
    applied_refunds: set[str] = field(default_factory=set)
    # Refunds that arrived before the order was paid (or before we saw it at all).
    pending_refunds: list[Refund] = field(default_factory=list)
    paid_at: Optional[datetime] = None
    # The day the order was paid: its spend counts in the tier window from then, and a refund
    # takes it back from that day (chalicelib.domain.loyalty.tier_window).
    spend_day: Optional[date] = None
    lot_id: Optional[str] = None
    counted: bool = False
    consumed_codes: list[str] = field(default_factory=list)
    # Codes the order carried that could not be used (already used, expired, below the
    # minimum order): code → reason. The platform took the order anyway; the shop sees why.
    refused_codes: dict[str, str] = field(default_factory=dict)
    # The click the order is owed to: {subject, send_key, clicked_at, revenue_minor}.
    attribution: Optional[dict] = None
    # The paid order's goods money as its lines earned it, and the tax that money left out (None:
    # not known, as for orders recorded before it was kept): what brings a refund's money, paid
    # back with tax, to the lines' net terms.
    goods_net_minor: int = 0
    goods_tax_minor: Optional[int] = None
    version: int = 0

    @property
    def earned_points(self) -> int:
        return sum(line.points for line in self.lines)

    @property
    def spend_minor(self) -> int:
        return sum(line.spend_minor for line in self.lines)

    @property
    def fully_refunded(self) -> bool:
        # Lines nobody paid for (free gifts, excluded gift cards) cannot be refunded by amount.
        paid_lines = [line for line in self.lines if line.spend_minor > 0] or self.lines
        return bool(paid_lines) and all(line.fully_refunded for line in paid_lines)

    def knows_refund(self, refund_id: str) -> bool:
        return refund_id in self.applied_refunds or any(r.refund_id == refund_id for r in self.pending_refunds)

    def record_refund(self, refund: Refund) -> Reversal:
        """Mark a refund's lines as refunded; returns what it takes back."""
        before = self._reversed_totals()
        by_id = {line.line_id: line for line in self.lines}
        for refund_line in refund.lines:
            line = by_id.get(refund_line.line_id)
            if line is None:
                continue  # e.g. a shipping-only or a non-goods line: nothing was earned on it
            line.refunded_quantity += refund_line.quantity
            line.refunded_amount_minor += refund_line.amount_minor
        if refund.amount_minor:
            self._spread_amount(self._goods_money(refund))
        self.applied_refunds.add(refund.refund_id)
        return self._since(before)

    def refund_everything(self) -> Reversal:
        before = self._reversed_totals()
        for line in self.lines:
            line.refunded_quantity = line.quantity
            line.refunded_amount_minor = line.spend_minor
        return self._since(before)

    def _goods_money(self, refund: Refund) -> int:
        """A refund's money as the lines count it. Money paid back with tax, where the lines earned
        on net, is brought to net with the order's own goods tax (1,366.02 paid back on goods of
        1,861.06 + 187.97 tax is 1,240.71 of spend). Without the tax known it stays as paid."""
        amount = refund.amount_minor
        if not refund.amount_with_tax or not self.goods_tax_minor or self.goods_net_minor <= 0:
            return amount
        # half up, as every amount becomes minor units (domain/money.py), not round()'s half to even
        return math.floor(Fraction(amount * self.goods_net_minor, self.goods_net_minor + self.goods_tax_minor)
                          + Fraction(1, 2))

    def _spread_amount(self, amount_minor: int) -> None:
        """Spread an amount over the lines by their spend (largest remainder)."""
        weights = [line.spend_minor for line in self.lines]
        for line, part in zip(self.lines, allocate(amount_minor, weights)):
            line.refunded_amount_minor += part

    def _reversed_totals(self) -> tuple[int, int, int]:
        totals = [line.reversed_so_far() for line in self.lines]
        return tuple(sum(t[i] for t in totals) for i in range(3))  # type: ignore[return-value]

    def _since(self, before: tuple[int, int, int]) -> Reversal:
        after = self._reversed_totals()
        return Reversal(after[0] - before[0], after[1] - before[1], after[2] - before[2])


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split an integer total in proportion to weights, exactly (largest remainder)."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum <= 0:
        return [0] * len(weights)
    # Each exact share is total·w / weight_sum: its floor and its remainder over the one common
    # denominator, in integers (as exact as fractions, without making one per line).
    shares = [divmod(total * w, weight_sum) for w in weights]
    parts = [floor for floor, _ in shares]
    short = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
    for i in by_remainder[:short]:
        parts[i] += 1
    return parts


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator
