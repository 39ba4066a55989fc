"""SQS edges: each record of a batch handled on its own, failures reported per message.

The deployed event sources have ``FunctionResponseTypes: [ReportBatchItemFailures]``
(set by ``infra/package.py``; Chalice has no switch for it), so Lambda deletes the
records that succeeded and leaves only the failed ones on the queue to be retried
and, after their tries, dead-lettered. A batch in which every record failed raises
the last error instead: the invocation counts as an error (metrics, alarms) and
all of it is retried, which is the same thing.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

logger = logging.getLogger("loyalty.queues")


def handle_each(event, handle: Callable[[Any], Any]) -> dict:
    """Run ``handle(record)`` for each record of a Chalice ``SQSEvent``; returns Lambda's
    partial batch response ``{"batchItemFailures": [{"itemIdentifier": message id}, ...]}``."""
    failures: list[dict[str, str]] = []
    last_error: BaseException | None = None
    handled = 0
    for record in event:
        handled += 1
        try:
            handle(record)
        except Exception as error:  # one message's failure must not take its batch-mates down
            message_id = record.to_dict().get("messageId", "")
            logger.warning("message %s failed (%s); it will be retried", message_id, type(error).__name__,
                           exc_info=True)
            failures.append({"itemIdentifier": message_id})
            last_error = error
    if last_error is not None and len(failures) == handled:
        raise last_error
    return {"batchItemFailures": failures}
