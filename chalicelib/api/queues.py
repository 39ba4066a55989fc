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

from chalicelib.logs import log_context

logger = logging.getLogger("loyalty.queues")


def handle_each(event, handle: Callable[[Any], Any]) -> dict:
    """Run ``handle(record)`` for each record of a Chalice ``SQSEvent`` (Powertools' batch
    processor); returns Lambda's partial batch response ``{"batchItemFailures":
    [{"itemIdentifier": message id}, ...]}``. ``handle`` gets Chalice's ``SQSRecord``, as before."""
    # Imported here: only the queue handlers pay for it, not every cold start (tests/infra/test_import_cost.py).
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from chalice.app import SQSRecord

    raw = event.to_dict()
    if not raw.get("Records"):
        return {"batchItemFailures": []}
    context = getattr(event, "context", None)

    def handle_record(record) -> None:
        with log_context(correlation_id=record.message_id):
            try:
                handle(SQSRecord(record.raw_event, context))
            except Exception as error:  # one message's failure must not take its batch-mates down
                logger.warning("message %s failed (%s); it will be retried", record.message_id,
                               type(error).__name__, exc_info=True)
                raise

    # The whole batch failing raises its last error ourselves (below), not Powertools' summary error:
    # what the invocation ended with stays the error that ended it (metrics, logs, tests).
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(event=raw, record_handler=handle_record, processor=processor)
    if processor.exceptions and len(processor.exceptions) == len(raw["Records"]):
        raise processor.exceptions[-1][1]
    return {"batchItemFailures": list(response.get("batchItemFailures", []))}
