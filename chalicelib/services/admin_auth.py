"""Who may use the admin API, and for which shops.

Two ways in:

* ``Authorization: Bearer <LOYALTY_ADMIN_TOKEN>``: scripts and operators; every shop.
* The workspace's session cookie, made by signing in with the admin token (every shop)
  or a per-shop admin key (that shop only). Every change (any method but GET/HEAD) also
  needs the session's CSRF token in ``X-CSRF-Token``; the cookie is HttpOnly, Secure and
  SameSite=Strict, so a page elsewhere can neither read it nor send it.

Keys and session ids are random, shown once and stored only as SHA-256 hashes.
"""
from __future__ import annotations

import contextvars
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Mapping, Optional

from chalicelib import bootstrap
from chalicelib.errors import BadRequest, Forbidden, Unauthorized
from chalicelib.services.shops import load_shop, valid_shop_id
from chalicelib.store.admin_access import AdminAccess, StoredSession

SESSION_COOKIE = "lm_session"
SESSION_HOURS = 12
KEY_PREFIX = "lka"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``shop_id`` None means every shop (the admin token)."""

    label: str
    shop_id: Optional[str] = None
    via_session: bool = False

    def may_see(self, shop_id: Optional[str]) -> bool:
        return self.shop_id is None or shop_id == self.shop_id


_current: contextvars.ContextVar[Optional[Principal]] = contextvars.ContextVar("admin_principal", default=None)


def current_principal() -> Principal:
    principal = _current.get()
    if principal is None:
        raise Unauthorized("not signed in")
    return principal


def authorize(headers: Mapping[str, str], method: str, shop_id: Optional[str] = None,
              admin_token_only: bool = False) -> Principal:
    """The caller of an admin route, checked; remembered for the request (``current_principal``)."""
    authorization = headers.get("authorization")
    if authorization:
        principal = _from_bearer(authorization)
    else:
        principal = _from_session(headers, method)
    if admin_token_only and principal.shop_id is not None:
        raise Forbidden("only the admin token may do this")
    if shop_id is not None and not principal.may_see(shop_id):
        raise Forbidden(f"this key is for shop {principal.shop_id!r} only", field="shop_id")
    _current.set(principal)
    return principal


def _from_bearer(header: str) -> Principal:
    from chalicelib.services.shops import check_admin_token

    check_admin_token(header)  # the current token, or the previous one during a rotation
    return Principal(label="admin token")


def _from_session(headers: Mapping[str, str], method: str) -> Principal:
    session_id = session_id_from(headers.get("cookie"))
    if not session_id:
        raise Unauthorized("sign in first (Authorization: Bearer <token>, or the workspace session)")
    bootstrap.ensure_store()
    stored = AdminAccess().session(_hash(session_id))
    if stored is None or stored.expires_at <= bootstrap.now().isoformat():
        raise Unauthorized("the session has ended: sign in again")
    if method.upper() not in SAFE_METHODS:
        presented = headers.get("x-csrf-token") or ""
        if not presented or not hmac.compare_digest(presented.encode(), stored.csrf_token.encode()):
            raise Forbidden("missing or wrong X-CSRF-Token for this session", field="X-CSRF-Token")
    return Principal(label=stored.label, shop_id=stored.shop_id, via_session=True)


def session_id_from(cookie_header: Optional[str]) -> Optional[str]:
    if not cookie_header:
        return None
    try:
        cookie = SimpleCookie(cookie_header)
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel and morsel.value else None


# -- keys ------------------------------------------------------------------------------
def issue_admin_key(shop_id: str, label: Optional[str]) -> dict:
    """A new workspace key for one shop, shown this once; only its hash is stored."""
    if label is not None and (not isinstance(label, str) or len(label) > 100):
        raise BadRequest("label: text of at most 100 characters", field="label")
    load_shop(shop_id)
    key = f"{KEY_PREFIX}.{shop_id}.{secrets.token_urlsafe(32)}"
    AdminAccess().add_key(shop_id, _hash(key), label, bootstrap.now().isoformat())
    return {"admin_key": key, "label": label, "shop_id": shop_id,
            "note": "store this key now: it is not shown again; it signs in to /admin for this shop only"}


# -- sessions --------------------------------------------------------------------------
def sign_in(body: dict) -> tuple[dict, str]:
    """Check a key (the admin token or a shop's admin key); returns the session's view and
    the Set-Cookie header value."""
    key = body.get("key")
    if not isinstance(key, str) or not key.strip():
        raise BadRequest("key: the admin token or your shop's admin key", field="key")
    key = key.strip()
    bootstrap.ensure_store()
    principal = _principal_for_key(key)
    if principal is None:
        raise Unauthorized("unknown key", field="key")
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = bootstrap.now()
    expires = now + timedelta(hours=SESSION_HOURS)
    AdminAccess().start_session(_hash(session_id), StoredSession(principal.shop_id, principal.label, csrf,
                                                                  expires.isoformat()),
                                now.isoformat(), ttl=int(expires.timestamp()) + 86400)
    cookie = (f"{SESSION_COOKIE}={session_id}; Path=/; Max-Age={SESSION_HOURS * 3600}; HttpOnly; Secure; "
              f"SameSite=Strict")
    return session_view(principal, csrf), cookie


def current_session(headers: Mapping[str, str]) -> dict:
    session_id = session_id_from(headers.get("cookie"))
    principal = authorize(headers, "GET")
    stored = AdminAccess().session(_hash(session_id)) if principal.via_session else None
    return session_view(principal, stored.csrf_token if stored else None)


def sign_out(headers: Mapping[str, str]) -> tuple[dict, str]:
    principal = authorize(headers, "DELETE")
    if principal.via_session:
        AdminAccess().end_session(_hash(session_id_from(headers.get("cookie"))))
    return {"signed_out": True}, f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"


def session_view(principal: Principal, csrf_token: Optional[str]) -> dict:
    from chalicelib.services.shops import list_shops

    shops = list_shops()["shops"]
    return {"label": principal.label, "shop_id": principal.shop_id, "csrf_token": csrf_token,
            "shops": [shop for shop in shops if principal.may_see(shop["shop_id"])]}


def _principal_for_key(key: str) -> Optional[Principal]:
    matches = [hmac.compare_digest(key.encode(), expected.encode()) for expected in bootstrap.admin_tokens()]
    if any(matches):
        return Principal(label="admin token")
    prefix, _, rest = key.partition(".")
    shop_id, _, _secret = rest.partition(".")
    if prefix != KEY_PREFIX or not valid_shop_id(shop_id) or not _secret:
        return None
    label = AdminAccess().key_label(shop_id, _hash(key))
    if label is None:
        return None
    return Principal(label=f"key {label}" if label else "shop admin key", shop_id=shop_id)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def visible_shops() -> dict:
    """The shops the caller may see: all for the admin token, its own for a shop's key."""
    from chalicelib.services.shops import list_shops

    principal = current_principal()
    return {"shops": [shop for shop in list_shops()["shops"] if principal.may_see(shop["shop_id"])]}
