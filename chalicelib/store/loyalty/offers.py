"""Personal offers: one index item per customer and code (the code itself is a code item), so the
storefront lists a customer's offers with one Query and one batch read."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Optional

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain.loyalty.codes import RewardCode
from chalicelib.store import keys
from chalicelib.store.loyalty.repository import _code_from_item
from chalicelib.store.models import CodeItem, OfferItem, OfferRecordItem, over_version, stored_version

OFFER_SK_PREFIX = "REWARDOFFER#"
# Housekeeping only: an expired offer's index item is let go after this.
EXPIRED_OFFER_KEEP = timedelta(days=30)


class PersonalOffers:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def index(self, name: str, codes: Iterable[RewardCode]) -> None:
        """List each (already written) per-customer code as its customer's offer."""
        with OfferItem.batch_write() as batch:
            for code in codes:
                batch.save(OfferItem(keys.customer_pk(self.shop_id, code.customer_id), OFFER_SK_PREFIX + code.code,
                                     code=code.code, name=name, expires_at=keys.iso(code.expires_at),
                                     ttl=int((code.expires_at + EXPIRED_OFFER_KEEP).timestamp())))

    def for_customer(self, customer_id: str) -> list[tuple[str, RewardCode]]:
        """(offer name, code) of every offer the customer was given, newest code last."""
        listed = {item.code: item.name for item in OfferItem.query(
            keys.customer_pk(self.shop_id, customer_id), OfferItem.sk.startswith(OFFER_SK_PREFIX),
            consistent_read=True)}
        wanted = [(keys.code_pk(self.shop_id, code), keys.CODE_SK) for code in sorted(listed)]
        found = [_code_from_item(item) for item in CodeItem.batch_get(wanted, consistent_read=True)]
        return sorted(((listed[code.code], code) for code in found if code.customer_id == customer_id),
                      key=lambda pair: (pair[1].created_at, pair[1].code))


OFFER_RECORD_SK_PREFIX = "OFFERDEF#"
OFFER_DUE_PK = "OFFERDUE"


@dataclass
class OfferRecord:
    """An individual offer as made: ``terms`` (name, discount, products, minimum, window),
    ``recipients`` (customer id → code) and ``mailing`` (its e-mail: status, send_at, queued)."""

    shop_id: str
    offer_id: str
    terms: dict
    recipients: dict[str, str]
    mailing: dict = field(default_factory=dict)
    version: int = 0


class OfferRecords:
    """The shop's offers as made, and the scheduled sends of their e-mail."""

    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def load(self, offer_id: str) -> Optional[OfferRecord]:
        try:
            item = OfferRecordItem.get(keys.shop_pk(self.shop_id), OFFER_RECORD_SK_PREFIX + offer_id, consistent_read=True)
        except DoesNotExist:
            return None
        return OfferRecord(self.shop_id, offer_id, item.terms, dict(item.recipients), dict(item.mailing or {}),
                           stored_version(item))

    def write(self, record: OfferRecord) -> tuple:
        """The record over the version read (a change's item: the condition comes with it)."""
        item = OfferRecordItem(keys.shop_pk(self.shop_id), OFFER_RECORD_SK_PREFIX + record.offer_id,
                               terms=record.terms, recipients=record.recipients, mailing=record.mailing or None)
        # Scheduled, or half-queued (a sender that died is resumed by the schedule): in the due index.
        due = record.mailing.get("send_at") or record.mailing.get("started_at")
        if record.mailing.get("status") in ("scheduled", "sending") and due:
            item.gsi1pk = OFFER_DUE_PK
            item.gsi1sk = f"{due}#{self.shop_id}#{record.offer_id}"
        return over_version(item, record.version), None

    def save(self, record: OfferRecord) -> None:
        item, _ = self.write(record)
        try:
            item.save()
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise ValueError("the offer was changed since it was read") from None
            raise
        record.version += 1


def due_offer_mailings(now: datetime, limit: int = 100) -> list[tuple[str, str]]:
    """(shop id, offer id) of every scheduled offer e-mail due at ``now`` (index read: reload before acting)."""
    upto = keys.iso(now) + "~"
    found = []
    for item in OfferRecordItem.by_due_day.query(OFFER_DUE_PK, OfferRecordItem.gsi1sk <= upto, limit=limit):
        _, shop_id, offer_id = item.gsi1sk.rsplit("#", 2)
        found.append((shop_id, offer_id))
    return found
