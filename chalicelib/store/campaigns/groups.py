"""Each customer's group in the latest campaign with a holdout (``CUST#{shop}#{customer}`` /
``CAMPAIGNGROUP``): written when the sender sends the e-mail or keeps the customer back, read
with a paid order (in the order's TransactGetItems) to count the order towards that group.

One item per customer, like the last click: a later campaign's assignment replaces an earlier
one (written only when newer), so an order counts towards one campaign's lift at most.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.domain.campaigns.lift import CampaignGroup
from chalicelib.store import keys
from chalicelib.store.connection import connection
from chalicelib.store.models import CampaignGroupItem, Item


class CampaignGroups:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def assign(self, customer_id: str, campaign_id: str, group: str, at: datetime,
               variant: Optional[int] = None) -> None:
        """Record the customer's group (and A/B variant); an assignment already there from a later time stays."""
        client = connection().client
        item = {"pk": {"S": keys.customer_pk(self.shop_id, customer_id)}, "sk": {"S": keys.CAMPAIGN_GROUP_SK},
                "type": {"S": "campaign_group"}, "campaign_id": {"S": campaign_id}, "group": {"S": group},
                "assigned_at": {"S": keys.iso(at)}, "orders": {"N": "0"}, "revenue_minor": {"N": "0"}}
        if variant is not None:
            item["variant"] = {"N": str(int(variant))}
        try:
            client.put_item(
                TableName=Item.Meta.table_name, Item=item,
                ConditionExpression="attribute_not_exists(assigned_at) OR assigned_at < :at "
                                    "OR (campaign_id = :campaign AND assigned_at = :at)",
                ExpressionAttributeValues={":at": {"S": keys.iso(at)}, ":campaign": {"S": campaign_id}})
        except client.exceptions.ConditionalCheckFailedException:
            pass  # a later campaign's assignment is there: it wins

    def get(self, customer_id: str) -> Optional[CampaignGroup]:
        try:
            item = CampaignGroupItem.get(keys.customer_pk(self.shop_id, customer_id), keys.CAMPAIGN_GROUP_SK,
                                         consistent_read=True)
        except CampaignGroupItem.DoesNotExist:
            return None
        return group_from_item(item)


def group_from_item(item: CampaignGroupItem) -> CampaignGroup:
    return CampaignGroup(customer_id=item.pk.split("#", 2)[2], campaign_id=item.campaign_id, group=item.group,
                         assigned_at=keys.parse_iso(item.assigned_at), orders=int(item.orders or 0),
                         revenue_minor=int(item.revenue_minor or 0),
                         variant=int(item.variant) if item.variant is not None else None)


def counted_order(shop_id: str, group: CampaignGroup, revenue_minor: int):
    """The group item with one more order, and the condition that nobody counted one meanwhile
    (for the order's transaction: ``Change.items``)."""
    item = CampaignGroupItem(keys.customer_pk(shop_id, group.customer_id), keys.CAMPAIGN_GROUP_SK,
                             campaign_id=group.campaign_id, group=group.group, variant=group.variant,
                             assigned_at=keys.iso(group.assigned_at),
                             orders=group.orders + 1, revenue_minor=group.revenue_minor + revenue_minor)
    condition = (CampaignGroupItem.campaign_id == group.campaign_id) & (CampaignGroupItem.orders == group.orders)
    return item, condition
