"""The outbox publisher: e-mails owed by committed changes, on their way to the send queue
(the send queue's consumer is services/mail/send_consumer.py).

The outbox item is written in the same transaction as the change that owes the
e-mail, so a crash after the commit loses nothing. Right after the commit the
message is published to SQS (the webhook does not wait for SES, only for this
enqueue); when the sender has handled it, the item is deleted. Items still
there after a few minutes (the publish failed, or the process died) are
published again by the sweeper, and the send log's idempotency key makes the
second publish harmless.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Iterable

from chalicelib.store import keys

logger = logging.getLogger("loyalty.outbox")
LINGER = timedelta(minutes=3)


def publish(deps, messages: Iterable[dict]) -> None:
    messages = list(messages)
    if not messages:
        return
    try:
        _send(deps, messages)
    except Exception:  # the sweeper publishes it again; the webhook's effect is already committed
        logger.exception("could not publish %d outbox message(s); the sweeper will retry", len(messages))


def publish_or_raise(deps, messages: list[dict]) -> None:
    """Publish now or fail loudly (for senders that keep their own position, like campaigns)."""
    _send(deps, messages)


def waiting_to_send(deps) -> int:
    """Messages in the send queue, visible or being handled (SQS's approximate counts)."""
    return deps.send_queue.waiting()


def republish_lingering(deps, now: datetime | None = None) -> dict:
    """Publish again what has sat in the outbox too long (scheduled)."""
    now = now or deps.clock()
    before = keys.iso(now - LINGER)
    republished = 0
    for shop_id, _ in deps.repos.shops().list_ids():
        for shard in range(keys.OUTBOX_SHARDS):
            lingering = deps.repos.outbox().lingering(shop_id, shard, before)
            if lingering:
                _send(deps, lingering)
                republished += len(lingering)
    return {"republished": republished}


def _send(deps, messages: list[dict]) -> None:
    deps.send_queue.send(messages)
