"""A shop's template overrides: one item per overridden e-mail, under the shop."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.store import keys
from chalicelib.store.models import TemplateOverrideItem

TEMPLATE_SK_PREFIX = "TEMPLATE#"


@dataclass(frozen=True)
class StoredOverride:
    template: str
    version: int
    mjml: str
    updated_at: str


class OverrideChanged(Exception):
    """Someone saved this template since it was read."""


class TemplateOverrides:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def all(self) -> list[StoredOverride]:
        """Every override of the shop: one Query."""
        return [_stored(item) for item in TemplateOverrideItem.query(
            keys.shop_pk(self.shop_id), TemplateOverrideItem.sk.startswith(TEMPLATE_SK_PREFIX))]

    def get(self, template: str) -> Optional[StoredOverride]:
        try:
            return _stored(TemplateOverrideItem.get(keys.shop_pk(self.shop_id), TEMPLATE_SK_PREFIX + template,
                                                    consistent_read=True))
        except DoesNotExist:
            return None

    def save(self, template: str, mjml: str, expected_version: int, updated_at: str) -> StoredOverride:
        item = TemplateOverrideItem(keys.shop_pk(self.shop_id), TEMPLATE_SK_PREFIX + template, template=template,
                                    version=expected_version + 1, mjml=mjml, updated_at=updated_at)
        condition = (TemplateOverrideItem.sk.does_not_exist() if expected_version == 0
                     else TemplateOverrideItem.version == expected_version)
        try:
            item.save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise OverrideChanged(template) from error
            raise
        return _stored(item)

    def delete(self, template: str) -> None:
        TemplateOverrideItem(keys.shop_pk(self.shop_id), TEMPLATE_SK_PREFIX + template).delete()


def _stored(item: TemplateOverrideItem) -> StoredOverride:
    return StoredOverride(item.template, int(item.version), item.mjml, item.updated_at)
