"""The addresses a shop's marketers may send tests to (confirmed by their owners), and the
per-shop count of test sends, one counter item per hour shared by every Lambda instance."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.store import keys
from chalicelib.store.connection import connection
from chalicelib.store.mail.mail_store import email_hash
from chalicelib.store.models import Item, TestRecipientItem

PENDING, CONFIRMED = "pending", "confirmed"


@dataclass
class TestRecipient:
    __test__ = False  # not a pytest class

    shop_id: str
    email: str
    status: str
    nonce: str
    requested_at: datetime
    requested_by: Optional[str] = None
    confirmation_sent_at: Optional[datetime] = None
    confirmed_at: Optional[datetime] = None


class TestRecipients:
    __test__ = False

    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def get(self, email: str) -> Optional[TestRecipient]:
        try:
            item = TestRecipientItem.get(keys.shop_pk(self.shop_id), keys.test_recipient_sk(email_hash(email)),
                                         consistent_read=True)
        except DoesNotExist:
            return None
        return self._from_item(item)

    def all(self) -> list[TestRecipient]:
        return [self._from_item(item) for item in TestRecipientItem.query(
            keys.shop_pk(self.shop_id), TestRecipientItem.sk.startswith(keys.TEST_RECIPIENT_PREFIX),
            consistent_read=True)]

    def save(self, recipient: TestRecipient, *, only_if_new: bool = False) -> bool:
        item = TestRecipientItem(
            keys.shop_pk(self.shop_id), keys.test_recipient_sk(email_hash(recipient.email)), email=recipient.email,
            status=recipient.status, nonce=recipient.nonce, requested_at=keys.iso(recipient.requested_at),
            requested_by=recipient.requested_by,
            confirmation_sent_at=keys.iso(recipient.confirmation_sent_at) if recipient.confirmation_sent_at else None,
            confirmed_at=keys.iso(recipient.confirmed_at) if recipient.confirmed_at else None)
        try:
            item.save(condition=TestRecipientItem.pk.does_not_exist() if only_if_new else None)
        except PutError as error:
            if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def confirm(self, email: str, nonce: str, now: datetime) -> bool:
        """Confirmed, if the address is still listed with this link's nonce."""
        from pynamodb.exceptions import UpdateError

        try:
            TestRecipientItem(keys.shop_pk(self.shop_id), keys.test_recipient_sk(email_hash(email))).update(
                actions=[TestRecipientItem.status.set(CONFIRMED), TestRecipientItem.confirmed_at.set(keys.iso(now))],
                condition=TestRecipientItem.pk.exists() & (TestRecipientItem.nonce == nonce))
        except UpdateError as error:
            if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def remove(self, email: str) -> None:
        TestRecipientItem(keys.shop_pk(self.shop_id), keys.test_recipient_sk(email_hash(email))).delete()

    def _from_item(self, item: TestRecipientItem) -> TestRecipient:
        return TestRecipient(
            shop_id=self.shop_id, email=item.email, status=item.status, nonce=item.nonce,
            requested_at=keys.parse_iso(item.requested_at), requested_by=item.requested_by,
            confirmation_sent_at=keys.parse_iso(item.confirmation_sent_at) if item.confirmation_sent_at else None,
            confirmed_at=keys.parse_iso(item.confirmed_at) if item.confirmed_at else None)


def take_test_send(shop_id: str, window_start: int, window_seconds: int, limit: int) -> bool:
    """One more test send in the shop's current window, if it is under ``limit`` (a conditional ADD
    on one counter item, so instances running at once together stay under it)."""
    from botocore.exceptions import ClientError

    try:
        connection().client.update_item(
            TableName=Item.Meta.table_name,
            Key={"pk": {"S": keys.test_send_window_pk(shop_id, window_start)}, "sk": {"S": keys.TEST_SEND_WINDOW_SK}},
            UpdateExpression="SET #type = :type, #ttl = :ttl ADD #sent :one",
            ConditionExpression="attribute_not_exists(#sent) OR #sent < :limit",
            ExpressionAttributeNames={"#type": "type", "#ttl": "ttl", "#sent": "sent"},
            ExpressionAttributeValues={":type": {"S": "test_send_count"},
                                       ":ttl": {"N": str(window_start + window_seconds + 86400)},
                                       ":one": {"N": "1"}, ":limit": {"N": str(limit)}})
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
