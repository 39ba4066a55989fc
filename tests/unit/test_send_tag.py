"""domain/mail/message_tags.py: the idempotency key carried in an SES message tag, exact both ways and
within SES's rules for a tag value (ASCII letters, digits, ``_``, ``-``; at most 256 characters)."""
from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from chalicelib.domain.mail.message_tags import MAX_TAG_VALUE, decode_key, encode_key
from chalicelib.mail.messenger import sanitize_tag
from tests.support.examples import examples

_SES_TAG_VALUE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# what a queue message's idempotency key may be (services/mail/mailer.py: 1-512 characters, no control characters)
_KEYS = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=512)


@settings(max_examples=examples(400))
@given(_KEYS)
def test_any_key_round_trips_or_gets_no_tag_when_too_long(key):
    value = encode_key(key)
    if value is None:
        assert sum(1 if ch.isascii() and (ch.isalnum() or ch == "_") else 3 * len(ch.encode()) for ch in key) \
            > MAX_TAG_VALUE
        return
    assert _SES_TAG_VALUE.fullmatch(value)
    assert sanitize_tag(value) == value  # the SES adapter sends it as it is
    assert decode_key(value) == key


@given(_KEYS, _KEYS)
def test_two_keys_never_share_a_tag(one, other):
    if one != other and encode_key(one) is not None:
        assert encode_key(one) != encode_key(other)


def test_the_keys_the_service_makes_read_as_they_are():
    assert encode_key("post_purchase:1042") == "post_purchase-3a1042"
    assert encode_key("special_day:c_2:2026-12-07") == "special_day-3ac_2-3a2026-2d12-2d07"
    assert encode_key("Дякую") == "-d0-94-d1-8f-d0-ba-d1-83-d1-8e"
    assert decode_key("special_day-3ac_2-3a2026-2d12-2d07") == "special_day:c_2:2026-12-07"


def test_a_key_at_the_limit_has_a_tag_one_past_it_has_none():
    assert decode_key(encode_key("k" * 256)) == "k" * 256
    assert encode_key("k" * 257) is None
    assert encode_key(":" * 85) is not None and encode_key(":" * 86) is None  # 3 characters each
    assert encode_key("") is None
    assert encode_key("order:\ud800") is None  # a lone surrogate (JSON can carry one) has no UTF-8: the lookup


def test_a_value_no_key_was_encoded_to_is_refused():
    for value in ("", "-", "-3", "-3A", "-zz", "a-", "abc def", "a:b", "-ff", "-d0", "-61", "x" * 257, None, 7,
                  ["post_purchase-3a1"]):
        assert decode_key(value) is None, value
