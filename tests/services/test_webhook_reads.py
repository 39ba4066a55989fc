"""What the webhook's one read holds: the order's codes, the last click and the campaign group only
for an order this event may pay (each item of the TransactGetItems costs 2 read units, found or not; docs/benchmarks.md,
"Fewer capacity units")."""
from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.services.shops.lookup import load_shop
from chalicelib.store import keys
from chalicelib.store.models import LastClickItem
from devstack.samples import sample_order_payload
from tests.support.clock import T0
from tests.support.shops import register_shop

EMAIL = "olena.koval+reads@example.com"


def test_an_unpaid_or_cancelled_order_reads_no_click_and_its_payment_is_still_attributed(
        fake_deps, memory_client, memory_store, monkeypatch):
    shop = register_shop(memory_client, "reads-shop", "shopify")
    customer_id = load_shop(fake_deps, shop.shop_id).customer_id_for(EMAIL)
    LastClickItem(keys.customer_pk(shop.shop_id, customer_id), keys.LAST_CLICK_SK, subject="campaign:spring",
                  send_key="campaign:spring:" + customer_id, clicked_at=keys.iso(T0 - timedelta(hours=2))).save()
    read = []
    real_call = memory_store.dynamodb._make_api_call

    def recorded(operation, parameters):
        if operation == "TransactGetItems":
            read.append({entry["Get"]["Key"]["sk"]["S"] for entry in parameters["TransactItems"]})
        return real_call(operation, parameters)

    monkeypatch.setattr(memory_store.dynamodb, "_make_api_call", recorded)

    def deliver(topic: str, **order) -> dict:
        payload = sample_order_payload("shopify", order_id="R1", email=EMAIL, created_at=T0 - timedelta(hours=1),
                                       **order)
        response = shop.deliver(payload, topic=topic, event_id=f"{topic}-R1")
        assert response.status_code == 200, response.body
        return json.loads(response.body)

    assert deliver("orders/create", paid=False, discount_codes=["PTS-UNKNOWN1"])["result"] == "applied"
    assert not {keys.LAST_CLICK_SK, keys.CAMPAIGN_GROUP_SK, keys.CODE_SK} & read[-1]
    assert keys.ORDER_SK in read[-1] and keys.PROFILE_SK in read[-1]

    paid = deliver("orders/paid", discount_codes=["PTS-UNKNOWN1"])
    assert {keys.LAST_CLICK_SK, keys.CAMPAIGN_GROUP_SK, keys.CODE_SK} <= read[-1]
    assert paid["attributed_to"] == "campaign:spring"  # the click still counts for the payment

    deliver("orders/cancelled", cancelled=True)
    assert keys.LAST_CLICK_SK not in read[-1]
