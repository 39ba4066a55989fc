"""Who may use the admin API, for which shops, in which role.

Two ways in:

* ``Authorization: Bearer <LOYALTY_ADMIN_TOKEN>``: the operator (scripts); every shop.
* The workspace's session cookie, made by signing in with the admin token (the operator
  again) or a per-shop workspace key (that shop only, in the key's role: ``owner`` or
  ``marketer``). Every change (any method but GET/HEAD) also needs the session's CSRF token in
  ``X-CSRF-Token``; the cookie is HttpOnly, Secure and SameSite=Strict, so a page elsewhere can
  neither read it nor send it.

What each role may do is one table, ``chalicelib.api.permissions``; this module only checks
the caller against the roles a route allows. A session is bound to the key it was made with:
every request reads that key (one consistent GetItem), so revoking it ends its sessions with
the next request. Keys and session ids are random, shown once and stored only as SHA-256 hashes.
"""
from __future__ import annotations

import contextvars
import hashlib
import hmac
import secrets as random_secrets
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Collection, Mapping, Optional

from chalicelib import secrets
from chalicelib.domain.access import limits
from chalicelib.domain.access import roles
from chalicelib.errors import BadRequest, Forbidden, NotConfigured, NotFound, Unauthorized
from chalicelib.services.access import throttle
from chalicelib.services.access.key_records import key_view, note_use
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.shops.shops import valid_shop_id
from chalicelib.store import keys as table_keys
from chalicelib.store.access.admin_access import StoredSession
from chalicelib.services.validation import refuse_unknown_fields

