"""Money as integer minor units; Decimal only at the edges.

One rule turns an amount into minor units everywhere (platform payloads, exports, tier thresholds,
redemption and referral values, samples): ``to_minor``, rounding half up (away from zero), as the
ledger's entries are written. Earning is not a conversion: points and cashback round down
(domain/loyalty/rules.py)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def to_minor(amount, exponent: int) -> int:
    """Decimal string/number in major units → integer minor units, half up: 0.125 at exponent 2 → 13."""
    if amount.__class__ is Decimal:  # (Decimal(str(d)) is d again: a payload's amounts come as Decimals)
        value = amount
    else:
        try:
            value = Decimal(str(amount))
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    try:
        return int(value.scaleb(exponent).quantize(_ONE, rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:  # more digits than the decimal context holds (28)
        raise ValueError(f"amount out of range: {amount!r}") from exc


_ONE = Decimal(1)


def from_minor(minor: int, exponent: int) -> Decimal:
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def format_minor(minor: int, exponent: int) -> str:
    """Plain decimal string for APIs: 1234 with exponent 2 → "12.34"."""
    return str(from_minor(minor, exponent))
