"""A send-queue batch as Lambda hands it over (up to 10 messages): per e-mail one read and one
claim, each sent e-mail marked ``sent`` (outbox item, results counter; its key in the message's tags,
no SES id lookup) in the next
e-mail's claim transaction, the last one's in one write at the batch's end. What that must not
change: a copy of a message in the same batch is not sent twice, a final write that fails leaves
its message to be retried, not lost, and a crash mid-batch leaves at most one e-mail sent but
not marked (the one duplicate the send path allows)."""
from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib import composition
from chalicelib.domain.mail.message_tags import decode_key
from chalicelib.services.mail import send_consumer
from chalicelib.store.mail import mail_store
from devstack.samples import sample_order_payload
from tests.support.dynamodb_requests import count_dynamodb_requests
from tests.support.outbox import outbox_items
from tests.support.queues import drain_queue
from tests.support.webhooks import deliver_shopify


class Ses:
    """SES stubbed: takes every message and answers with an id."""

    def __init__(self):
        self.sent: list[str] = []
        self.tags: dict[str, dict] = {}  # SES message id → the tags it was sent with

    def send_raw(self, *, sender, recipient, raw, configuration_set, tags):
        self.sent.append(recipient)
        self.tags[f"ses-{len(self.sent)}"] = dict(tags)
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
    return drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "post_purchase")


def _invoke(messages: list[dict]) -> tuple[dict, list[str]]:
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=[json.dumps(m) for m in messages],
                                                 queue_name="loyalty-mail-send")
        for n, record in enumerate(event["Records"]):  # as SQS gives them: each its own id
            record["messageId"] = f"message-{n}"
        response = client.lambda_.invoke("send_email", event)
    return response.payload, [record["messageId"] for record in event["Records"]]


def test_a_batch_reads_and_claims_each_email_and_marks_them_all_sent_in_one_write(deps, shopify_shop, ses,
                                                                                   monkeypatch):
    _invoke(_orders(deps, shopify_shop, [0]))  # warms the shop, sender and template caches, as a running Lambda has them
    messages = _orders(deps, shopify_shop, range(1, 6))
    calls = count_dynamodb_requests(monkeypatch)

    response, _ = _invoke(messages)

    assert response == {"batchItemFailures": []}
    assert sorted(ses.sent) == sorted(f"buyer{n}+news@example.com" for n in range(6))
    # per e-mail its read (profile, lots, preferences) and its claim; for the batch one final write
    assert sorted(calls) == sorted(["Query"] * 5 + ["TransactWriteItems"] * 6)
    mail = deps.repos.mail(shopify_shop.shop_id)
    for message in messages:
        log = mail.load_send(message["idempotency_key"])
        assert log.status == "sent" and log.claim_id is None
        # SES's events find it from the tags: no SES id lookup item written
        assert decode_key(ses.tags[log.ses_message_id]["send"]) == message["idempotency_key"]
        assert mail_store.find_ses_message(log.ses_message_id) is None
    assert outbox_items(shopify_shop.shop_id, "post_purchase") == []
    # counted with the final write: exactly once each, the warm-up's e-mail included
    assert deps.repos.results(shopify_shop.shop_id, "flow:post_purchase").totals()["sent"] == 6


def test_a_copy_of_a_message_in_the_same_batch_is_not_sent_twice(deps, shopify_shop, ses):
    (message,) = _orders(deps, shopify_shop, [1])

    response, ids = _invoke([message, message])

    assert ses.sent == ["buyer1+news@example.com"]
    # the first one's mark cannot ride in its copy's claim (one item twice in a transaction): it is
    # written first, so the copy finds the send log `sent` and is a duplicate at once
    assert response == {"batchItemFailures": []}
    again, _ = _invoke([message])
    assert again == {"batchItemFailures": []} and len(ses.sent) == 1
    assert deps.repos.mail(shopify_shop.shop_id).load_send(message["idempotency_key"]).status == "sent"