SESSION_COOKIE = "lm_session"
SESSION_HOURS = 12
KEY_PREFIX = "lka"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPERATOR_LABEL = "admin token"
_OPERATOR_TARGET = "operator"  # what sign-in attempts with anything but a shop's key are counted against


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``shop_id`` None means every shop (the operator, the admin token)."""

    label: str
    role: str = roles.OPERATOR
    shop_id: Optional[str] = None
    via_session: bool = False
    key_hash: Optional[str] = None  # the workspace key behind the session

    def may_see(self, shop_id: Optional[str]) -> bool:
        return self.shop_id is None or shop_id == self.shop_id


_current: contextvars.ContextVar[Optional[Principal]] = contextvars.ContextVar("admin_principal", default=None)


def current_principal() -> Principal:
    principal = _current.get()
    if principal is None:
        raise Unauthorized("not signed in")
    return principal


def authorize(deps, headers: Mapping[str, str], method: str, shop_id: Optional[str] = None,
              allowed_roles: Optional[Collection[str]] = None, address: Optional[str] = None) -> Principal:
    """The caller of an admin route, checked against the roles the route allows (None: any
    signed-in caller); remembered for the request (``current_principal``)."""
    _current.set(None)
    throttle.enforce(deps, limits.ADMIN, limits.PER_ADDRESS, address)
    authorization = headers.get("authorization")
    if authorization:
        principal = _from_bearer(deps, authorization)
    else:
        principal = _from_session(deps, headers, method)
    if allowed_roles is not None and principal.role not in allowed_roles:
        needed = " or ".join(sorted(_as_key(role) for role in allowed_roles))
        raise Forbidden(f"{_as_key(principal.role)} may not do this: it needs {needed}", role=principal.role)
    if shop_id is not None and not principal.may_see(shop_id):
        raise Forbidden(f"this key is for shop {principal.shop_id!r} only", field="shop_id")
    _current.set(principal)
    return principal


def _as_key(role: str) -> str:
    return "the admin token" if role == roles.OPERATOR else f"{'an' if role[0] in 'aeiou' else 'a'} {role} key"


def _admin_tokens(deps) -> tuple[str, ...]:
    try:
        tokens = deps.secrets.values(deps.config.admin_token)
    except secrets.SecretUnavailable as error:
        raise NotConfigured(f"the admin token cannot be read: {error}") from None
    if not tokens:
        raise NotConfigured(secrets.not_configured_message("LOYALTY_ADMIN_TOKEN"))
    return tokens


def _is_admin_token(deps, presented: str) -> bool:
    # Every accepted token is compared (no early exit), so timing tells nothing about which one matched.
    matches = [hmac.compare_digest(presented.encode(), expected.encode()) for expected in _admin_tokens(deps)]
    return any(matches)


def _from_bearer(deps, header: str) -> Principal:
    scheme, _, token = header.partition(" ")
    token = token.strip()
    tokens_ok = _is_admin_token(deps, token) if token else False  # a missing token still learns nothing faster
    if scheme.lower() != "bearer" or not token or not tokens_ok:
        raise Unauthorized("missing or wrong admin token (Authorization: Bearer <token>)")
    return Principal(label=OPERATOR_LABEL)


def _from_session(deps, headers: Mapping[str, str], method: str) -> Principal:
    session_id = session_id_from(headers.get("cookie"))
    if not session_id:
        raise Unauthorized("sign in first (Authorization: Bearer <token>, or the workspace session)")
    stored = deps.repos.admin_access().session(_hash(session_id))
    now = deps.clock()
    if stored is None or stored.expires_at <= now.isoformat():
        raise Unauthorized("the session has ended: sign in again")
    if method.upper() not in SAFE_METHODS:
        presented = headers.get("x-csrf-token") or ""
        if not presented or not hmac.compare_digest(presented.encode(), stored.csrf_token.encode()):
            raise Forbidden("missing or wrong X-CSRF-Token for this session", field="X-CSRF-Token")
    if stored.shop_id is None:
        return Principal(label=stored.label, via_session=True)
    if not stored.key_hash:  # a session from before keys were checked per request
        raise Unauthorized("the session has ended: sign in again")
    key = deps.repos.workspace_keys().get(stored.shop_id, stored.key_hash, consistent=True)
    if key is None or not key.active:
        raise Unauthorized("the key this session was opened with has been revoked: sign in with a current key")
    note_use(deps, deps.repos.workspace_keys(), stored.shop_id, key, now)
    return Principal(label=stored.label, role=roles.key_role(key.role), shop_id=stored.shop_id, via_session=True,
                     key_hash=key.key_hash)


def session_id_from(cookie_header: Optional[str]) -> Optional[str]:
    if not cookie_header:
        return None
    try:
        cookie = SimpleCookie(cookie_header)
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel and morsel.value else None


# -- workspace keys --------------------------------------------------------------------
def issue_admin_key(deps, shop_id: str, body: dict) -> dict:
    """A new workspace key for one shop, in a role (default ``marketer``), shown this once; only
    its hash is stored. The caller's role must be allowed to grant that role."""
    refuse_unknown_fields(body, ("label", "role"), "a workspace key")
    label, role = body.get("label"), body.get("role", roles.DEFAULT_KEY_ROLE)
    if label is not None and (not isinstance(label, str) or len(label) > 100):
        raise BadRequest("label: text of at most 100 characters", field="label")
    if role not in roles.WORKSPACE_KEY_ROLES:
        raise BadRequest(f"role: one of {', '.join(roles.WORKSPACE_KEY_ROLES)}", field="role")
    granter = current_principal()
    if not roles.may_grant(granter.role, role):
        raise Forbidden(f"a {granter.role} key may not issue {role} keys", field="role")
    load_shop(deps, shop_id)
    key = f"{KEY_PREFIX}.{shop_id}.{random_secrets.token_urlsafe(32)}"
    stored = deps.repos.workspace_keys().add(shop_id, _hash(key), label=label,
                                        created_at=table_keys.iso(deps.clock()), created_by=granter.label,
                                        role=role)
    return {"admin_key": key, "key_id": stored.key_id, "label": label, "role": role, "shop_id": shop_id,
            "note": f"store this key now: it is not shown again; it signs in to /admin for this shop only, "
                    f"as {role}"}


def list_admin_keys(deps, shop_id: str) -> dict:
    load_shop(deps, shop_id)
    return {"shop_id": shop_id, "admin_keys": [key_view(key, with_role=True)
                                                for key in deps.repos.workspace_keys().list(shop_id)]}


def revoke_admin_key(deps, shop_id: str, key_id: str) -> dict:
    """Revoke a workspace key: its sessions end with their next request. Revoking twice is harmless."""
    load_shop(deps, shop_id)
    repository = deps.repos.workspace_keys()
    found = repository.find(shop_id, key_id)
    if found is None:
        raise NotFound(f"no workspace key {key_id!r} in this shop", field="key_id")
    repository.revoke(shop_id, found.key_hash, at=table_keys.iso(deps.clock()), by=current_principal().label)
    return key_view(repository.get(shop_id, found.key_hash, consistent=True), with_role=True)


