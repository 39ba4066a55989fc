"""Signed links for e-mails: unsubscribe and preferences tokens.

A token names a shop and a customer (the customer id is already an opaque
HMAC of the e-mail, so no address is readable in a link), a purpose and when
it was issued, and is signed with HMAC-SHA256::

    base64url("v1\\n{shop}\\n{customer}\\n{purpose}\\n{issued unix}") "." base64url(HMAC(key, payload))

It is unguessable without the key, and any change to it (or a token signed
with another key) fails verification. Verification compares in constant time.

The key comes from ``LOYALTY_LINK_SIGNING_KEY`` locally; deployed stages read it
from their Secrets Manager secret (``LOYALTY_LINK_SIGNING_KEY_SECRET_ARN``, see
``chalicelib.secrets``), where ``{"current": ..., "previous": ...}`` keeps links
in mail already sent working across one key rotation (locally:
``LOYALTY_LINK_SIGNING_KEY_PREVIOUS``). The local default below is a fixed
development key and must never be used for real mail.

Unsubscribe links do not expire: RFC 8058 and the mailbox providers expect an
old message's link to keep working.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from chalicelib import secrets

DEV_SIGNING_KEY = "local-dev-link-signing-key-not-for-production"
UNSUBSCRIBE = "unsubscribe"
_VERSION = "v1"
_MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class LinkToken:
    shop_id: str
    customer_id: str
    purpose: str
    issued_at: datetime


def signing_keys() -> tuple[bytes, ...]:
    """The current key first, then the previous one (verification only)."""
    keys = secrets.values("LOYALTY_LINK_SIGNING_KEY", DEV_SIGNING_KEY)
    if not keys:
        raise secrets.SecretUnavailable("LOYALTY_LINK_SIGNING_KEY is not configured")
    return tuple(key.encode() for key in keys)


def make_token(shop_id: str, customer_id: str, *, purpose: str = UNSUBSCRIBE,
               issued_at: Optional[datetime] = None) -> str:
    for part in (shop_id, customer_id, purpose):
        if not part or "\n" in part:
            raise ValueError("token parts must be non-empty single-line strings")
    issued = int((issued_at or datetime.now(timezone.utc)).timestamp())
    payload = _b64encode(f"{_VERSION}\n{shop_id}\n{customer_id}\n{purpose}\n{issued}".encode())
    return f"{payload}.{_b64encode(_sign(signing_keys()[0], payload))}"


def read_token(token: Optional[str], *, purpose: str = UNSUBSCRIBE) -> Optional[LinkToken]:
    """The token's contents when it is intact, signed with a known key and for
    ``purpose``; otherwise None (no reason is given to the caller)."""
    if not token or len(token) > _MAX_TOKEN_LENGTH or not token.isascii() or token.count(".") != 1:
        return None
    payload, _, signature_text = token.partition(".")
    try:
        signature = _b64decode(signature_text)
    except (binascii.Error, ValueError):
        return None
    if not any(hmac.compare_digest(_sign(key, payload), signature) for key in signing_keys()):
        return None
    try:
        version, shop_id, customer_id, token_purpose, issued = _b64decode(payload).decode("utf-8").split("\n")
        issued_at = datetime.fromtimestamp(int(issued), tz=timezone.utc)
    except (binascii.Error, ValueError, UnicodeDecodeError, OverflowError, OSError):
        return None
    if version != _VERSION or token_purpose != purpose:
        return None
    return LinkToken(shop_id, customer_id, token_purpose, issued_at)


def _sign(key: bytes, payload: str) -> bytes:
    return hmac.new(key, b"loyalty-link|" + payload.encode("ascii"), hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
