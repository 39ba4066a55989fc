"""The worker dies in the middle of a send, and the queue brings the message back.

The documented guarantee (docs/reliability.md, chalicelib/services/mail/mailer.py): at least once;
a duplicate only if the process dies after SES accepted the message and before the send log
says ``sent``; never two copies while a claim is live. Through the real queue, handler and
(emulated) SES, for both crash points. (tests/integration/test_mailer.py covers the same lease
logic with a stand-in messenger.)"""
from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import composition
from chalicelib.services.mail import send_consumer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.loyalty import storefront
from chalicelib.store.mail import mail_store
from chalicelib.store.mail.mail_store import MailStore
from tests.support.ses import ses_messenger
from tests.support.shops import register_shop
from tests.support.mail import BELOW_FIRST_TIER, deliver_order, verify_sender
from tests.support.emulator import accepted_by_ses
from tests.support.lambda_queue import drain, queue_depth

LEASE_SECONDS = 60


class ProcessDied(BaseException):
    """The Lambda was killed (timeout, out of memory): no except clause of ours runs."""


class Clock:
    """The service's clock (the one its ``Deps`` carry), moved by the test: the lease runs out on cue."""

    def __init__(self):
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


@pytest.fixture
def clock(deps):
    clock = Clock()
    composition.use_clock(clock)
    return clock


@pytest.fixture
def ses(deps, monkeypatch):
    messenger = ses_messenger()
    composition.use(messenger=messenger, config={"mail_lease_seconds": LEASE_SECONDS})
    monkeypatch.setattr(send_consumer, "backoff_seconds", lambda attempt: 0)
    return messenger


def _die_once(monkeypatch, owner, name: str) -> list:
    """Make ``owner.name`` kill the process the first time it is called."""
    original, died = getattr(owner, name), []

    def dying(*args, **kwargs):
        if not died:
            died.append(name)
            raise ProcessDied()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, dying)
    return died


@pytest.mark.parametrize("crash_point, copies", [
    ("after SES accepted, before the send log says sent", 2),
    ("after the claim, before SES", 1),
])
def test_a_crash_mid_send_keeps_the_documented_guarantee_on_resume(deps, client, ses, clock, monkeypatch, crash_point,
                                                                     copies):
    shop = register_shop(client, "crash-shop", "shopify")
    verify_sender()
    address = f"crash-{uuid.uuid4().hex[:8]}@example.com"  # the emulator's SES outbox lives for the session
    # below the first tier: the order's one e-mail is the only one on the queue (no tier mail)
    assert deliver_order(deps, shop, address, "cr-1", lines=BELOW_FIRST_TIER)["result"] == "applied"
    balance = storefront.customer_view(deps, load_shop(deps, shop.shop_id), address)["points_balance"]
    if crash_point.startswith("after SES"):
        died = _die_once(monkeypatch, mail_store, "write_sent")
    else:
        died = _die_once(monkeypatch, ses, "send_raw")
    queue = os.environ["LOYALTY_SEND_QUEUE"]

    # First delivery: the process dies; the message stays on the queue.
    with pytest.raises(ProcessDied):
        drain(client, queue, timeout=5)
    assert died
    sent_before_resume = accepted_by_ses([address])[address]
    assert sent_before_resume == (1 if crash_point.startswith("after SES") else 0)
    store = MailStore(shop.shop_id)
    key = _only_send_key(shop.shop_id)
    assert store.load_send(key).status == "claimed"

    # Redelivered while the dead worker's claim is live: nobody sends (no parallel copy).
    outcomes = _deliver_visible_once(client, queue)
    assert outcomes == {"SendInProgress"}
    assert accepted_by_ses([address])[address] == sent_before_resume

    # After the lease: the resume sends, records `sent`, clears the queue; later copies are duplicates.
    clock.offset = timedelta(seconds=LEASE_SECONDS + 1)
    drain(client, queue)
    log = store.load_send(key)
    assert log.status == "sent" and log.ses_message_id
    assert accepted_by_ses([address])[address] == copies
    assert queue_depth(queue) == 0 and queue_depth(f"{queue}-dlq") == 0

    # The crash touched no ledger effect.
    assert storefront.customer_view(deps, load_shop(deps, shop.shop_id), address)["points_balance"] == balance


def _deliver_visible_once(client, queue: str) -> set[str]:
    import boto3

    from tests.support.lambda_queue import sqs_record

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    outcomes: set[str] = set()
    deadline = time.monotonic() + 20  # the dead worker's message is visible again after the queue's timeout
    while not outcomes and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           MessageSystemAttributeNames=["All"]).get("Messages", []):
            try:
                client.lambda_.invoke("send_email", {"Records": [sqs_record(message, arn)]})
                outcomes.add("ok")
            except Exception as error:
                outcomes.add(type(error).__name__)
    return outcomes


def _only_send_key(shop_id: str) -> str:
    import boto3

    from chalicelib.store.models import Item

    items = boto3.client("dynamodb").scan(
        TableName=Item.Meta.table_name, FilterExpression="begins_with(pk, :p)",
        ExpressionAttributeValues={":p": {"S": f"SEND#{shop_id}#"}}, ConsistentRead=True)["Items"]
    assert len(items) == 1, items
    return items[0]["pk"]["S"].split("#", 2)[2]