def test_a_final_write_that_fails_leaves_only_its_own_message_to_come_back(deps, shopify_shop, ses, monkeypatch):
    (done,) = _orders(deps, shopify_shop, [0])
    _invoke([done])
    messages = _orders(deps, shopify_shop, [1, 2])
    original, tries = mail_store._write_sent, []

    def failing(sent):
        tries.append([sent.send.idempotency_key])
        if sent.send.idempotency_key == messages[1]["idempotency_key"]:
            raise ConnectionError("DynamoDB unreachable")
        return original(sent)

    monkeypatch.setattr(mail_store, "_write_sent", failing)
    # 1's mark rides in 2's claim; 2's would ride in the copy of 0's, which claims nothing (a duplicate)
    response, ids = _invoke(messages + [done])

    assert tries and all(keys == [messages[1]["idempotency_key"]] for keys in tries)  # tried alone, never lost
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    mail = deps.repos.mail(shopify_shop.shop_id)
    assert [mail.load_send(m["idempotency_key"]).status for m in messages] == ["sent", "claimed"]
    assert len(ses.sent) == 3
    # its outbox item stays too: nothing of the failed final write landed
    assert len(outbox_items(shopify_shop.shop_id, "post_purchase")) == 1


def test_a_mark_whose_ride_is_refused_by_the_next_claim_is_written_alone(deps, shopify_shop, ses):
    messages = _orders(deps, shopify_shop, [1, 2])
    deps.repos.mail(shopify_shop.shop_id).suppress("buyer2+news@example.com", "bounce", None, deps.clock())

    response, _ = _invoke(messages)  # 2's claim, carrying 1's mark, fails its suppression check

    assert response == {"batchItemFailures": []} and ses.sent == ["buyer1+news@example.com"]
    mail = deps.repos.mail(shopify_shop.shop_id)
    first, second = (mail.load_send(m["idempotency_key"]) for m in messages)
    assert (first.status, second.status, second.reason) == ("sent", "skipped", "suppressed")
    assert decode_key(ses.tags[first.ses_message_id]["send"]) == messages[0]["idempotency_key"]
    assert outbox_items(shopify_shop.shop_id, "post_purchase") == []
    totals = deps.repos.results(shopify_shop.shop_id, "flow:post_purchase").totals()
    assert totals["sent"] == 1 and totals["skipped_suppressed"] == 1


class ProcessDied(BaseException):
    """The Lambda was killed (timeout, out of memory): no except clause of ours runs."""


@pytest.mark.parametrize("k", [1, 4, 9, 10])
def test_a_crash_after_the_kth_send_of_a_batch_leaves_at_most_one_email_to_send_again(deps, shopify_shop, ses, k):
    messages = _orders(deps, shopify_shop, range(1, 11))
    real_send = ses.send_raw

    def dying_after_k(**kwargs):
        message_id = real_send(**kwargs)
        if len(ses.sent) == k:
            raise ProcessDied()  # right after SES took the k-th e-mail
        return message_id

    ses.send_raw = dying_after_k
    with pytest.raises(ProcessDied):
        _invoke(messages)
    assert len(ses.sent) == k

    mail = deps.repos.mail(shopify_shop.shop_id)
    statuses = [getattr(mail.load_send(m["idempotency_key"]), "status", None) for m in messages]
    assert statuses == ["sent"] * (k - 1) + ["claimed"] + [None] * (10 - k)  # one e-mail sent but not marked

    # The whole batch comes back once the dead worker's lease has run out: only that one goes again.
    ses.send_raw = real_send
    later = deps.clock() + timedelta(seconds=deps.config.mail_lease_seconds + 1)
    composition.use_clock(lambda: later)
    response, _ = _invoke(messages)

    assert response == {"batchItemFailures": []}
    assert ses.sent.count(f"buyer{k}+news@example.com") == 2
    assert sorted(ses.sent) == sorted([f"buyer{n}+news@example.com" for n in range(1, 11)] + [f"buyer{k}+news@example.com"])
    assert {mail.load_send(m["idempotency_key"]).status for m in messages} == {"sent"}
    assert outbox_items(shopify_shop.shop_id, "post_purchase") == []


def test_the_same_message_delivered_alone_still_writes_its_final_write_at_once(deps, shopify_shop, ses):
    (message,) = _orders(deps, shopify_shop, [1])
    result = send_consumer.deliver(deps, json.dumps(message))  # not from a batch: nobody would write it later
    assert result["status"] == "sent" and "final_write" not in result
    assert deps.repos.mail(shopify_shop.shop_id).load_send(message["idempotency_key"]).status == "sent"
    assert deps.repos.results(shopify_shop.shop_id, "flow:post_purchase").totals()["sent"] == 1
