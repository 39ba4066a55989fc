"""A send-queue batch as Lambda hands it over (up to 10 messages): per e-mail one read and one
claim, and the batch's sent e-mails marked ``sent`` (SES id lookup, outbox item, results counter)
in one write at its end. What that must not change: a copy of a message in the same batch is
not sent twice, and a final write that fails leaves its messages to be retried, not lost."""
from __future__ import annotations

import json
import os

import pytest
from chalice.test import Client

from app import app
from chalicelib import composition
from chalicelib.services.mail import send_consumer
from chalicelib.store.mail import mail_store
from devstack.samples import sample_order_payload
from tests.support.outbox import outbox_items
from tests.support.queues import drain_queue
from tests.support.webhooks import deliver_shopify


class Ses:
    """SES stubbed: takes every message and answers with an id."""

    def __init__(self):
        self.sent: list[str] = []

    def send_raw(self, *, sender, recipient, raw, configuration_set, tags):
        self.sent.append(recipient)
        return f"ses-{len(self.sent)}"


@pytest.fixture
def ses(deps):
    stub = Ses()
    composition.use(messenger=stub)
    return stub


def _orders(deps, shop, numbers) -> list[dict]:
    for n in numbers:
        deliver_shopify(deps, shop.shop_id, shop.secret,
                        sample_order_payload("shopify", order_id=f"b{n}", email=f"buyer{n}+news@example.com"),
                        "orders/paid")
    return drain_queue(os.environ["LOYALTY_SEND_QUEUE"])


def _invoke(messages: list[dict]) -> tuple[dict, list[str]]:
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=[json.dumps(m) for m in messages],
                                                 queue_name="loyalty-mail-send")
        response = client.lambda_.invoke("send_email", event)
    return response.payload, [record["messageId"] for record in event["Records"]]


def _counting(monkeypatch) -> list[str]:
    from pynamodb.connection.base import Connection

    calls: list[str] = []
    original = Connection._make_api_call

    def counting(self, operation_name, operation_kwargs):
        calls.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counting)
    return calls


def test_a_batch_reads_and_claims_each_email_and_marks_them_all_sent_in_one_write(deps, shopify_shop, ses,
                                                                                   monkeypatch):
    _invoke(_orders(deps, shopify_shop, [0]))  # warms the shop, sender and template caches, as a running Lambda has them
    messages = _orders(deps, shopify_shop, range(1, 6))
    calls = _counting(monkeypatch)

    response, _ = _invoke(messages)

    assert response == {"batchItemFailures": []}
    assert sorted(ses.sent) == sorted(f"buyer{n}+news@example.com" for n in range(6))
    # per e-mail its read (profile, lots, preferences) and its claim; for the batch one final write
    assert sorted(calls) == sorted(["Query"] * 5 + ["TransactWriteItems"] * 6)
    mail = deps.repos.mail(shopify_shop.shop_id)
    for message in messages:
        log = mail.load_send(message["idempotency_key"])
        assert log.status == "sent" and log.claim_id is None
        assert mail_store.find_ses_message(log.ses_message_id).idempotency_key == message["idempotency_key"]
    assert outbox_items(shopify_shop.shop_id) == []
    # counted with the final write: exactly once each, the warm-up's e-mail included
    assert deps.repos.results(shopify_shop.shop_id, "flow:post_purchase").totals()["sent"] == 6


def test_a_copy_of_a_message_in_the_same_batch_is_not_sent_twice(deps, shopify_shop, ses):
    (message,) = _orders(deps, shopify_shop, [1])

    response, ids = _invoke([message, message])

    assert ses.sent == ["buyer1+news@example.com"]
    # the copy met the first one's live claim: it comes back later, when the send log says sent
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    again, _ = _invoke([message])
    assert again == {"batchItemFailures": []} and len(ses.sent) == 1
    assert deps.repos.mail(shopify_shop.shop_id).load_send(message["idempotency_key"]).status == "sent"


def test_a_failed_batch_write_is_written_per_email_and_only_the_ones_still_failing_come_back(
        deps, shopify_shop, ses, monkeypatch):
    messages = _orders(deps, shopify_shop, [1, 2, 3])
    original, tries = mail_store._write_sent, []

    def failing(writes):
        tries.append([w.send.idempotency_key for w in writes])
        if len(writes) > 1 or writes[0].send.idempotency_key == messages[1]["idempotency_key"]:
            raise ConnectionError("DynamoDB unreachable")
        return original(writes)

    monkeypatch.setattr(mail_store, "_write_sent", failing)
    response, ids = _invoke(messages)

    assert len(tries) == 4  # the batch's one write, then each e-mail's alone
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    mail = deps.repos.mail(shopify_shop.shop_id)
    assert [mail.load_send(m["idempotency_key"]).status for m in messages] == ["sent", "claimed", "sent"]
    # its outbox item stays too: nothing of the failed final write landed
    assert len(outbox_items(shopify_shop.shop_id)) == 1


def test_the_same_message_delivered_alone_still_writes_its_final_write_at_once(deps, shopify_shop, ses):
    (message,) = _orders(deps, shopify_shop, [1])
    result = send_consumer.deliver(deps, json.dumps(message))  # not from a batch: nobody would write it later
    assert result["status"] == "sent" and "final_write" not in result
    assert deps.repos.mail(shopify_shop.shop_id).load_send(message["idempotency_key"]).status == "sent"
    assert deps.repos.results(shopify_shop.shop_id, "flow:post_purchase").totals()["sent"] == 1
