"""A shop's keys: storefront API keys (``APIKEY#``) and workspace keys (``ADMINKEY#``).

Both live in the shop's partition, keyed by the SHA-256 of the key (the key itself is never
stored). A key is listed and revoked by its ``key_id``, the first 16 hex digits of that hash:
enough to tell a shop's keys apart, useless for signing in. Revoking marks the item
(``revoked_at``, ``revoked_by``) rather than deleting it, so the list keeps the history;
every check reads the item, so a revoked key stops working with the next request.

``last_used_at`` is written by a conditional UpdateItem only when the stored value is older
than the interval given (at most one write per key and interval, however many requests or
Lambda instances), never on every request.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Type

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist

from chalicelib.store import keys
from chalicelib.store.connection import connection
from chalicelib.store.models import AdminKeyItem, ApiKeyItem, Item

KEY_ID_LENGTH = 16


@dataclass(frozen=True)
class StoredKey:
    key_hash: str
    label: Optional[str]
    created_at: str
    created_by: Optional[str] = None
    last_used_at: Optional[str] = None
    revoked_at: Optional[str] = None
    revoked_by: Optional[str] = None
    role: Optional[str] = None  # workspace keys only

    @property
    def key_id(self) -> str:
        return self.key_hash[:KEY_ID_LENGTH]

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AccessKeys:
    """One kind of a shop's keys: ``AccessKeys.storefront()`` or ``AccessKeys.workspace()``."""

    def __init__(self, model: Type[Item], sort_prefix: str):
        self._model = model
        self._prefix = sort_prefix

    @classmethod
    def storefront(cls) -> "AccessKeys":
        return cls(ApiKeyItem, keys.api_key_sk(""))

    @classmethod
    def workspace(cls) -> "AccessKeys":
        return cls(AdminKeyItem, keys.admin_key_sk(""))

    def add(self, shop_id: str, key_hash: str, *, label: Optional[str], created_at: str,
            created_by: Optional[str] = None, role: Optional[str] = None) -> StoredKey:
        attributes = {"label": label, "created_at": created_at, "created_by": created_by}
        if role is not None:
            attributes["role"] = role
        self._model(keys.shop_pk(shop_id), self._prefix + key_hash, **attributes).save(
            condition=self._model.pk.does_not_exist())
        return StoredKey(key_hash, label, created_at, created_by=created_by, role=role)

    def get(self, shop_id: str, key_hash: str, *, consistent: bool = False) -> Optional[StoredKey]:
        try:
            item = self._model.get(keys.shop_pk(shop_id), self._prefix + key_hash, consistent_read=consistent)
        except DoesNotExist:
            return None
        return self._stored(item)

    def list(self, shop_id: str) -> list[StoredKey]:
        """Every key of the shop, revoked ones included, oldest first."""
        found = [self._stored(item) for item in
                 self._model.query(keys.shop_pk(shop_id), self._model.sk.startswith(self._prefix),
                                   consistent_read=True)]
        return sorted(found, key=lambda key: (key.created_at, key.key_hash))

    def find(self, shop_id: str, key_id: str) -> Optional[StoredKey]:
        """The key whose id is ``key_id`` (hex), or None."""
        if len(key_id) != KEY_ID_LENGTH or any(c not in "0123456789abcdef" for c in key_id):
            return None
        matches = [self._stored(item) for item in
                   self._model.query(keys.shop_pk(shop_id), self._model.sk.startswith(self._prefix + key_id),
                                     consistent_read=True)]
        return matches[0] if len(matches) == 1 else None

    def revoke(self, shop_id: str, key_hash: str, *, at: str, by: str) -> bool:
        """Mark the key revoked; False when it was already revoked or does not exist."""
        return self._update(shop_id, key_hash, "SET revoked_at = :at, revoked_by = :by",
                            "attribute_exists(pk) AND attribute_not_exists(revoked_at)",
                            {":at": {"S": at}, ":by": {"S": by}})

    def note_use(self, shop_id: str, key_hash: str, *, at: str, unless_since: str) -> bool:
        """Record ``at`` as the key's last use, unless it was recorded at or after ``unless_since``
        (or the key is gone or revoked). True when written."""
        return self._update(shop_id, key_hash, "SET last_used_at = :at",
                            "attribute_exists(pk) AND attribute_not_exists(revoked_at) AND "
                            "(attribute_not_exists(last_used_at) OR last_used_at < :since)",
                            {":at": {"S": at}, ":since": {"S": unless_since}})

    def _update(self, shop_id: str, key_hash: str, expression: str, condition: str, values: dict) -> bool:
        try:
            connection().client.update_item(
                TableName=Item.Meta.table_name,
                Key={"pk": {"S": keys.shop_pk(shop_id)}, "sk": {"S": self._prefix + key_hash}},
                UpdateExpression=expression, ConditionExpression=condition, ExpressionAttributeValues=values)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _stored(self, item) -> StoredKey:
        return StoredKey(key_hash=item.sk[len(self._prefix):], label=item.label, created_at=item.created_at,
                         created_by=item.created_by, last_used_at=item.last_used_at, revoked_at=item.revoked_at,
                         revoked_by=item.revoked_by, role=getattr(item, "role", None))
