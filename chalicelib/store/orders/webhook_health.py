"""Per-shop webhook counters: one item ``SHOP#{shop}`` / ``WEBHOOKHEALTH``, changed only by
UpdateItem with ADD and SET, so concurrent writers never lose a count and no read comes first."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from pynamodb.exceptions import DoesNotExist

from chalicelib.store import keys
from chalicelib.store.models import WebhookHealthItem

HEALTH_SK = "WEBHOOKHEALTH"
FAILURE_REASONS = ("signature", "parse")


class WebhookHealthStore:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def _item(self) -> WebhookHealthItem:
        return WebhookHealthItem(keys.shop_pk(self.shop_id), HEALTH_SK)

    def _update(self, actions: list) -> None:
        # The discriminator is set on every update: the item may not exist yet.
        self._item().update(actions=[WebhookHealthItem.kind.set(WebhookHealthItem), *actions])

    def failure(self, reason: str, detail: str, at: datetime) -> None:
        counter = WebhookHealthItem.failures_signature if reason == "signature" else WebhookHealthItem.failures_parse
        self._update([counter.add(1), WebhookHealthItem.last_failure_at.set(keys.iso(at)),
                      WebhookHealthItem.last_failure_reason.set(f"{reason}: {detail}"[:300])])

    def ignored_currency(self, order_id: str, reason: str, at: datetime) -> None:
        self._update([WebhookHealthItem.ignored_currency.add(1), WebhookHealthItem.last_ignored_at.set(keys.iso(at)),
                      WebhookHealthItem.last_ignored_reason.set(f"order {order_id}: {reason}"[:300])])

    def delivery(self, at: datetime) -> None:
        self._update([WebhookHealthItem.last_delivery_at.set(keys.iso(at))])

    def reconciled(self, missed_orders: int, missed_refunds: int, at: datetime) -> None:
        self._update([WebhookHealthItem.missed_orders.add(missed_orders),
                      WebhookHealthItem.missed_refunds.add(missed_refunds),
                      WebhookHealthItem.last_reconciled_at.set(keys.iso(at))])

    def get(self) -> Optional[WebhookHealthItem]:
        try:
            return WebhookHealthItem.get(keys.shop_pk(self.shop_id), HEALTH_SK, consistent_read=True)
        except DoesNotExist:
            return None
