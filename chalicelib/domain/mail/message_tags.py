"""The idempotency key of a send as an SES message tag, so that SES's events find the send log.

SES returns the tags a message was sent with in every event it publishes about it (``mail.tags``,
name → [values]). A tag value may hold only ASCII letters, digits, ``_`` and ``-``, at most 256 of
them; an idempotency key is any text without control characters (``post_purchase:1042``,
``special_day:c_2:2026``). The encoding keeps letters, digits and ``_`` as they are and writes
every other UTF-8 byte as ``-`` and two lowercase hex digits (``:`` → ``-3a``, ``-`` → ``-2d``):
exact both ways, readable in an event, and no longer than the key for the keys the service makes.
A key whose encoding would pass 256 characters gets no tag: its send keeps the SES id lookup item.
Pure: no I/O.
"""
from __future__ import annotations

import re
from typing import Optional

SEND_TAG = "send"  # the tag's name: the send's idempotency key, encoded
MAX_TAG_VALUE = 256  # SES: a tag value has at most 256 characters

_KEPT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_ENCODED = re.compile(r"(?:[A-Za-z0-9_]|-[0-9a-f]{2})+")


def encode_key(idempotency_key: str) -> Optional[str]:
    """The tag value that carries ``idempotency_key``, or None when it would not fit in a tag."""
    if not idempotency_key or len(idempotency_key) > MAX_TAG_VALUE:
        return None
    try:
        data = idempotency_key.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8, no tag
        return None
    value = "".join(chr(byte) if byte in _KEPT else f"-{byte:02x}" for byte in data)
    return value if len(value) <= MAX_TAG_VALUE else None


def decode_key(value: object) -> Optional[str]:
    """The idempotency key a tag value carries, or None when it is not one ``encode_key`` made
    (anything else in the tag is a stranger's: never guessed at)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TAG_VALUE or not _ENCODED.fullmatch(value):
        return None
    data = bytearray()
    position = 0
    while position < len(value):
        if value[position] == "-":
            data.append(int(value[position + 1:position + 3], 16))
            position += 3
        else:
            data.append(ord(value[position]))
            position += 1
    try:
        key = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return key if encode_key(key) == value else None  # one spelling per key