# -- sessions --------------------------------------------------------------------------
def sign_in(deps, body: dict, address: Optional[str] = None) -> tuple[dict, str]:
    """Check a key (the admin token or a shop's workspace key); returns the session's view and
    the Set-Cookie header value. Attempts are limited per client address and per shop named
    by the key (the admin token's attempts together), before the key is looked at."""
    throttle.enforce(deps, limits.SIGN_IN, limits.PER_ADDRESS, address)
    key = body.get("key")
    if not isinstance(key, str) or not key.strip():
        raise BadRequest("key: the admin token or your shop's workspace key", field="key")
    key = key.strip()
    throttle.enforce(deps, limits.SIGN_IN, limits.PER_KEY, _sign_in_target(key))
    principal = _principal_for_key(deps, key)
    if principal is None:
        raise Unauthorized("unknown key", field="key")
    session_id, csrf = random_secrets.token_urlsafe(32), random_secrets.token_urlsafe(32)
    now = deps.clock()
    expires = now + timedelta(hours=SESSION_HOURS)
    deps.repos.admin_access().start_session(_hash(session_id), StoredSession(principal.shop_id, principal.label, csrf,
                                                                  expires.isoformat(), principal.key_hash),
                                now.isoformat(), ttl=int(expires.timestamp()) + 86400)
    cookie = (f"{SESSION_COOKIE}={session_id}; Path=/; Max-Age={SESSION_HOURS * 3600}; HttpOnly; Secure; "
              f"SameSite=Strict")
    return session_view(deps, principal, csrf), cookie


def current_session(deps, headers: Mapping[str, str]) -> dict:
    session_id = session_id_from(headers.get("cookie"))
    principal = authorize(deps, headers, "GET")
    stored = deps.repos.admin_access().session(_hash(session_id)) if principal.via_session else None
    return session_view(deps, principal, stored.csrf_token if stored else None)


def sign_out(deps, headers: Mapping[str, str]) -> tuple[dict, str]:
    principal = authorize(deps, headers, "DELETE")
    if principal.via_session:
        deps.repos.admin_access().end_session(_hash(session_id_from(headers.get("cookie"))))
    return {"signed_out": True}, f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"


def session_view(deps, principal: Principal, csrf_token: Optional[str]) -> dict:
    from chalicelib.services.shops.shops import list_shops

    shops = list_shops(deps)["shops"]
    return {"label": principal.label, "role": principal.role, "shop_id": principal.shop_id,
            "csrf_token": csrf_token, "shops": [shop for shop in shops if principal.may_see(shop["shop_id"])]}


def _sign_in_target(key: str) -> str:
    prefix, _, rest = key.partition(".")
    shop_id = rest.partition(".")[0]
    return f"shop:{shop_id}" if prefix == KEY_PREFIX and valid_shop_id(shop_id) else _OPERATOR_TARGET


def _principal_for_key(deps, key: str) -> Optional[Principal]:
    prefix, _, rest = key.partition(".")
    shop_id, _, secret_part = rest.partition(".")
    if prefix == KEY_PREFIX and valid_shop_id(shop_id) and secret_part:
        repository = deps.repos.workspace_keys()
        stored = repository.get(shop_id, _hash(key), consistent=True)
        if stored is None or not stored.active:
            return None
        note_use(deps, repository, shop_id, stored, deps.clock())
        return Principal(label=f"key {stored.label}" if stored.label else "shop workspace key",
                         role=roles.key_role(stored.role), shop_id=shop_id, key_hash=stored.key_hash)
    if _is_admin_token(deps, key):
        return Principal(label=OPERATOR_LABEL)
    return None


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def visible_shops(deps) -> dict:
    """The shops the caller may see: all for the admin token, its own for a shop's key."""
    from chalicelib.services.shops.shops import list_shops

    principal = current_principal()
    return {"shops": [shop for shop in list_shops(deps)["shops"] if principal.may_see(shop["shop_id"])]}

