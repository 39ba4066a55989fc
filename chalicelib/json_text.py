"""``json.dumps``'s exact text for the hot paths, without its per-call set-up.

``json.dumps(value, <an option>)`` builds a ``JSONEncoder`` on every call, and every
``JSONEncoder.encode`` builds its C encoder again (and a float formatter it does not use) before it
encodes anything: about 1–2 µs a value, twice the encoding itself for a small object. A paid
order's webhook encodes a dozen (the stored JSON attributes, the metric line, the read's request
body). Here each kind of encoder's settings are fixed once and each call makes only the C
encoder, with its own circular-reference markers as ``iterencode`` makes them, so the text, the
errors (``TypeError`` for what JSON cannot hold, ``ValueError`` for a circular value) and the
thread-safety are ``json.dumps``'s own. tests/unit/test_json_text.py holds them equal.
"""
from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
from typing import Any, Callable


def _dumps_of(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode``, its C encoder's settings taken once (the pure-Python encoder where the
    C one is missing)."""
    if c_make_encoder is None or encoder.indent is not None:
        return encoder.encode
    escape = encode_basestring_ascii if encoder.ensure_ascii else encode_basestring
    settings = (encoder.default, escape, None, encoder.key_separator, encoder.item_separator, encoder.sort_keys,
                encoder.skipkeys, encoder.allow_nan)
    circular = encoder.check_circular
    join = "".join

    def dumps(value: Any) -> str:
        if value.__class__ is str:  # (encode's own shortcut for a string)
            return escape(value)
        return join(c_make_encoder({} if circular else None, *settings)(value, 0))

    return dumps


# json.dumps(value)
dumps = _dumps_of(json.JSONEncoder())
# json.dumps(value, ensure_ascii=False)
dumps_text = _dumps_of(json.JSONEncoder(ensure_ascii=False))
# json.dumps(value, separators=(",", ":"))
dumps_compact = _dumps_of(json.JSONEncoder(separators=(",", ":")))
