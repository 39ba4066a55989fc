"""Webhook signatures: the one place that computes and checks HMACs.

Every check runs on the raw body bytes exactly as received (re-serialising
parsed JSON would change them) and compares with ``hmac.compare_digest``.
Error messages name the header, never a secret or an expected signature.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timezone
from typing import Iterable, Optional

from chalicelib.errors import Unauthorized

GENERIC_TOLERANCE_SECONDS = 300

_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def _hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def _base64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(_hmac_sha256(secret, body)).decode("ascii")


def sign_shopify(secret: str, body: bytes) -> str:
    """Value of ``X-Shopify-Hmac-Sha256`` for ``body``."""
    return _base64_hmac(secret, body)


def sign_woocommerce(secret: str, body: bytes) -> str:
    """Value of ``X-WC-Webhook-Signature`` for ``body``."""
    return _base64_hmac(secret, body)


def _generic_digest(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def sign_generic(secret: str, body: bytes, t: int) -> str:
    """Value of ``X-Loyalty-Signature`` for ``body`` sent at unix time ``t``."""
    return f"t={t},v1={_generic_digest(secret, body, t)}"


def _usable(secrets: Iterable[str]) -> list[str]:
    # An empty key is an HMAC anyone can compute: never accept it.
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise Unauthorized("no webhook secret is configured for this shop")
    return usable


def _as_bytes(text: str) -> bytes:
    # compare_digest refuses non-ASCII str; bytes compare safely whatever was sent.
    return text.strip().encode("utf-8", "replace")


def verify_base64_signature(secrets: Iterable[str], body: bytes, signature: Optional[str], *, header: str) -> None:
    """Shopify / WooCommerce style: base64(HMAC-SHA256(secret, body))."""
    if not signature or not signature.strip():
        raise Unauthorized(f"missing {header} header")
    received = _as_bytes(signature)
    if not any(hmac.compare_digest(_base64_hmac(secret, body).encode("ascii"), received) for secret in _usable(secrets)):
        raise Unauthorized(f"{header} signature does not match the body")


def _parse_generic_header(value: str, header: str) -> tuple[int, list[str]]:
    malformed = Unauthorized(f"malformed {header} header; expected t=<unix seconds>,v1=<hex>")
    timestamp: Optional[int] = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            raise malformed
        if key == "t":
            if timestamp is not None or not _UNIX_SECONDS.fullmatch(item):
                raise malformed
            timestamp = int(item)
        elif key == "v1":
            signatures.append(item.lower())
        # Other schemes are skipped so a future v2 can be sent alongside v1.
    if timestamp is None or not signatures:
        raise malformed
    return timestamp, signatures


def verify_generic_signature(
    secrets: Iterable[str],
    body: bytes,
    header_value: Optional[str],
    now: datetime,
    *,
    header: str,
    tolerance_seconds: int = GENERIC_TOLERANCE_SECONDS,
) -> None:
    """``t=<unix>,v1=<hex>`` over ``f"{t}." + body``; several v1 entries allowed."""
    if not header_value or not header_value.strip():
        raise Unauthorized(f"missing {header} header")
    timestamp, signatures = _parse_generic_header(header_value, header)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise Unauthorized(f"{header} timestamp is more than {tolerance_seconds} s away from now (replayed or clock skew)")
    received = [_as_bytes(signature) for signature in signatures]
    for secret in _usable(secrets):
        expected = _generic_digest(secret, body, timestamp).encode("ascii")
        if any(hmac.compare_digest(expected, candidate) for candidate in received):
            return
    raise Unauthorized(f"{header} signature does not match the body")
