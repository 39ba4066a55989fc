"""Storefront API keys: issued, listed, revoked, and checked on every storefront request.

A storefront request passes, in this order: the abuse limit of its client address (before
anything is read), the shop, the key (one GetItem: a revoked key stops working with the next
request, there is no cache), the abuse limit of that key. The key's ``last_used_at`` is
written at most once per interval (``LOYALTY_KEY_LAST_USED_SECONDS``, default 60).
"""
from __future__ import annotations

import hashlib
import secrets
from typing import Optional

from chalicelib.domain.access import limits
from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import BadRequest, NotFound, Unauthorized
from chalicelib.services.access import throttle
from chalicelib.services.access.key_records import key_view, note_use
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store import keys
from chalicelib.services.validation import refuse_unknown_fields

MAX_LABEL = 100
KEY_PREFIX = "lk_"


def issue_api_key(deps, shop_id: str, body: dict, issued_by: str) -> dict:
    """A new storefront API key, shown this once; only its hash is stored."""
    refuse_unknown_fields(body, ("label",), "an API key")
    label = body.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL):
        raise BadRequest(f"label: must be text of at most {MAX_LABEL} characters", field="label")
    load_shop(deps, shop_id)
    key = f"{KEY_PREFIX}{secrets.token_urlsafe(32)}"
    stored = deps.repos.storefront_keys().add(shop_id, hash_key(key), label=label,
                                         created_at=keys.iso(deps.clock()), created_by=issued_by)
    return {"api_key": key, "key_id": stored.key_id, "label": label, "shop_id": shop_id,
            "note": "store this key now: it is not shown again"}


def list_api_keys(deps, shop_id: str) -> dict:
    load_shop(deps, shop_id)
    return {"shop_id": shop_id, "api_keys": [key_view(key) for key in deps.repos.storefront_keys().list(shop_id)]}


def revoke_api_key(deps, shop_id: str, key_id: str, revoked_by: str) -> dict:
    """Revoke a storefront key: refused from its next request on. Revoking twice is harmless."""
    load_shop(deps, shop_id)
    repository = deps.repos.storefront_keys()
    found = repository.find(shop_id, key_id)
    if found is None:
        raise NotFound(f"no storefront key {key_id!r} in this shop", field="key_id")
    repository.revoke(shop_id, found.key_hash, at=keys.iso(deps.clock()), by=revoked_by)
    return key_view(repository.get(shop_id, found.key_hash, consistent=True))


def storefront_caller(deps, shop_id: str, presented: Optional[str], action: str, address: Optional[str]) -> Shop:
    """The shop a storefront request may act for, after its limits and its key are checked."""
    throttle.enforce(deps, action, limits.PER_ADDRESS, address)
    shop = load_shop(deps, shop_id)
    repository = deps.repos.storefront_keys()
    stored = repository.get(shop_id, hash_key(presented)) if presented else None
    if stored is None or not stored.active:
        raise Unauthorized("missing, unknown or revoked X-Api-Key for this shop")
    throttle.enforce(deps, action, limits.PER_KEY, stored.key_hash)
    note_use(deps, repository, shop_id, stored, deps.clock())
    return shop


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
