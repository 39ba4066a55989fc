"""Signed links for e-mails: unsubscribe and preferences tokens, and tracked links.

A token names a shop and a customer (the customer id is already an opaque
HMAC of the e-mail, so no address is readable in a link), a purpose and when
it was issued, and is signed with HMAC-SHA256::

    base64url("v1\\n{shop}\\n{customer}\\n{purpose}\\n{issued unix}") "." base64url(HMAC(key, payload))

It is unguessable without the key, and any change to it (or a token signed
with another key) fails verification. Verification compares in constant time.

A ``LinkSigner`` is built once per cold start by the composition root with the keys and the
clock. The key comes from ``LOYALTY_LINK_SIGNING_KEY`` locally; deployed stages read it
from their Secrets Manager secret (``LOYALTY_LINK_SIGNING_KEY_SECRET_ARN``, see
``chalicelib.secrets``), where ``{"current": ..., "previous": ...}`` keeps links
in mail already sent working across one key rotation (locally:
``LOYALTY_LINK_SIGNING_KEY_PREVIOUS``). The local default below is a fixed
development key and must never be used for real mail: it applies only on the local stack
(``LOYALTY_LOCAL_STACK=1``); anywhere else without a configured key, signing and
verifying raise ``SecretUnavailable``.

Unsubscribe links do not expire: RFC 8058 and the mailbox providers expect an
old message's link to keep working. An unsubscribe token may also name what the
message counts towards (``campaign:{id}`` or ``flow:{template}``), so an
unsubscribe is counted in that campaign's results.

Tracked links (``/r/{token}``) carry their whole definition, signed the same way
under another label, so a link costs no write when the e-mail is sent: the shop,
the customer, the send's idempotency key and what it counts towards, the
destination, when the link stops working, and optionally a reward (a code that
lands applied, or bonus points claimed once).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Optional, Sequence

UNSUBSCRIBE = "unsubscribe"
_VERSION = "v1"
_MAX_TOKEN_LENGTH = 512


_SHOP_PREFIX = re.compile(r'^\{"s":"([a-z0-9][a-z0-9_-]{0,63})"')
_MAX_TRACKED_LENGTH = 2048


@dataclass(frozen=True)
class LinkToken:
    shop_id: str
    customer_id: str
    purpose: str
    issued_at: datetime
    subject: Optional[str] = None  # what an unsubscribe counts towards


@dataclass(frozen=True)
class TrackedLink:
    shop_id: str
    customer_id: str
    send_key: str
    subject: str  # campaign:{id} or flow:{template}
    url: str
    expires_at: datetime
    # {"code": "DAY-…"} or {"points": 50, "reward_id": "campaign:abc"}; None: a plain link
    reward: Optional[dict[str, Any]] = None


@dataclass(frozen=True)
class RecipientConfirmation:
    """A link that confirms an address as a shop's test recipient (``/test-recipients/confirm/{token}``)."""

    shop_id: str
    email: str
    nonce: str  # the listed address's: removing and adding it again voids older links
    expires_at: datetime


_CONFIRMATION_LABEL = b"loyalty-test-recipient|"


