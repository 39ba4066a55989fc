"""What storefront and workspace keys share: how a stored key is shown, and when its use is noted."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.access import roles
from chalicelib.store import keys
from chalicelib.store.access.access_keys import AccessKeys, StoredKey


def key_view(key: StoredKey, *, with_role: bool = False) -> dict:
    """A key as listed: never the key, never its hash; ``key_id`` is what revoking takes."""
    view = {"key_id": key.key_id, "label": key.label, "created_at": key.created_at, "created_by": key.created_by,
            "last_used_at": key.last_used_at, "active": key.active, "revoked_at": key.revoked_at,
            "revoked_by": key.revoked_by}
    if with_role:
        view["role"] = roles.key_role(key.role)
    return view


def note_use(deps, repository: AccessKeys, shop_id: str, key: StoredKey, now: datetime) -> None:
    """Record the key's use when what is stored is older than the interval (it was just read,
    so this costs no read, and at most one conditional write per key and interval)."""
    interval = timedelta(seconds=deps.config.key_last_used_seconds)
    stale_before = keys.iso(now - interval)
    if key.last_used_at is None or key.last_used_at < stale_before:
        repository.note_use(shop_id, key.key_hash, at=keys.iso(now), unless_since=stale_before)
