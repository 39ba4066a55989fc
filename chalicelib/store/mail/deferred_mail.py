"""Marketing e-mails deferred by the cap (domain/mail/deferral.py): kept per customer, found by
when they may go (the ``by_due_day`` index under ``MAIL#DEFERRED``, all shops)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from pynamodb.exceptions import PutError

from chalicelib.domain.mail.deferral import Waiting
from chalicelib.store import keys
from chalicelib.store.models import DeferredMailItem


@dataclass(frozen=True)
class DeferredMessage:
    shop_id: str
    customer_id: str
    message: dict
    waiting: Waiting
    release_at: datetime


class DeferredMail:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def defer(self, customer_id: str, message: dict, waiting: Waiting, release_at: datetime) -> bool:
        """Keep the message until ``release_at``; True when it was not waiting already (a redelivered
        queue message, or one deferred again after its release lost the slot, only moves its time)."""
        item = self._item(customer_id, message, waiting, release_at)
        try:
            item.save(condition=DeferredMailItem.sk.does_not_exist())
            return True
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        item.save()
        return False

    def reschedule(self, deferred: DeferredMessage, release_at: datetime) -> None:
        self._item(deferred.customer_id, deferred.message, deferred.waiting, release_at).save()

    def waiting_for(self, customer_id: str) -> list[DeferredMessage]:
        return [_deferred(item) for item in DeferredMailItem.query(
            keys.deferred_mail_pk(self.shop_id, customer_id), consistent_read=True)]

    def forget(self, customer_id: str, idempotency_key: str) -> None:
        DeferredMailItem(keys.deferred_mail_pk(self.shop_id, customer_id), idempotency_key).delete()

    def _item(self, customer_id: str, message: dict, waiting: Waiting, release_at: datetime) -> DeferredMailItem:
        return DeferredMailItem(
            keys.deferred_mail_pk(self.shop_id, customer_id), waiting.key, message=message,
            priority=waiting.priority, queued_at=keys.iso(waiting.queued_at), valid_until=keys.iso(waiting.valid_until),
            release_at=keys.iso(release_at), gsi1pk=keys.DEFERRED_MAIL_DUE_PK,
            gsi1sk=f"{keys.iso(release_at)}#{self.shop_id}#{customer_id}#{waiting.key}")


def due_customers(now: datetime) -> Iterable[tuple[str, str]]:
    """(shop_id, customer_id) with a deferred e-mail due by ``now``, each once: one Query of the index."""
    seen = set()
    for item in DeferredMailItem.by_due_day.query(keys.DEFERRED_MAIL_DUE_PK,
                                                  DeferredMailItem.gsi1sk <= keys.iso(now) + "~"):
        _, shop_id, customer_id = item.pk.split("#", 2)
        if (shop_id, customer_id) not in seen:
            seen.add((shop_id, customer_id))
            yield shop_id, customer_id


def _deferred(item: DeferredMailItem) -> DeferredMessage:
    _, shop_id, customer_id = item.pk.split("#", 2)
    return DeferredMessage(shop_id=shop_id, customer_id=customer_id, message=item.message,
                           waiting=Waiting(key=item.sk, priority=int(item.priority),
                                           queued_at=keys.parse_iso(item.queued_at),
                                           valid_until=keys.parse_iso(item.valid_until)),
                           release_at=keys.parse_iso(item.release_at))
