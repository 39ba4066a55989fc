"""chalicelib/json_text.py writes json.dumps's own text, and fails where it fails, the same way."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.json_text import dumps, dumps_compact, dumps_text
from tests.support.examples import examples

AS_JSON_DUMPS = [(dumps, {}), (dumps_text, {"ensure_ascii": False}), (dumps_compact, {"separators": (",", ":")})]

# Odd values: any unicode (lone surrogates too), integers past 64 bits, floats with NaN and the
# infinities (json.dumps writes them), booleans next to integers, empty containers, tuples.
_scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2 ** 64, max_value=10 ** 40)
            | st.floats() | st.text() | st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20)


@settings(max_examples=examples(300), deadline=None)
@given(_values)
def test_the_text_is_json_dumps_own(value):
    for encode, options in AS_JSON_DUMPS:
        assert encode(value) == json.dumps(value, **options)


@pytest.mark.parametrize("encode, options", AS_JSON_DUMPS)
@pytest.mark.parametrize("value", [Decimal("1.5"), {"a": {1, 2}}, {("tuple", "key"): 1}, b"bytes"])
def test_what_json_cannot_hold_is_refused_as_json_dumps_refuses_it(encode, options, value):
    with pytest.raises(TypeError) as expected:
        json.dumps(value, **options)
    with pytest.raises(TypeError) as refused:
        encode(value)
    assert str(refused.value) == str(expected.value)


@pytest.mark.parametrize("encode, options", AS_JSON_DUMPS)
def test_a_circular_value_is_refused_and_the_next_value_still_written(encode, options):
    circular: dict = {"a": []}
    circular["a"].append(circular)
    with pytest.raises(ValueError, match="Circular reference detected"):
        encode(circular)
    shared = [1]
    assert encode({"x": shared, "y": shared}) == json.dumps({"x": shared, "y": shared}, **options)


def test_a_str_subclass_and_non_string_keys_are_written_as_json_dumps_writes_them():
    class Name(str):
        pass

    for encode, options in AS_JSON_DUMPS:
        for value in (Name("Олена"), {1: "a", 2.5: "b", True: None, None: 0}, "\u2028\ud800"):
            assert encode(value) == json.dumps(value, **options)
