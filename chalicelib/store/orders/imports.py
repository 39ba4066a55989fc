"""History imports: one item per import under its shop, the position it has reached."""
from __future__ import annotations

from typing import Optional

from pynamodb.exceptions import DoesNotExist

from chalicelib.store import keys
from chalicelib.store.models import ImportJobItem

IMPORT_SK_PREFIX = "IMPORT#"


class ImportJobs:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def get(self, import_id: str) -> Optional[dict]:
        try:
            return ImportJobItem.get(keys.shop_pk(self.shop_id), f"{IMPORT_SK_PREFIX}{import_id}",
                                     consistent_read=True).state
        except DoesNotExist:
            return None

    def save(self, import_id: str, state: dict) -> None:
        # One writer per import (the CLI process that runs it): a plain put.
        ImportJobItem(keys.shop_pk(self.shop_id), f"{IMPORT_SK_PREFIX}{import_id}", state=state).save()

    def list(self) -> list[dict]:
        return [item.state for item in ImportJobItem.query(keys.shop_pk(self.shop_id),
                                                           ImportJobItem.sk.startswith(IMPORT_SK_PREFIX))]
