"""Personal offers: one index item per customer and code (the code itself is a code item), so the
storefront lists a customer's offers with one Query and one batch read."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterable

from chalicelib.domain.loyalty.codes import RewardCode
from chalicelib.store import keys
from chalicelib.store.loyalty.repository import _code_from_item
from chalicelib.store.models import CodeItem, OfferItem

OFFER_SK_PREFIX = "REWARDOFFER#"
# Housekeeping only: an expired offer's index item is let go after this.
EXPIRED_OFFER_KEEP = timedelta(days=30)
BATCH_GET = 100


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
        found = []
        for start in range(0, len(wanted), BATCH_GET):
            found += [_code_from_item(item) for item in CodeItem.batch_get(wanted[start:start + BATCH_GET],
                                                                           consistent_read=True)]
        return sorted(((listed[code.code], code) for code in found if code.customer_id == customer_id),
                      key=lambda pair: (pair[1].created_at, pair[1].code))
