"""Money to minor units: one rule, half up (away from zero), wherever an amount is converted."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.program import ProgramRules, Tier
from chalicelib.domain.money import format_minor, to_minor
from tests.support.examples import examples


@pytest.mark.parametrize("amount, exponent, minor", [
    ("12.34", 2, 1234), ("0.125", 2, 13), ("0.135", 2, 14), ("2.5", 0, 3), ("3.5", 0, 4),
    ("-2.5", 0, -3), ("0.004", 2, 0), ("1E+2", 2, 10000), (Decimal("19.999"), 2, 2000), (7, 0, 7), ("0.0005", 3, 1),
])
def test_amounts_round_half_up(amount, exponent, minor):
    assert to_minor(amount, exponent) == minor


@pytest.mark.parametrize("amount", ["abc", "", "NaN", "Infinity", "1,5"])
def test_what_is_no_amount_is_refused(amount):
    with pytest.raises(ValueError):
        to_minor(amount, 2)


def test_the_programs_values_follow_the_same_rule():
    # Half a yen per point: 5 points are worth 2.5 yen, 3 yen half up (2 yen half-even).
    rules = ProgramRules(point_value=Decimal("0.5"), tiers=(Tier("Gold", Decimal("100.5"), Decimal("5")),))
    assert rules.redemption_value_minor(5, 0) == 3
    assert rules.redemption_value_minor(7, 0) == 4
    # A threshold of 100.5 yen is 101 yen: 100 spent is not Gold, 101 is.
    assert rules.standing(100, 0).tier is None and rules.standing(100, 0).spend_to_next_minor == 1
    assert rules.standing(101, 0).tier.name == "Gold"


def test_minor_units_read_back_as_the_amount():
    assert format_minor(to_minor("1234.56", 2), 2) == "1234.56"
    assert format_minor(to_minor("1234", 0), 0) == "1234"


def _to_minor_through_text(amount, exponent: int) -> int:
    """to_minor as it was: every amount through its text (the Decimal one too); an amount too large for
    the decimal context refused as out of range."""
    from decimal import ROUND_HALF_UP, InvalidOperation
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    try:
        return int((value.scaleb(exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:  # past the decimal context's 28 digits: refused as a bad amount
        raise ValueError(f"amount out of range: {amount!r}") from exc


def _outcome(convert, amount, exponent):
    try:
        return convert(amount, exponent)
    except Exception as error:  # noqa: BLE001 - refused alike, with the same message
        return type(error), str(error)


@settings(max_examples=examples(300))
@given(st.decimals(places=None) | st.decimals(min_value=-10 ** 13, max_value=10 ** 13, places=3) | st.integers()
       | st.decimals().map(str), st.sampled_from([0, 2, 3]))
def test_a_decimal_amount_converts_as_its_text_does(amount, exponent):
    """Decimals (NaN, signalling NaN, infinities, -0, huge exponents too) are converted as they
    are, not through their text: the same minor units, or the same refusal."""
    assert _outcome(to_minor, amount, exponent) == _outcome(_to_minor_through_text, amount, exponent)
