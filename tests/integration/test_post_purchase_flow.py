"""The whole post-purchase path: webhook → outbox → SQS → the app's queue handler → SES."""
from __future__ import annotations

import email
import email.policy
import os

import boto3
from chalice.test import Client

from app import app
from devstack.samples import DEFAULT_EMAIL, sample_order_payload, sample_refund_payload
from devstack.sent_mail import sent_mail
from tests.support.webhooks import deliver_shopify
from tests.support.queues import drain_queue
from tests.support.outbox import outbox_items
from tests.support.send_handler import run_send_handler


def test_paid_order_sends_one_post_purchase_email_in_the_customers_language(deps, shopify_shop, moto_endpoint):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    already = len(sent_mail(moto_endpoint))
    order = sample_order_payload("shopify", order_id="1001", email=DEFAULT_EMAIL, locale="uk")
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, order, "orders/paid")
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret,
             sample_refund_payload("shopify", refund_id="r1", order_id="1001"), "refunds/create")

    queued = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    # the refund sends nothing (the order's spend reached Silver: its tier mail goes beside it)
    assert sorted(m["template"] for m in queued) == ["post_purchase", "tier_upgrade"]
    queued = [m for m in queued if m["template"] == "post_purchase"]
    run_send_handler(queued)
    run_send_handler(queued)  # SQS delivers at least once: the second run must not send again

    mails = sent_mail(moto_endpoint)[already:]
    assert len(mails) == 1
    mail = mails[0]
    assert mail.recipients == [DEFAULT_EMAIL]
    parsed = email.message_from_string(mail.raw, policy=email.policy.default)
    assert "loyalty@shop.example" in str(parsed["From"])
    assert parsed["List-Unsubscribe"] is None  # transactional
    text, html = mail.part("text/plain"), mail.part("text/html")
    assert "189" in text and "189" in html  # points earned for this order
    assert "Чохол" in html  # the order's items, in the shop's words
    assert "{{" not in text + html
    assert outbox_items(shopify_shop.shop_id, "post_purchase") == []  # handled: the sweeper has nothing to do
