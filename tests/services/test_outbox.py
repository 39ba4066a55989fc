"""A paid order owes one post-purchase e-mail: enqueued after the commit, never
lost (outbox swept), never for refunds or duplicates."""
from __future__ import annotations

import json
import os
from datetime import timedelta

import boto3
import pytest

from devstack.samples import DEFAULT_EMAIL, sample_order_payload, sample_refund_payload
from chalicelib.mail import outbox
from chalicelib.services.mail import send_consumer
from chalicelib.store.models import OutboxItem
from tests.support.webhooks import deliver_shopify
from tests.support.queues import drain_queue
from tests.support.outbox import outbox_items

EMAIL = DEFAULT_EMAIL


def test_paid_order_enqueues_one_post_purchase_message(deps, shopify_shop):
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    order = sample_order_payload("shopify", order_id="1001", email=EMAIL)
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, order, "orders/paid")
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, order, "orders/updated", "other-event")
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret,
             sample_refund_payload("shopify", refund_id="r1", order_id="1001"), "refunds/create")

    messages = drain_queue(queue, "post_purchase")
    assert len(messages) == 1
    message = messages[0]
    assert message["template"] == "post_purchase" and message["category"] == "transactional"
    assert message["idempotency_key"] == "post_purchase:1001"
    assert message["data"]["points_earned"] == 189
    assert message["data"]["cashback_minor"] == 7598
    assert [item["quantity"] for item in message["data"]["items"]] == [2, 1]
    assert "email" not in json.dumps(message).lower().replace("email_", "")  # no address travels in the queue
    assert len(outbox_items(shopify_shop.shop_id, "post_purchase")) == 1  # kept until the sender has handled it


def test_delivered_message_clears_its_outbox_item(deps, shopify_shop, monkeypatch):
    from chalicelib.services.mail import mailer

    sent = []
    monkeypatch.setattr(mailer, "send_message", lambda deps, message, **_: sent.append(message) or {"status": "sent"})
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload("shopify", order_id="7", email=EMAIL),
             "orders/paid")
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "post_purchase")
    assert send_consumer.deliver(deps, json.dumps(message)) == {"status": "sent"}
    assert "outbox_key" not in sent[0]
    assert outbox_items(shopify_shop.shop_id, "post_purchase") == []


def test_a_lost_publish_is_republished_by_the_sweeper(deps, shopify_shop, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_send", _raise)  # SQS unreachable right after the commit
        result = deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret,
                          sample_order_payload("shopify", order_id="8", email=EMAIL), "orders/paid")
    assert result["result"] == "applied"  # the webhook still succeeds
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    assert drain_queue(queue) == []
    assert outbox.republish_lingering(deps, deps.clock())["republished"] == 0  # too fresh to be lost
    # the post-purchase mail and the tier-upgrade one (the sample order reaches the first tier)
    assert outbox.republish_lingering(deps, deps.clock() + timedelta(minutes=5))["republished"] == 2
    (republished,) = drain_queue(queue, "post_purchase")
    assert republished["idempotency_key"] == "post_purchase:8"
    # The item stores the message without its own key (bytes: write units); the sweeper gives it back,
    # so the sender deletes the item once handled.
    (item,) = outbox_items(shopify_shop.shop_id, "post_purchase")
    assert "outbox_key" not in item.message
    assert republished["outbox_key"] == {"pk": item.pk, "sk": item.sk}
    from chalicelib.services.mail import mailer

    monkeypatch.setattr(mailer, "send_message", lambda deps, message, **_: {"status": "skipped"})
    send_consumer.deliver(deps, json.dumps(republished))
    assert outbox_items(shopify_shop.shop_id, "post_purchase") == []


def _raise(*_args, **_kwargs):
    raise ConnectionError("SQS is down")


def test_throttled_send_is_retried_later_with_growing_delays(deps, shopify_shop, monkeypatch):
    from chalicelib.mail.messenger import TransientSendError
    from chalicelib.services.mail import mailer

    def throttled(deps, message, **_):
        raise TransientSendError("Throttling: Maximum sending rate exceeded")

    monkeypatch.setattr(mailer, "send_message", throttled)
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload("shopify", order_id="9", email=EMAIL),
             "orders/paid")
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["LOYALTY_SEND_QUEUE"])["QueueUrl"]
    waiting = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MaxNumberOfMessages=10)["Messages"]
    (received,) = [m for m in waiting if json.loads(m["Body"])["template"] == "post_purchase"]
    with pytest.raises(TransientSendError):
        send_consumer.deliver(deps, received["Body"], receipt_handle=received["ReceiptHandle"], attempt=3)
    # 40 s invisible: not back after the queue's 1 s visibility timeout
    import time

    time.sleep(1.5)
    back = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, MaxNumberOfMessages=10).get("Messages", [])
    assert [m for m in back if json.loads(m["Body"])["template"] == "post_purchase"] == []
    assert [send_consumer.backoff_seconds(n) for n in (1, 2, 3, 8, 20)] == [10, 20, 40, 900, 900]
    assert len(outbox_items(shopify_shop.shop_id, "post_purchase")) == 1  # not handled yet: kept for the retry


def test_a_sent_message_deletes_its_outbox_item_in_its_final_write(deps, shopify_shop, monkeypatch):
    from chalicelib.mail.messenger import Messenger  # noqa: F401  (the stub speaks its protocol)
    from chalicelib.store.mail import mail_store

    class Ses:
        def send_raw(self, **_):
            return "ses-1"

    deps.messenger = Ses()
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret,
                    sample_order_payload("shopify", order_id="11", email=EMAIL), "orders/paid")
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "post_purchase")
    cleared = []
    monkeypatch.setattr(send_consumer, "_clear", lambda deps, key: cleared.append(key))
    result = send_consumer.deliver(deps, json.dumps(message))
    assert result["status"] == "sent" and result["outbox_cleared"] is True
    # gone with the send log's "sent"
    assert cleared == [] and outbox_items(shopify_shop.shop_id, "post_purchase") == []
    assert deps.repos.mail(shopify_shop.shop_id).load_send(message["idempotency_key"]).status == mail_store.SENT


def test_an_outbox_key_of_another_shop_is_never_deleted(deps, shopify_shop):
    from chalicelib.store.mail.mail_store import _own_outbox_key

    assert _own_outbox_key("shop-a", {"pk": "OUTBOX#shop-a#3", "sk": "x"})
    assert not _own_outbox_key("shop-a", {"pk": "OUTBOX#shop-b#3", "sk": "x"})
    assert not _own_outbox_key("shop-a", {"pk": "OUTBOX#shop-a-2#3", "sk": "x"})
    assert not _own_outbox_key("shop-a", {"pk": "PROFILE#shop-a#c", "sk": "P"})
    assert not _own_outbox_key("shop-a", {"pk": ["OUTBOX#shop-a#1"], "sk": "x"})
    assert not _own_outbox_key("shop-a", "OUTBOX#shop-a#1")
