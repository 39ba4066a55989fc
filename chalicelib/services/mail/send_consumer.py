"""The send queue's consumer: one queued e-mail sent, its outbox item cleared, its outcome counted.

A message that can never be sent (poison) goes to the dead-letter queue; SES throttling and
5xx come back as ``TransientSendError`` and are retried with a growing delay.
"""
from __future__ import annotations

import json
import logging
from typing import Optional

from chalicelib.logs import log_context

logger = logging.getLogger("loyalty.outbox")


class BatchFinals:
    """A queue batch's sent e-mail whose final write (send log ``sent``, SES id lookup, outbox item
    deleted, results counted) is not written yet: the previous sent e-mail's, which rides in the
    next message's claim transaction (``MailStore.claim``). Per e-mail, the read and the claim; per
    batch, one final write for the last one (``finish_batch``). Since the mark goes with the very
    next claim, before the next SES send, a crash leaves at most one e-mail sent but unmarked."""

    def __init__(self, size: int = 0):
        self.pending = None  # Optional[mail_store.SentWrite], with its SQS message id
        self.failed: list[str] = []  # SQS message ids whose final write failed: they come back
        self.records_left = size  # the batch's records not handed to deliver_record yet

    def next_record(self) -> int:
        """How many records the batch still holds, the one about to be delivered included (the
        shared rate limiter's hint: it reserves that many slots in one request, over the current
        second and the following ones)."""
        left, self.records_left = max(1, self.records_left), max(0, self.records_left - 1)
        return left

    def write_now(self) -> None:
        """The pending final write, if it did not ride (its successor claimed nothing, or the batch
        ends), written at once; tried twice, then its message is reported failed."""
        from chalicelib.store.mail import mail_store

        write, self.pending = self.pending, None
        if write is None or write.written:
            return
        for attempt in range(2):
            try:
                mail_store.write_sent(write)
                return
            except Exception:
                logger.warning("a sent e-mail's final write failed (message %s, try %d)", write.message_id,
                               attempt + 1, exc_info=True)
        logger.error("a sent e-mail's final write failed (message %s): SQS brings it back", write.message_id)
        if write.message_id and write.message_id not in self.failed:
            self.failed.append(write.message_id)


def deliver_record(deps, record, finals: Optional[BatchFinals] = None) -> dict:
    """The send queue's handler for one SQS record (Chalice's SQSRecord)."""
    raw = record.to_dict()
    attributes = raw.get("attributes", {})
    attempt = int(attributes.get("ApproximateReceiveCount", "1"))
    _record_queue_age(deps, attributes.get("SentTimestamp"))
    if finals is not None:
        _expect_batch_sends(deps, finals.next_record())
    return deliver(deps, record.body, receipt_handle=record.receipt_handle, attempt=attempt, finals=finals,
                   message_id=raw.get("messageId"))


def _expect_batch_sends(deps, count: int) -> None:
    """The messenger is told how many e-mails this batch may still send (mail/rate_limit.py: the
    shared rate's slots are reserved for them in one request, not one request each)."""
    from chalicelib.mail.rate_limit import expect_sends

    expect_sends(deps.messenger, count)


def finish_batch(deps, finals: BatchFinals, response: dict) -> dict:
    """Write the final write still pending (the batch's last sent e-mail's) and return the batch
    response. The messages whose final write failed (here, or alone when their successor claimed
    nothing or its claim was refused) are reported failed, as a failed final write of a single
    message always was: SQS brings them back and, once the lease has run out, they are sent again
    (the one duplicate the send path allows, mailer.py)."""
    finals.write_now()
    failures = list(response.get("batchItemFailures", []))
    for message_id in finals.failed:
        if all(f.get("itemIdentifier") != message_id for f in failures):
            failures.append({"itemIdentifier": message_id})
    finals.failed.clear()
    return {"batchItemFailures": failures}


def _record_queue_age(deps, sent_timestamp_ms) -> None:
    """How long the message waited on the send queue (SQS's SentTimestamp, epoch milliseconds)."""
    if deps.metrics is None or not str(sent_timestamp_ms or "").isdigit():
        return
    now = deps.clock()
    deps.metrics.seconds("QueueAge", max(0.0, now.timestamp() - int(sent_timestamp_ms) / 1000), now)


_OUTCOME_METRICS = {"sent": "EmailsSent", "failed": "EmailsFailed", "skipped": "EmailsSkipped", "held": "EmailsHeld"}


def _record_outcome_metric(deps, result: dict) -> None:
    """E-mails sent, failed, skipped (by reason) and held, as CloudWatch metrics."""
    name = _OUTCOME_METRICS.get(result.get("status"))
    if deps.metrics is not None and name:
        deps.metrics.count(name, deps.clock(), reason=result.get("reason") if name != "EmailsSent" else None)


