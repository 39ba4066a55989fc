"""A message that can never be sent ends in the dead-letter queue after the queue's tries, and
is reported on every try: an ERROR log line naming the reason, and (when it names a real
shop) a `failed` send log with the reason. Two kinds of poison: a malformed message, and a
well-formed one whose template cannot render its data.
(tests/integration/test_dead_letters.py holds the plain malformed case through chalice's events.)"""
from __future__ import annotations

import json
import logging
import os

import boto3
import pytest

from chalicelib.services.mail import send_consumer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.mail.mail_store import MailStore
from devstack.queues import MAX_RECEIVES
from tests.support.shops import register_shop
from tests.support.mail import deliver_order, verify_sender
from tests.support.lambda_queue import drain, queue_depth


@pytest.fixture
def poison_shop(deps, client, monkeypatch):
    monkeypatch.setattr(send_consumer, "backoff_seconds", lambda attempt: 0)
    shop = register_shop(client, "poison-shop", "shopify")
    verify_sender()
    deliver_order(deps, shop, "olena@example.com", "po-1")
    drain(client, os.environ["LOYALTY_SEND_QUEUE"])  # the order's own post-purchase e-mail goes out
    # A failed receive comes back at once, not after the test queue's 1 s: the tries are counted
    # and redriven by the queue as before, without twelve seconds of waiting for them.
    sqs = boto3.client("sqs")
    sqs.set_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=os.environ["LOYALTY_SEND_QUEUE"])["QueueUrl"],
                             Attributes={"VisibilityTimeout": "0"})
    return shop


def _publish(body: dict | str) -> None:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["LOYALTY_SEND_QUEUE"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))


def _dead_letters() -> list[str]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{os.environ['LOYALTY_SEND_QUEUE']}-dlq")["QueueUrl"]
    # Long polling, as a real consumer does: the message the redrive just moved may still be
    # inside the visibility window of its last receive.
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5)
    return [m["Body"] for m in received.get("Messages", [])]


def _poison_cases(shop_id: str, customer_id: str) -> dict:
    return {
        "malformed": ({"template": "post_purchase", "shop_id": shop_id}, "customer_id"),
        "not JSON": ("{not json", "send message"),
        "unknown shop": ({"idempotency_key": "k-1", "shop_id": "no-such-shop", "customer_id": customer_id,
                          "template": "post_purchase", "category": "transactional", "data": {},
                          "created_at": "2026-11-25T10:00:00Z"}, "no-such-shop"),
        "template cannot render its data": (
            {"idempotency_key": "order:po-broken", "shop_id": shop_id, "customer_id": customer_id,
             "template": "post_purchase", "category": "transactional", "data": {"order_id": "po-broken"},
             "created_at": "2026-11-25T10:00:00Z"}, "post_purchase"),
    }


@pytest.mark.parametrize("case", ["malformed", "not JSON", "unknown shop", "template cannot render its data"])
def test_a_poison_message_is_dead_lettered_after_its_tries_and_reported(deps, client, poison_shop, caplog, case):
    customer_id = load_shop(deps, poison_shop.shop_id).customer_id_for("olena@example.com")
    body, reason_words = _poison_cases(poison_shop.shop_id, customer_id)[case]
    _publish(body)

    with caplog.at_level(logging.ERROR, logger="loyalty"):
        outcomes = drain(client, os.environ["LOYALTY_SEND_QUEUE"])

    # Every receive failed as poison and none succeeded; the queue's redrive parked it after its
    # tries (moto counts a receive the handler did not finish in time, under load, as a try too).
    tries = outcomes["PoisonMessage"]
    assert set(outcomes) == {"PoisonMessage"} and 1 <= tries <= MAX_RECEIVES, outcomes
    parked = _dead_letters()
    assert parked == [body if isinstance(body, str) else json.dumps(body)]
    assert queue_depth(os.environ["LOYALTY_SEND_QUEUE"]) == 0

    reports = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name == "loyalty.outbox"]
    assert len(reports) == tries, reports
    assert all(reason_words in report for report in reports), reports
    assert f"receive {tries}" in reports[-1] or tries < MAX_RECEIVES

    if case == "template cannot render its data":
        log = MailStore(poison_shop.shop_id).load_send("order:po-broken")
        assert log.status == "failed" and "template" in log.reason
