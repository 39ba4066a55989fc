"""Per-shop workspace keys and signed-in sessions: only hashes of either are stored."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pynamodb.exceptions import DoesNotExist

from chalicelib.store import keys
from chalicelib.store.models import AdminKeyItem, AdminSessionItem


@dataclass(frozen=True)
class StoredSession:
    shop_id: Optional[str]
    label: str
    csrf_token: str
    expires_at: str


class AdminAccess:
    def add_key(self, shop_id: str, key_hash: str, label: Optional[str], created_at: str) -> None:
        AdminKeyItem(keys.shop_pk(shop_id), keys.admin_key_sk(key_hash), label=label, created_at=created_at).save()

    def key_label(self, shop_id: str, key_hash: str) -> Optional[str]:
        """The key's label ('' when it has none), or None when the shop has no such key."""
        try:
            return AdminKeyItem.get(keys.shop_pk(shop_id), keys.admin_key_sk(key_hash), consistent_read=True).label or ""
        except DoesNotExist:
            return None

    def start_session(self, session_hash: str, session: StoredSession, created_at: str, ttl: int) -> None:
        AdminSessionItem(keys.admin_session_pk(session_hash), keys.ADMIN_SESSION_SK, shop_id=session.shop_id,
                         label=session.label, csrf_token=session.csrf_token, created_at=created_at,
                         expires_at=session.expires_at, ttl=ttl).save()

    def session(self, session_hash: str) -> Optional[StoredSession]:
        try:
            item = AdminSessionItem.get(keys.admin_session_pk(session_hash), keys.ADMIN_SESSION_SK,
                                        consistent_read=True)
        except DoesNotExist:
            return None
        return StoredSession(item.shop_id, item.label, item.csrf_token, item.expires_at)

    def end_session(self, session_hash: str) -> None:
        AdminSessionItem(keys.admin_session_pk(session_hash), keys.ADMIN_SESSION_SK).delete()
