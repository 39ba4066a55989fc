"""SES failing 30 % of sends with throttling and 5xx, while the post-purchase e-mails of 30 paid
orders go through the real send queue and handler: nothing lost, nothing sent twice."""
from __future__ import annotations

import json
import os
import random
import threading
from collections import Counter

import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries.standard import ExponentialBackoff

from chalicelib import composition
from chalicelib.mail.rate_limit import RateLimitedMessenger, take_slots_in_dynamodb
from chalicelib.services.mail import send_consumer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store import keys
from chalicelib.store.mail.mail_store import MailStore
from chalicelib.store.models import OutboxItem
from tests.support.aws_clients import registered, unregistered
from tests.support.ses import ses_messenger
from tests.support.shops import register_shop
from tests.support.mail import BELOW_FIRST_TIER, deliver_order, verify_sender
from tests.support.emulator import accepted_by_ses
from tests.support.lambda_queue import drain, queue_depth

# The send path is the subject, not the store: DynamoDB in memory, SQS and SES moto's models in this
# process (the emulator answered each of its 530 requests in 30-50 ms).
pytestmark = pytest.mark.in_memory

ORDERS = 30
FAULTS = [(429, "TooManyRequestsException"), (400, "Throttling"), (500, "InternalFailure"),
          (503, "ServiceUnavailable"), (502, "BadGateway")]


class _Body:
    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_):
        yield self._data


class FlakySes:
    """Fails a share of SES sends with throttling or a 5xx, answering before the call reaches
    SES (so a failed send sent nothing, as with SES). The decision is per send: botocore's own
    retry of the same request meets the same answer, as in an SES brown-out, so the failure
    reaches the queue's retry. ``ses``: what answers the requests that get through (moto's stub of
    botocore's requests, which sees every request it is registered for)."""

    def __init__(self, share: float, seed: int, ses):
        self._share, self._random, self._lock = share, random.Random(seed), threading.Lock()
        self._ses = ses
        self._decided: dict[str, tuple[int, str] | None] = {}
        self.sends, self.calls, self.faults = 0, 0, Counter()

    def __call__(self, request, event_name: str, **kwargs):
        if event_name != "before-send.sesv2.SendEmail":
            return self._ses(request=request, event_name=event_name, **kwargs)
        send = request.headers["amz-sdk-invocation-id"]  # one per call, the same on botocore's retries of it
        send = send.decode() if isinstance(send, bytes) else send
        with self._lock:
            self.calls += 1
            if send not in self._decided:
                self.sends += 1
                fault = self._random.choice(FAULTS) if self._random.random() < self._share else None
                self._decided[send] = fault
                if fault:
                    self.faults[fault[1]] += 1
            fault = self._decided[send]
        if fault is None:
            return self._ses(request=request, event_name=event_name, **kwargs)
        status, code = fault
        body = json.dumps({"message": f"injected {code}"}).encode()
        return AWSResponse(request.url, status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"},
                           _Body(body))


@pytest.fixture
def flaky_ses(deps, monkeypatch):
    ses = ses_messenger()
    composition.use(messenger=RateLimitedMessenger(ses, take_slots_in_dynamodb, rate=1000))
    monkeypatch.setattr(send_consumer, "backoff_seconds", lambda attempt: 0)  # SQS's back-off, without the wait
    # botocore's own retries of a throttled send (standard mode), without their jittered sleeps
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda backoff, context: 0)
    # moto's stub answers (and records) every request it sees, whatever an earlier handler answered:
    # on this client the stub is reached only through FlakySes, as a failed send never reaches SES.
    # The client is shared across tests (tests/support/aws_clients.py): both changes last this test only.
    from moto.core.models import botocore_stubber

    flaky = FlakySes(share=0.3, seed=11, ses=botocore_stubber)
    with unregistered(ses.client, "before-send", botocore_stubber), registered(ses.client, "before-send", flaky):
        yield flaky


def test_ses_failing_thirty_percent_loses_nothing_and_sends_nothing_twice(deps, client, flaky_ses, monkeypatch):
    shop = register_shop(client, "flaky-ses-shop", "shopify")
    verify_sender()
    recipients = [f"flaky-{n}@example.com" for n in range(ORDERS)]
    for n, address in enumerate(recipients):
        # below the first tier: one e-mail per order, no tier mail beside it
        assert deliver_order(deps, shop, address, f"fl-{n}", lines=BELOW_FIRST_TIER)["result"] == "applied"

    queue = os.environ["LOYALTY_SEND_QUEUE"]
    outcomes = drain(client, queue)

    # The faults happened, at about the share asked, and every one came back through the queue.
    assert 0.2 * flaky_ses.sends <= sum(flaky_ses.faults.values()) <= 0.4 * flaky_ses.sends, flaky_ses.faults
    assert len(flaky_ses.faults) >= 3, flaky_ses.faults
    assert outcomes == Counter({"ok": ORDERS, "TransientSendError": sum(flaky_ses.faults.values())}), outcomes

    # Nothing sent twice, nothing lost: one e-mail per order, each send log final and sent.
    accepted = accepted_by_ses(recipients)
    assert accepted == Counter({address: 1 for address in recipients})
    store, loaded = MailStore(shop.shop_id), load_shop(deps, shop.shop_id)
    for n, address in enumerate(recipients):
        customer = loaded.customer_id_for(address)
        logs = [store.load_send(key) for key in _send_keys(shop.shop_id, customer)]
        assert [log.status for log in logs] == ["sent"], (address, logs)
    assert queue_depth(queue) == 0
    assert queue_depth(f"{queue}-dlq") == 0
    lingering = [item for shard in range(keys.OUTBOX_SHARDS) for item in OutboxItem.query(keys.outbox_pk(shop.shop_id, shard))]
    assert lingering == [], "every outbox item was cleared once its e-mail was handled"


def _send_keys(shop_id: str, customer_id: str) -> list[str]:
    """The idempotency keys of the customer's sends (the send log is keyed by them): every item of
    the table under the shop's send logs that names the customer, whatever index holds it."""
    from pynamodb.expressions.operand import Path

    from chalicelib.store.models import Item

    items = Item.scan(Item.pk.startswith(f"SEND#{shop_id}#") & (Path("customer_id") == customer_id),
                      consistent_read=True)
    return [item.pk.split("#", 2)[2] for item in items]
