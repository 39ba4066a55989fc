"""Rules rewritten for CPU keep their results: the largest-remainder split in integers is the
split in fractions, and an address's key ignores the same whitespace the regular expression did."""
from __future__ import annotations

import hashlib
import re
from fractions import Fraction

from hypothesis import given, strategies as st

from chalicelib.domain.loyalty.order_record import allocate
from chalicelib.domain.loyalty.referrals import address_key
from chalicelib.domain.platform_events import ShippingAddress


def allocate_in_fractions(total: int, weights: list[int]) -> list[int]:
    weight_sum = sum(weights)
    if total == 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [Fraction(total * w, weight_sum) for w in weights]
    parts = [x.numerator // x.denominator for x in exact]
    short = total - sum(parts)
    for i in sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))[:short]:
        parts[i] += 1
    return parts


@given(st.integers(-10**9, 10**9), st.lists(st.integers(-10**6, 10**8), min_size=1, max_size=30))
def test_allocate_is_the_largest_remainder_split_in_fractions(total, weights):
    assert allocate(total, weights) == allocate_in_fractions(total, weights)


def key_by_regex(address: ShippingAddress) -> str | None:
    parts = [re.sub(r"\s+", " ", (part or "")).strip().casefold()
             for part in (address.address1, address.city, address.zip, address.country)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24] if parts[0] else None


_TEXT = st.text(st.sampled_from(list("aB Ї\t\n\u00a0\u2003\u3000\x1c\x85ß-1")), max_size=12)


@given(_TEXT, _TEXT, _TEXT, _TEXT)
def test_an_address_key_ignores_the_whitespace_the_regex_ignored(street, city, zip_code, country):
    address = ShippingAddress(street, city, zip_code, country)
    assert address_key(address) == key_by_regex(address)
