"""Points redeemed for a code: the customer gets the code by e-mail (the ``reward_code`` mail,
transactional), queued in the redemption's own transaction, once per code."""
from __future__ import annotations

import os

import boto3

from chalicelib.services.mail import mailer
from tests.support.clock import install_clock
from tests.support.mail import NOW, RecordingMessenger, deliver_order
from tests.support.queues import drain_queue
from tests.support.shops import register_shop


def test_a_redemption_mails_its_code_with_the_value_and_expiry_it_was_given(deps, client):
    install_clock(NOW)  # the app redeems on the tests' clock: the order's points lapse a year on
    shop = register_shop(client, "redeem-shop", "shopify", program={"point_value": "0.5"})
    deliver_order(deps, shop, "olena@example.com", "r-1", locale="uk")
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    drain_queue(queue)

    status, answer = shop.redeem("olena@example.com", 120)
    refused, _ = shop.redeem("olena@example.com", 10**6)  # more than the balance: no code, no mail

    assert (status, refused) == (201, 409), answer
    (message,) = drain_queue(queue)
    assert (message["template"], message["category"]) == ("reward_code", "transactional")
    assert message["idempotency_key"] == f"reward_code:{answer['code']}"
    assert message["data"] == {"code": answer["code"], "value_minor": 6000, "points": 120,
                               "expires_at": answer["expires_at"]}

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    messenger = RecordingMessenger()
    assert mailer.send_message(deps, message, messenger=messenger)["status"] == "sent"
    (sent,) = messenger.messages()
    text = sent.get_body(("plain",)).get_content()
    assert answer["code"] in text and "60,00" in text  # 120 points at 0.50 each, in the customer's Ukrainian
