"""Clicks on tracked links: one item per clicked send, and each customer's latest click.

- ``CLICK#{shop}#{send key}`` / ``CLICK``: clicks on one e-mail (count, first and
  last time, what it counts towards). Its first click makes the e-mail's unique click.
- ``CUST#{shop}#{customer}`` / ``LASTCLICK``: the customer's latest click (campaign or
  flow, send, time), read by the paid-order transaction for attribution. Written only
  when newer than what is there, so clicks handled out of order still leave the latest.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

from chalicelib.domain.campaigns.links import Click
from chalicelib.store import keys
from chalicelib.store.connection import connection
from chalicelib.store.models import Item

CLICK_RECORD_DAYS = 400


class ClickStore:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def record(self, customer_id: str, click: Click) -> bool:
        """Record a click; True when it is the e-mail's first."""
        client, table, now = connection().client, Item.Meta.table_name, keys.iso(click.clicked_at)
        response = client.update_item(
            TableName=table,
            Key={"pk": {"S": keys.click_pk(self.shop_id, click.send_key)}, "sk": {"S": keys.CLICK_SK}},
            UpdateExpression="SET #type = :type, subject = :subject, customer_id = :customer, last_at = :now, "
                             "first_at = if_not_exists(first_at, :now), #ttl = :ttl ADD clicks :one",
            ExpressionAttributeNames={"#type": "type", "#ttl": "ttl"},
            ExpressionAttributeValues={
                ":type": {"S": "click"}, ":subject": {"S": click.subject}, ":customer": {"S": customer_id},
                ":now": {"S": now}, ":one": {"N": "1"},
                ":ttl": {"N": str(int((click.clicked_at + timedelta(days=CLICK_RECORD_DAYS)).timestamp()))}},
            ReturnValues="UPDATED_OLD")
        first = "clicks" not in response.get("Attributes", {})
        try:
            client.put_item(
                TableName=table,
                Item={"pk": {"S": keys.customer_pk(self.shop_id, customer_id)}, "sk": {"S": keys.LAST_CLICK_SK},
                      "type": {"S": "last_click"}, "subject": {"S": click.subject},
                      "send_key": {"S": click.send_key}, "clicked_at": {"S": now}},
                ConditionExpression="attribute_not_exists(clicked_at) OR clicked_at <= :now",
                ExpressionAttributeValues={":now": {"S": now}})
        except client.exceptions.ConditionalCheckFailedException:
            pass  # a later click is already recorded: it wins
        return first


def click_from_row(row: Optional[dict]) -> Optional[Click]:
    """A LASTCLICK item (low-level attribute values) as a domain Click."""
    if not row or "clicked_at" not in row:
        return None
    value = lambda name: row[name]["S"] if isinstance(row[name], dict) else row[name]  # noqa: E731
    return Click(subject=value("subject"), send_key=value("send_key"), clicked_at=keys.parse_iso(value("clicked_at")))
