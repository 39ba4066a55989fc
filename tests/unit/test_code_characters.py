"""A new code's characters: one uniform draw read as base-31 digits is a uniform, independent
choice per character, over exactly the codes a choice per character could make."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty import codes
from chalicelib.domain.loyalty.codes import REFERRAL_PREFIX, code_from_number, new_code
from tests.support.examples import examples

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def test_the_draw_covers_every_code_and_no_more(monkeypatch):
    bounds = []

    def drawn(bound):
        bounds.append(bound)
        return bound - 1  # the largest it can draw

    monkeypatch.setattr(codes.secrets, "randbelow", drawn)
    assert new_code() == "PTS-99999-99999-99999" and new_code(REFERRAL_PREFIX, groups=2) == "REF-99999-99999"
    assert bounds == [31 ** 15, 31 ** 10]
    assert code_from_number("PTS", 3, 0) == "PTS-AAAAA-AAAAA-AAAAA"
    assert code_from_number("PTS", 1, 1 + 2 * 31 + 30 * 31 ** 4) == "PTS-BCAA9"


@settings(max_examples=examples(200))
@given(st.integers(0, 31 ** 10 - 1), st.integers(0, 31 ** 10 - 1))
def test_each_number_is_its_own_code_and_each_digit_its_own_character(first, second):
    """A bijection between the numbers drawn and the codes: uniform numbers are uniform codes."""
    code = code_from_number("REF", 2, first)
    assert re.fullmatch(r"REF-[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}", code)
    characters = code[4:].replace("-", "")
    assert sum(ALPHABET.index(char) * 31 ** at for at, char in enumerate(characters)) == first
    assert (code == code_from_number("REF", 2, second)) == (first == second)


def test_new_codes_are_new():
    made = {new_code() for _ in range(1000)}
    assert len(made) == 1000 and all(re.fullmatch(r"PTS(-[A-HJKMNP-Z2-9]{5}){3}", code) for code in made)
