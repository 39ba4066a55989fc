"""t() remembers a text by its key and values only where equal values mean the same text."""
from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.mail.formatting import FormatError, Formatter


@pytest.fixture
def fmt():
    return Formatter("en", "EUR", 2, "UTC")  # its own memo, not the process's cached formatter


def test_equal_values_of_other_types_keep_their_own_texts(fmt):
    values = (1, True, Decimal("1.0"), Decimal("1.5"), "1", 1, True)
    shown = [fmt.t("post_purchase.eyebrow", order=value) for value in values]
    assert shown == [Formatter("en", "EUR", 2, "UTC").t("post_purchase.eyebrow", order=value) for value in values]
    assert shown[1] == "Order True" and shown[0] == "Order 1"  # True == 1, hash(True) == hash(1)
    assert fmt.points(1) == "1 point" and fmt.points(2) == "2 points" and fmt.points(1) == "1 point"


def test_a_remembered_text_is_the_text_made_anew(fmt):
    first = fmt.t("common.balance_now", points=fmt.points(1240), value=fmt.money(62_000))
    again = fmt.t("common.balance_now", points=fmt.points(1240), value=fmt.money(62_000))
    fresh = Formatter("en", "EUR", 2, "UTC").t("common.balance_now", points="1,240 points", value="€620.00")
    assert first == again == fresh


def test_long_values_and_failures_are_not_remembered(fmt):
    long_name = "x" * 5_000
    assert long_name in fmt.t("post_purchase.eyebrow", order=long_name)
    assert fmt._texts_memo == {}
    with pytest.raises(FormatError):
        fmt.t("post_purchase.eyebrow")  # needs {order}
    with pytest.raises(FormatError):
        fmt.t("common.points")  # needs count
    assert fmt._texts_memo == {}


def test_amounts_and_numbers_are_remembered_as_shown_and_refusals_stay(fmt):
    for _ in range(2):
        assert fmt.money(379_900) == "€3,799.00" and fmt.money(-1_050) == "-€10.50" and fmt.money(0) == "€0.00"
        assert fmt.number(1_240) == "1,240" and fmt.number(Decimal("1.50")) == "1.5"
    with pytest.raises(FormatError):
        fmt.money(True)
    with pytest.raises(FormatError):
        fmt.number(False)
