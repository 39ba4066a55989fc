"""A newly paid order that lifts the customer to a higher tier queues the "you reached <tier>"
mail beside the order's own, in the order's transaction: once per order and tier, never for a
refund, never when the shop switched the flow off."""
from __future__ import annotations

import email
import json
import os
from email import policy

import boto3

from chalicelib.services.mail import mailer
from devstack.samples import DEFAULT_EMAIL, sample_order_payload, sample_refund_payload
from tests.support.mail import RecordingMessenger
from tests.support.outbox import outbox_items
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN
from tests.support.webhooks import deliver_shopify

SMALL_ORDER = [{"id": "1", "sku": "STICKER", "title": "Sticker", "quantity": 1, "unit_price": "100.00",
                "discount": "0.00", "gift_card": False, "categories": []}]


def _paid(deps, shop, order_id: str, lines=None, topic: str = "orders/paid", event_id=None) -> dict:
    order = sample_order_payload("shopify", order_id=order_id, email=DEFAULT_EMAIL, lines=lines)
    if event_id is None:
        return deliver_shopify(deps, shop.shop_id, shop.secret, order, topic)
    return deliver_shopify(deps, shop.shop_id, shop.secret, order, topic, event_id)


def _tier_mails() -> list[dict]:
    return drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "tier_upgrade")


def _rendered(deps, message: dict) -> tuple[str, str]:
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    messenger = RecordingMessenger()
    assert mailer.send_message(deps, message, messenger=messenger)["status"] == "sent"
    (sent,) = messenger.sent
    parsed = email.message_from_bytes(sent["raw"], policy=policy.default)
    return str(parsed["Subject"]), parsed.get_body(("plain",)).get_content()


def test_the_order_that_reaches_silver_queues_one_tier_upgrade_mail_naming_it(deps, shopify_shop):
    _paid(deps, shopify_shop, "3200")  # 3,799 UAH: past Silver's 2,000

    (message,) = _tier_mails()
    customer = message["customer_id"]
    assert message["category"] == "transactional"
    assert message["data"] == {"tier": "Silver", "previous_tier": None}
    assert message["idempotency_key"] == f"tier_upgrade:{customer}:Silver:3200"
    (item,) = outbox_items(shopify_shop.shop_id, "tier_upgrade")  # written with the order's commit
    subject, text = _rendered(deps, message)
    assert "Silver" in subject and "Silver" in text


def test_the_same_webhook_again_queues_nothing_new(deps, shopify_shop):
    _paid(deps, shopify_shop, "3201", event_id="evt-1")
    assert len(_tier_mails()) == 1

    assert _paid(deps, shopify_shop, "3201", event_id="evt-1")["result"] == "duplicate"  # the platform's retry
    _paid(deps, shopify_shop, "3201", topic="orders/updated", event_id="evt-2")  # the same order, another event

    assert _tier_mails() == []
    assert len(outbox_items(shopify_shop.shop_id, "tier_upgrade")) == 1


def test_an_order_that_crosses_no_tier_queues_none_and_the_next_climb_names_the_tier_left(deps, shopify_shop):
    _paid(deps, shopify_shop, "3202", lines=SMALL_ORDER)
    assert _tier_mails() == []

    _paid(deps, shopify_shop, "3203")  # 100 + 3,799: Silver
    _paid(deps, shopify_shop, "3204")  # + 3,799 = 7,698: Gold
    assert [(m["data"]["tier"], m["data"]["previous_tier"]) for m in _tier_mails()] == \
        [("Silver", None), ("Gold", "Silver")]


def test_a_refund_or_cancellation_queues_no_tier_mail_and_climbing_back_is_news_again(deps, shopify_shop):
    _paid(deps, shopify_shop, "3205")
    assert len(_tier_mails()) == 1
    shop_id, secret = shopify_shop.shop_id, shopify_shop.secret
    refund = sample_refund_payload("shopify", refund_id="r-1", order_id="3205")
    assert deliver_shopify(deps, shop_id, secret, refund, "refunds/create")["result"] == "applied"
    cancelled = sample_order_payload("shopify", order_id="3205", email=DEFAULT_EMAIL, cancelled=True)
    assert deliver_shopify(deps, shop_id, secret, cancelled, "orders/cancelled")["result"] == "applied"
    assert _tier_mails() == []

    _paid(deps, shopify_shop, "3208")  # the cancellation took Silver back: climbing again is news again
    (again,) = _tier_mails()
    assert again["data"] == {"tier": "Silver", "previous_tier": None}
    assert again["idempotency_key"].endswith(":Silver:3208")


def test_a_shop_that_switched_tier_upgrade_off_gets_none(deps, client, shopify_shop):
    response = client.http.put(f"/admin/shops/{shopify_shop.shop_id}/flows/tier_upgrade/switch", headers=ADMIN,
                               body=json.dumps({"on": False}).encode())
    assert response.status_code == 200

    _paid(deps, shopify_shop, "3206")

    assert _tier_mails() == []
    assert outbox_items(shopify_shop.shop_id, "tier_upgrade") == []
