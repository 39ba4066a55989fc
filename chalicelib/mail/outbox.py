"""The outbox publisher: e-mails owed by committed changes, on their way to the send queue
(the send queue's consumer is services/mail/send_consumer.py).

The outbox item is written in the same transaction as the change that owes the
e-mail, so a crash after the commit loses nothing. With the table's stream on
(``LOYALTY_OUTBOX_STREAM=1``: the deployed stages and ``make run``), the new item
reaches the send queue through the DynamoDB Stream (``publish_stream_records``, the
``publish_outbox`` function), so a webhook does its one read and one transaction
and nothing else; without it (tests, scripts) the message is published to SQS right
after the commit. When the sender has handled it, the item is deleted. Items still
there after a few minutes (the stream or the publish failed, or the process died)
are published again by the sweeper, and the send log's idempotency key makes the
second publish harmless.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping, Optional

from chalicelib.domain.mail.outbox import RECOMMEND_WITH
from chalicelib.store import keys

logger = logging.getLogger("loyalty.outbox")
LINGER = timedelta(minutes=3)


OUTBOX_KEY_PREFIX = "OUTBOX#"  # store/keys.py outbox_pk


Prepare = Optional[Callable[[list], list]]  # what a message gets on its way to the send queue (recommendations)


def publish(deps, messages: Iterable[dict], prepare: Prepare = None) -> None:
    """After a commit that wrote outbox items: publish them now, unless the table's stream does."""
    messages = list(messages)
    if not messages or deps.config.outbox_stream:
        return
    try:
        _send(deps, messages, prepare)
    except Exception:  # the sweeper publishes it again; the webhook's effect is already committed
        logger.exception("could not publish %d outbox message(s); the sweeper will retry", len(messages))


def publish_or_raise(deps, messages: list[dict]) -> None:
    """Publish now or fail loudly (for senders that keep their own position, like campaigns)."""
    _send(deps, messages)


def waiting_to_send(deps) -> int:
    """Messages in the send queue, visible or being handled (SQS's approximate counts)."""
    return deps.send_queue.waiting()


def republish_lingering(deps, now: datetime | None = None, prepare: Prepare = None) -> dict:
    """Publish again what has sat in the outbox too long (scheduled)."""
    now = now or deps.clock()
    before = keys.iso(now - LINGER)
    republished = 0
    for shop_id, _ in deps.repos.shops().list_ids():
        for shard in range(keys.OUTBOX_SHARDS):
            lingering = deps.repos.outbox().lingering(shop_id, shard, before)
            if lingering:
                _send(deps, lingering, prepare)
                republished += len(lingering)
    return {"republished": republished}


def messages_from_stream(records: Iterable[Mapping]) -> list[dict]:
    """The send messages of new outbox items in DynamoDB Stream records (NEW_IMAGE view). Other
    items, updates and deletes are not mail; a record that cannot be read is logged and left to
    the sweeper (it still lingers in the outbox), never allowed to block the stream's shard."""
    messages = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        change = record.get("dynamodb") or {}
        key = change.get("Keys") or {}
        pk, sk = (key.get("pk") or {}).get("S", ""), (key.get("sk") or {}).get("S", "")
        if not pk.startswith(OUTBOX_KEY_PREFIX):
            continue
        try:
            message = json.loads(((change.get("NewImage") or {}).get("message") or {})["S"])
            if not isinstance(message, dict):
                raise ValueError("not a JSON object")
        except (KeyError, TypeError, ValueError) as error:
            logger.error("outbox stream record %s unreadable (%s); the sweeper publishes the item", pk, error)
            continue
        message["outbox_key"] = {"pk": pk, "sk": sk}  # the sender deletes the item once handled
        messages.append(message)
    return messages


def publish_stream_records(deps, records: Iterable[Mapping], prepare: Prepare = None) -> dict:
    """The stream handler: new outbox items to the send queue, ten per SQS request. A failed send
    raises, so Lambda retries the batch (the send log's idempotency key makes a repeat harmless)."""
    messages = messages_from_stream(records)
    if messages:
        _send(deps, messages, prepare)
    return {"published": len(messages)}


def _send(deps, messages: list[dict], prepare: Prepare = None) -> None:
    messages = prepare(messages) if prepare else messages
    for message in messages:  # not looked up (no prepare here): the e-mail goes without recommendations
        data = message.get("data")
        if isinstance(data, dict):
            data.pop(RECOMMEND_WITH, None)
    deps.send_queue.send(messages)
