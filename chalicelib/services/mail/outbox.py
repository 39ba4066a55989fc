"""The outbox: e-mails owed by committed changes, on their way to the send queue.

The outbox item is written in the same transaction as the change that owes the
e-mail, so a crash after the commit loses nothing. Right after the commit the
message is published to SQS (the webhook does not wait for SES, only for this
enqueue); when the sender has handled it, the item is deleted. Items still
there after a few minutes (the publish failed, or the process died) are
published again by the sweeper, and the send log's idempotency key makes the
second publish harmless.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Iterable

from chalicelib import bootstrap
from chalicelib.store import keys
from chalicelib.store.models import OutboxItem
from chalicelib.store.shops.shops import ShopRepository

logger = logging.getLogger("loyalty.outbox")
LINGER = timedelta(minutes=3)
_queue_urls: dict[str, str] = {}


def publish(messages: Iterable[dict]) -> None:
    messages = list(messages)
    if not messages:
        return
    try:
        _send(messages)
    except Exception:  # the sweeper publishes it again; the webhook's effect is already committed
        logger.exception("could not publish %d outbox message(s); the sweeper will retry", len(messages))


def publish_or_raise(messages: list[dict]) -> None:
    """Publish now or fail loudly (for senders that keep their own position, like campaigns)."""
    _send(messages)


def waiting_to_send() -> int:
    """Messages in the send queue, visible or being handled (SQS's approximate counts)."""
    client = bootstrap.sqs_client()
    attributes = client.get_queue_attributes(
        QueueUrl=_queue_url(client, bootstrap.settings().send_queue_name),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def deliver_record(record) -> dict:
    """The send queue's handler for one SQS record (Chalice's SQSRecord)."""
    raw = record.to_dict()
    attempt = int(raw.get("attributes", {}).get("ApproximateReceiveCount", "1"))
    return deliver(record.body, receipt_handle=record.receipt_handle, attempt=attempt)


def deliver(body: str | dict, *, receipt_handle: str | None = None, attempt: int = 1) -> dict:
    """Send the e-mail, then clear its outbox item.

    SES throttling and 5xx come back as TransientSendError: the message is made
    invisible for a growing time (10 s, 20 s, 40 s … up to 15 minutes) and the
    error re-raised, so SQS retries it with backoff and, after its
    maxReceiveCount, parks it in the dead-letter queue.
    """
    from chalicelib.mail.messenger import TransientSendError
    from chalicelib.services.mail import mailer

    try:
        message = json.loads(body) if isinstance(body, str) else dict(body)
        if not isinstance(message, dict):
            raise ValueError("not a JSON object")
    except (ValueError, TypeError) as error:
        poison = mailer.PoisonMessage(f"send message: not a JSON object ({error})")
        _report_poison(poison, attempt)
        raise poison from None
    outbox_key = message.pop("outbox_key", None)
    if message.get("campaign_id") and message.get("shop_id"):
        from chalicelib.services.campaigns.campaigns import campaign_gate

        gate = campaign_gate(message["shop_id"], message["campaign_id"])
        if gate == "wait":  # paused: the message waits on the queue for the resume
            if receipt_handle:
                _back_off(receipt_handle, attempt)
            raise TransientSendError("the campaign is paused")
        if gate == "drop":
            return {"status": "dropped", "reason": "campaign cancelled or stopped",
                    "idempotency_key": message.get("idempotency_key")}
    try:
        result = mailer.send_message(message)
    except TransientSendError:
        if receipt_handle:
            _back_off(receipt_handle, attempt)
        raise
    except mailer.PoisonMessage as error:
        # It can never be sent: the dead-letter queue keeps it for a person; the sweeper must not.
        _clear(outbox_key)
        if not error.recorded_before:
            _count(message, {"status": "failed"})
        _report_poison(error, attempt)
        raise
    _clear(outbox_key)
    _count(message, result)
    return result


def _report_poison(error: Exception, attempt: int) -> None:
    logger.error("poison message on receive %d (the dead-letter queue takes it after the queue's maxReceiveCount): %s",
                 attempt, error)


def _count(message: dict, result: dict) -> None:
    """Final outcomes per campaign, or per flow (template), with skips by reason (a
    duplicate was counted already)."""
    shop_id, template = message.get("shop_id"), message.get("template")
    if not shop_id or not template or result.get("status") in ("duplicate", "dropped"):
        return
    from chalicelib.domain.campaigns.links import subject_of
    from chalicelib.store.campaigns.results import Results

    outcome = result["status"] if result["status"] not in ("skipped", "held") \
        else f"{result['status']}_{result.get('reason', 'other')}"
    try:
        Results(shop_id, subject_of(message.get("campaign_id"), template)).add(outcome, message.get("customer_id", ""))
    except Exception:  # a lost count must not resend an e-mail
        logger.warning("could not count a send outcome", exc_info=True)


def _clear(outbox_key: dict | None) -> None:
    if outbox_key:
        bootstrap.ensure_store()
        OutboxItem(outbox_key["pk"], outbox_key["sk"]).delete()


def backoff_seconds(attempt: int) -> int:
    return min(900, 10 * 2 ** max(attempt - 1, 0))


def _back_off(receipt_handle: str, attempt: int) -> None:
    client = bootstrap.sqs_client()
    try:
        client.change_message_visibility(QueueUrl=_queue_url(client, bootstrap.settings().send_queue_name),
                                          ReceiptHandle=receipt_handle, VisibilityTimeout=backoff_seconds(attempt))
    except Exception:  # the queue's own visibility timeout still brings it back
        logger.warning("could not delay the retry of a throttled e-mail", exc_info=True)


def republish_lingering(now: datetime | None = None) -> dict:
    """Publish again what has sat in the outbox too long (scheduled)."""
    bootstrap.ensure_store()
    now = now or bootstrap.now()
    before = keys.iso(now - LINGER)
    republished = 0
    for shop_id, _ in ShopRepository().list_ids():
        for shard in range(keys.OUTBOX_SHARDS):
            lingering = [item.message for item in
                         OutboxItem.query(keys.outbox_pk(shop_id, shard), OutboxItem.sk < before)]
            if lingering:
                _send(lingering)
                republished += len(lingering)
    return {"republished": republished}


def _send(messages: list[dict]) -> None:
    client = bootstrap.sqs_client()
    url = _queue_url(client, bootstrap.settings().send_queue_name)
    for start in range(0, len(messages), 10):
        batch = messages[start:start + 10]
        response = client.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(message)} for i, message in enumerate(batch)])
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused {len(response['Failed'])} message(s): {response['Failed'][0]}")


def _queue_url(client, name: str) -> str:
    cache_key = f"{client.meta.endpoint_url}|{name}"
    if cache_key not in _queue_urls:
        _queue_urls[cache_key] = client.get_queue_url(QueueName=name)["QueueUrl"]
    return _queue_urls[cache_key]
