"""A shop's named segments: one item each under the shop, saved on the version read."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.store import keys
from chalicelib.store.models import SavedSegmentItem, over_version, stored_version

SEGMENT_SK_PREFIX = "SEGMENT#"


class SegmentChanged(Exception):
    """Someone saved (or first created) this segment since it was read."""


@dataclass(frozen=True)
class SavedSegment:
    segment_id: str
    name: str
    rules: dict
    version: int
    updated_at: str
    updated_by: Optional[str]


class SavedSegments:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def all(self) -> list[SavedSegment]:
        """Every saved segment of the shop: one Query."""
        return [_segment(item) for item in SavedSegmentItem.query(
            keys.shop_pk(self.shop_id), SavedSegmentItem.sk.startswith(SEGMENT_SK_PREFIX))]

    def get(self, segment_id: str) -> Optional[SavedSegment]:
        try:
            return _segment(SavedSegmentItem.get(keys.shop_pk(self.shop_id), SEGMENT_SK_PREFIX + segment_id,
                                                 consistent_read=True))
        except DoesNotExist:
            return None

    def save(self, segment_id: str, name: str, rules: dict, expected_version: int, now: datetime,
             updated_by: Optional[str] = None) -> SavedSegment:
        item = over_version(SavedSegmentItem(keys.shop_pk(self.shop_id), SEGMENT_SK_PREFIX + segment_id,
                                             segment_id=segment_id, name=name, rules=rules, updated_at=keys.iso(now),
                                             updated_by=updated_by), expected_version)
        try:
            item.save()
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise SegmentChanged(segment_id) from error
            raise
        return _segment(item)

    def delete(self, segment_id: str) -> None:
        SavedSegmentItem(keys.shop_pk(self.shop_id), SEGMENT_SK_PREFIX + segment_id).delete(add_version_condition=False)


def _segment(item: SavedSegmentItem) -> SavedSegment:
    return SavedSegment(item.segment_id, item.name, item.rules, stored_version(item), item.updated_at, item.updated_by)