def deliver(deps, body: str | dict, *, receipt_handle: str | None = None, attempt: int = 1,
            finals: Optional[BatchFinals] = None, message_id: Optional[str] = None) -> dict:
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
    with log_context(shop=_text(message.get("shop_id")), template=_text(message.get("template")),
                     campaign=_text(message.get("campaign_id")), message_key=_text(message.get("idempotency_key"))):
        return _deliver_message(deps, message, receipt_handle, attempt, finals, message_id)


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _deliver_message(deps, message: dict, receipt_handle: str | None, attempt: int,
                     finals: Optional[BatchFinals] = None, message_id: Optional[str] = None) -> dict:
    from chalicelib.mail.messenger import TransientSendError
    from chalicelib.services.mail import mailer

    outbox_key = message.pop("outbox_key", None)
    if message.get("campaign_id") and message.get("shop_id"):
        from chalicelib.services.campaigns.campaigns import campaign_gate

        gate = campaign_gate(deps, message["shop_id"], message["campaign_id"])
        if gate in ("wait", "drop") and finals is not None:  # no claim for the previous e-mail's mark to ride
            finals.write_now()
        if gate == "wait":  # paused: the message waits on the queue for the resume
            if receipt_handle:
                _back_off(deps, receipt_handle, attempt)
            raise TransientSendError("the campaign is paused")
        if gate == "drop":
            return {"status": "dropped", "reason": "campaign cancelled or stopped",
                    "idempotency_key": message.get("idempotency_key")}
    try:
        result = _send(deps, message, outbox_key, finals)
    except TransientSendError:
        if receipt_handle:
            _back_off(deps, receipt_handle, attempt)
        raise
    except mailer.PoisonMessage as error:
        # It can never be sent: the dead-letter queue keeps it for a person; the sweeper must not.
        _clear(deps, outbox_key)
        if not error.recorded_before:
            _count(deps, message, {"status": "failed"})
            _record_outcome_metric(deps, {"status": "failed", "reason": "poison"})
        _report_poison(error, attempt)
        raise
    final = result.pop("final_write", None)
    if final is not None:  # sent: its count goes with its final write, in the next claim or at the batch's end
        final.counter = _sent_counter(deps, message, result)
        final.message_id = message_id
    else:
        if not result.get("outbox_cleared"):  # a sent message deleted its outbox item in its final write
            _clear(deps, outbox_key)
        _count(deps, message, result)
    _record_outcome_metric(deps, result)
    return result


def _send(deps, message: dict, outbox_key, finals: Optional[BatchFinals]) -> dict:
    """``mailer.send_message``; the previous e-mail's final write rides in this one's claim, and is
    written at once if this one claims nothing (skipped, duplicate, refused, failed before its claim);
    a sent one's own final write becomes the pending one."""
    from chalicelib.services.mail import mailer

    if finals is None:
        return mailer.send_message(deps, message, outbox_key=outbox_key)
    try:
        result = mailer.send_message(deps, message, outbox_key=outbox_key, rider=finals.pending, keep_final=True)
    except Exception:  # (a process death, a BaseException, writes nothing more: as in Lambda)
        finals.write_now()
        raise
    finals.write_now()  # nothing when it rode in this message's claim
    finals.pending = result.get("final_write")
    return result


def _report_poison(error: Exception, attempt: int) -> None:
    logger.error("poison message on receive %d (the dead-letter queue takes it after the queue's maxReceiveCount): %s",
                 attempt, error)


def _count(deps, message: dict, result: dict) -> None:
    """Final outcomes per campaign, or per flow (template), with skips by reason (a
    duplicate was counted already)."""
    shop_id, template = message.get("shop_id"), message.get("template")
    if not shop_id or not template or result.get("status") in ("duplicate", "dropped"):
        return
    if result["status"] == "deferred" and not result.get("first_deferral"):
        return  # deferred again (its release lost the slot): counted when first deferred
    from chalicelib.domain.campaigns.links import subject_of

    counts = _outcome_counts(message, result)
    try:
        # a sent one also notes when the campaign or flow last went out (the templates list shows it)
        deps.repos.results(shop_id, subject_of(message.get("campaign_id"), template)).add_many(
            counts, message.get("customer_id", ""), last_at=deps.clock() if result["status"] == "sent" else None)
    except Exception:  # a lost count must not resend an e-mail
        logger.warning("could not count a send outcome", exc_info=True)


def _sent_counter(deps, message: dict, result: dict):
    """A sent message's counts, as the addition its final write carries (counted exactly once)."""
    from chalicelib.domain.campaigns.links import subject_of

    return deps.repos.results(message["shop_id"], subject_of(message.get("campaign_id"), message["template"])).addition(
        _outcome_counts(message, result), message.get("customer_id", ""), last_at=deps.clock())


def _outcome_counts(message: dict, result: dict) -> dict:

    outcome = result["status"] if result["status"] not in ("skipped", "held") \
        else f"{result['status']}_{result.get('reason', 'other')}"
    if result["status"] == "deferred" and result.get("reason") == "quiet_hours":
        outcome = "deferred_quiet_hours"  # waits for the customer's morning, not for the cap
    counts = {outcome: 1}
    if isinstance(message.get("variant"), int):  # an A/B test's outcomes, per variant
        counts[f"variant_{message['variant']}_{outcome}"] = 1
    if message.get("deferred_since") and result["status"] == "sent":
        counts["sent_after_deferral"] = 1
    return counts


def _clear(deps, outbox_key: dict | None) -> None:
    if outbox_key:
        deps.repos.outbox().clear(outbox_key)


def backoff_seconds(attempt: int) -> int:
    return min(900, 10 * 2 ** max(attempt - 1, 0))


def _back_off(deps, receipt_handle: str, attempt: int) -> None:
    try:
        deps.send_queue.delay(receipt_handle, backoff_seconds(attempt))
    except Exception:  # the queue's own visibility timeout still brings it back
        logger.warning("could not delay the retry of a throttled e-mail", exc_info=True)