class LinkSigner:
    """Signs and verifies every token a mail carries, with the current key (the previous one
    still verifies) and the clock the composition root gives it."""

    def __init__(self, keys: Callable[[], Sequence[bytes]], clock: Callable[[], datetime]):
        self._keys = keys
        self._clock = clock

    def keys(self) -> tuple[bytes, ...]:
        """The keys in use, the current one first (raises ``SecretUnavailable`` when none is configured)."""
        return tuple(self._keys())

    def make_token(self, shop_id: str, customer_id: str, *, purpose: str = UNSUBSCRIBE,
                   issued_at: Optional[datetime] = None, subject: Optional[str] = None) -> str:
        for part in (shop_id, customer_id, purpose, *([subject] if subject is not None else [])):
            if not part or "\n" in part:
                raise ValueError("token parts must be non-empty single-line strings")
        issued = int((issued_at or self._clock()).timestamp())
        fields = [_VERSION, shop_id, customer_id, purpose, str(issued)] + ([subject] if subject else [])
        payload = _b64encode("\n".join(fields).encode())
        return f"{payload}.{_b64encode(_sign(self._keys()[0], payload))}"

    def read_token(self, token: Optional[str], *, purpose: str = UNSUBSCRIBE) -> Optional[LinkToken]:
        """The token's contents when it is intact, signed with a known key and for
        ``purpose``; otherwise None (no reason is given to the caller)."""
        payload = self._verified_payload(token, _MAX_TOKEN_LENGTH, b"loyalty-link|")
        if payload is None:
            return None
        try:
            version, shop_id, customer_id, token_purpose, issued, *rest = payload.decode("utf-8").split("\n")
            issued_at = datetime.fromtimestamp(int(issued), tz=timezone.utc)
        except (ValueError, UnicodeDecodeError, OverflowError, OSError):
            return None
        if version != _VERSION or token_purpose != purpose or len(rest) > 1:
            return None
        return LinkToken(shop_id, customer_id, token_purpose, issued_at, rest[0] if rest else None)

    def make_tracked_link(self, link: TrackedLink) -> str:
        fields = {"s": link.shop_id, "c": link.customer_id, "k": link.send_key, "j": link.subject, "u": link.url,
                  "x": int(link.expires_at.timestamp())}
        if link.reward:
            fields["r"] = link.reward
        payload = _b64encode(json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{payload}.{_b64encode(_sign(self._keys()[0], payload, b'loyalty-click|'))}"

    def read_tracked_link(self, token: Optional[str]) -> Optional[TrackedLink]:
        """The link when the token is intact and signed with a known key, else None. Expiry
        is the caller's to judge (an expired link still names its shop, for the page)."""
        payload = self._verified_payload(token, _MAX_TRACKED_LENGTH, b"loyalty-click|")
        if payload is None:
            return None
        try:
            fields = json.loads(payload)
            link = TrackedLink(shop_id=fields["s"], customer_id=fields["c"], send_key=fields["k"],
                               subject=fields["j"], url=fields["u"],
                               expires_at=datetime.fromtimestamp(int(fields["x"]), tz=timezone.utc),
                               reward=fields.get("r"))
        except (ValueError, KeyError, TypeError, OverflowError, OSError):
            return None
        if not all(isinstance(v, str) and v for v in (link.shop_id, link.customer_id, link.send_key, link.subject,
                                                      link.url)):
            return None
        if link.reward is not None and not isinstance(link.reward, dict):
            return None
        return link

    @staticmethod
    def shop_named_by(token: Optional[str]) -> Optional[str]:
        """The shop id a tracked link's token names, read without trusting it: a link an e-mail
        client truncated or wrapped fails its signature yet still starts with its shop, and the
        broken-link page can then speak the shop's language and link to its storefront (a real
        shop of ours, looked up by the caller; nothing else is taken from the token)."""
        if not token or not token.isascii():
            return None
        payload = token.partition(".")[0][:_MAX_TRACKED_LENGTH]
        usable = len(payload) - len(payload) % 4
        try:
            text = base64.urlsafe_b64decode(payload[:usable]).decode("utf-8", "ignore")
        except (binascii.Error, ValueError):
            return None
        match = _SHOP_PREFIX.match(text)
        return match.group(1) if match else None

    def make_recipient_confirmation(self, confirmation: RecipientConfirmation) -> str:
        fields = {"s": confirmation.shop_id, "e": confirmation.email, "n": confirmation.nonce,
                  "x": int(confirmation.expires_at.timestamp())}
        payload = _b64encode(json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{payload}.{_b64encode(_sign(self._keys()[0], payload, _CONFIRMATION_LABEL))}"

    def read_recipient_confirmation(self, token: Optional[str]) -> Optional[RecipientConfirmation]:
        """The confirmation when the token is intact and signed with a known key, else None.
        Expiry is the caller's to judge against its clock."""
        payload = self._verified_payload(token, _MAX_TRACKED_LENGTH, _CONFIRMATION_LABEL)
        if payload is None:
            return None
        try:
            fields = json.loads(payload)
            confirmation = RecipientConfirmation(fields["s"], fields["e"], fields["n"],
                                                 datetime.fromtimestamp(int(fields["x"]), tz=timezone.utc))
        except (ValueError, KeyError, TypeError, OverflowError, OSError):
            return None
        if not all(isinstance(v, str) and v for v in (confirmation.shop_id, confirmation.email, confirmation.nonce)):
            return None
        return confirmation

    def _verified_payload(self, token: Optional[str], max_length: int, label: bytes) -> Optional[bytes]:
        if not token or len(token) > max_length or not token.isascii() or token.count(".") != 1:
            return None
        payload, _, signature_text = token.partition(".")
        try:
            signature = _b64decode(signature_text)
        except (binascii.Error, ValueError):
            return None
        if not any(hmac.compare_digest(_sign(key, payload, label), signature) for key in self._keys()):
            return None
        try:
            return _b64decode(payload)
        except (binascii.Error, ValueError):
            return None


def _sign(key: bytes, payload: str, label: bytes = b"loyalty-link|") -> bytes:
    return hmac.new(key, label + payload.encode("ascii"), hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
