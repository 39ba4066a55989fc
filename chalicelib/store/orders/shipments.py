"""What each shipment's customer was already told: one item per shipment in its order's
partition, written as a versioned (item, condition) pair inside the change that owes the mail."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.orders.shipments import ShipmentNotices
from chalicelib.store import keys
from chalicelib.store.models import ShipmentNoticeItem, over_version, stored_version


class ShipmentNoticeStore:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def load(self, order_id: str, shipment_id: str) -> ShipmentNotices:
        try:
            item = ShipmentNoticeItem.get(keys.order_pk(self.shop_id, order_id), keys.shipment_sk(shipment_id),
                                          consistent_read=True)
        except DoesNotExist:
            return ShipmentNotices(order_id, shipment_id)
        return ShipmentNotices(order_id, shipment_id, set(item.told or ()), stored_version(item))

    def write(self, notices: ShipmentNotices) -> tuple:
        """The (item, condition) of ``notices``: it lands only if nobody told the customer
        anything about this shipment since it was read."""
        item = ShipmentNoticeItem(keys.order_pk(self.shop_id, notices.order_id), keys.shipment_sk(notices.shipment_id),
                                  told=set(notices.told) or None)
        return over_version(item, notices.version), None  # the version condition comes with the item
