"""Signed-in workspace sessions: only hashes of the session ids are stored.

The workspace keys themselves are in ``chalicelib.store.access.access_keys``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pynamodb.exceptions import DoesNotExist

from chalicelib.store import keys
from chalicelib.store.models import AdminSessionItem


@dataclass(frozen=True)
class StoredSession:
    shop_id: Optional[str]
    label: str
    csrf_token: str
    expires_at: str
    key_hash: Optional[str] = None  # the workspace key it was opened with (None: the admin token)


class AdminAccess:
    def start_session(self, session_hash: str, session: StoredSession, created_at: str, ttl: int) -> None:
        AdminSessionItem(keys.admin_session_pk(session_hash), keys.ADMIN_SESSION_SK, shop_id=session.shop_id,
                         key_hash=session.key_hash, label=session.label, csrf_token=session.csrf_token,
                         created_at=created_at, expires_at=session.expires_at, ttl=ttl).save()

    def session(self, session_hash: str) -> Optional[StoredSession]:
        try:
            item = AdminSessionItem.get(keys.admin_session_pk(session_hash), keys.ADMIN_SESSION_SK,
                                        consistent_read=True)
        except DoesNotExist:
            return None
        return StoredSession(item.shop_id, item.label, item.csrf_token, item.expires_at, item.key_hash)

    def end_session(self, session_hash: str) -> None:
        AdminSessionItem(keys.admin_session_pk(session_hash), keys.ADMIN_SESSION_SK).delete()
