"""Mail held back because the shop's sender cannot send yet (its domain is not verified).

Holding is one transaction: the send log becomes ``held`` with its reason (visible, not
final) and the queue message is kept under ``HELD#{shop}``. Releasing publishes the kept
messages to the send queue again and deletes them; the send log's idempotency key makes a
message released twice send once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store import keys
from chalicelib.store.connection import connection
from chalicelib.store.mail.mail_store import HELD, SendRecord, _claimable, _send_item
from chalicelib.store.models import HeldMailItem, MailSendItem


@dataclass(frozen=True)
class HeldMessage:
    idempotency_key: str
    message: dict
    reason: str
    held_at: str


class HeldMail:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def hold(self, send: SendRecord, message: dict, reason: str, now: datetime, *,
             claim_id: Optional[str] = None) -> bool:
        """The send log ``held`` + the message kept, together. False when another worker holds
        or finished the send meanwhile (then nothing is written). ``claim_id``: our own live claim."""
        record = SendRecord(**{**send.__dict__, "status": HELD, "reason": reason, "claim_id": None,
                               "claimed_until": None})
        condition = _claimable(now)
        if claim_id:
            condition = condition | (MailSendItem.claim_id == claim_id)
        try:
            with TransactWrite(connection=connection()) as write:
                write.save(_send_item(record, now), condition=condition)
                write.save(HeldMailItem(keys.held_mail_pk(self.shop_id), send.idempotency_key, message=message,
                                        reason=reason, held_at=keys.iso(now)))
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                return False
            raise
        return True

    def waiting(self, limit: Optional[int] = None) -> list[HeldMessage]:
        return [HeldMessage(item.sk, item.message, item.reason, item.held_at)
                for item in HeldMailItem.query(keys.held_mail_pk(self.shop_id), consistent_read=True, limit=limit)]

    def count(self, up_to: int = 1000) -> int:
        return sum(1 for _ in HeldMailItem.query(keys.held_mail_pk(self.shop_id), limit=up_to,
                                                 attributes_to_get=["pk", "sk"]))

    def forget(self, idempotency_keys: list[str]) -> None:
        with HeldMailItem.batch_write() as batch:
            for key in idempotency_keys:
                batch.delete(HeldMailItem(keys.held_mail_pk(self.shop_id), key))
