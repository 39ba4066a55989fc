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
from tests.integration.test_concurrency import _deliver
from tests.integration.test_outbox import _drain, _outbox_items


def _run_send_handler(messages: list[dict]) -> None:
    import json

    with Client(app, stage_name="local") as client:
        for message in messages:
            event = client.events.generate_sqs_event(message_bodies=[json.dumps(message)],
                                                     queue_name=os.environ["LOYALTY_SEND_QUEUE"])
            client.lambda_.invoke("send_email", event)


def test_paid_order_sends_one_post_purchase_email_in_the_customers_language(deps, shopify_shop, moto_endpoint):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    already = len(sent_mail(moto_endpoint))
    order = sample_order_payload("shopify", order_id="1001", email=DEFAULT_EMAIL, locale="uk")
    _deliver(deps, shopify_shop.shop_id, shopify_shop.secret, order, "orders/paid")
    _deliver(deps, shopify_shop.shop_id, shopify_shop.secret,
             sample_refund_payload("shopify", refund_id="r1", order_id="1001"), "refunds/create")

    queued = _drain(os.environ["LOYALTY_SEND_QUEUE"])
    assert len(queued) == 1  # the refund sends nothing
    _run_send_handler(queued)
    _run_send_handler(queued)  # SQS delivers at least once: the second run must not send again

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
    assert _outbox_items(shopify_shop.shop_id) == []  # handled: the sweeper has nothing to do
