"""The SES event path measured: CPU time, DynamoDB requests and capacity units per event.

    python -m bench.ses_events [--sends N] [--json FILE]

Real SES event notifications, as SES publishes them to its SNS topic and SNS delivers them to the
events queue (an SNS ``Notification`` envelope around the SES record: ``eventType``, ``mail`` with
its ``messageId`` and the tags the sender set, and the event's own part), go through the deployed
handler (``routes/mail.py`` ``delivery_events_handler``, called as Lambda calls it) in batches of
ten, the events queue's ``batch_size``. The sends they refer to are real: paid orders through the
webhook, their post-purchase e-mails through the send handler with SES stubbed (it answers a
message id), so the send log and the tags (or, for a key too long for a tag, the SES id lookup) are
what production writes.

Per kind of event (delivery, open, click, hard bounce, soft bounce, complaint, and a redelivered
delivery batch): the handler thread's CPU time per event (``time.thread_time``: the metered
emulator answers in its own thread, which is not counted), the DynamoDB requests per event by
operation, and the read and write units they cost on an on-demand table (bench.capacity: item
sizes, index writes, transactions double), counted at the emulator. One JSON object is printed
(and written to ``--json``): ``{"kinds": {kind: {...}}, "batch": 10, ...}``; bench/cost_model.py
``--ses-events`` reads it.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path

BATCH = 10  # the events queue's batch_size (chalicelib/routes/mail.py)
KINDS = ("delivery", "open", "click", "hard bounce", "soft bounce", "complaint", "delivery redelivered")


class StubSes:
    """SES answering ``SendEmail`` with a message id, as it does; what was sent is kept for the events."""

    def __init__(self):
        self.sent: list[dict] = []

    def send_raw(self, *, sender, recipient, raw, configuration_set, tags):
        message_id = f"0102018c{uuid.uuid4().hex}-{uuid.uuid4().hex[:8]}-000000"
        self.sent.append({"message_id": message_id, "source": sender, "recipient": recipient,
                          "configuration_set": configuration_set, "tags": dict(tags)})
        return message_id


def _send_all(count: int) -> list[dict]:
    """``count`` post-purchase e-mails sent for real (webhook, outbox, send handler), SES stubbed."""
    from bench.send_path import _warm_templates
    from bench.ses_throughput import _queue_emails
    from chalicelib.composition import use
    from chalicelib.services.mail import send_consumer

    ses = StubSes()
    deps = use(messenger=ses)
    _warm_templates(deps)
    for body in _queue_emails(count, 0):
        if send_consumer.deliver(deps, body)["status"] != "sent":
            raise RuntimeError("a bench e-mail was not sent")
    return ses.sent


def run(server, sends: int) -> dict:
    from chalicelib.routes import mail
    from tests.support.ses_events import ses_record, sqs_event

    sent = _send_all(sends * 3)
    moment = "2026-12-07T09:00:00.000Z"
    first, second, third = sent[:sends], sent[sends:2 * sends], sent[2 * sends:]
    plan = {"delivery": ("Delivery", first), "open": ("Open", first), "click": ("Click", first),
            "complaint": ("Complaint", first), "hard bounce": ("Bounce:Permanent", second),
            "soft bounce": ("Bounce:Transient", third), "delivery redelivered": ("Delivery", first)}
    kinds = {}
    for kind in KINDS:
        event_type, targets = plan[kind]
        cpu, requests, units = [], Counter(), Counter()
        for n in range(0, len(targets), BATCH):
            event = sqs_event([ses_record(event_type, target, moment) for target in targets[n:n + BATCH]])
            before = Counter(server.request_counts) + server.meter.snapshot()
            started = time.thread_time()
            answer = mail.delivery_events_handler(event, None)
            cpu.append((time.thread_time() - started) / len(event["Records"]))
            counted = Counter(server.request_counts) + server.meter.snapshot() - before
            if answer.get("batchItemFailures"):
                raise RuntimeError(f"{kind}: the handler reported failures: {answer}")
            requests.update({op.split(":", 1)[1]: n for op, n in counted.items() if op.startswith("dynamodb:")})
            units.update({key: counted[key] for key in ("read_units", "write_units", "index_write_units")})
        events = len(targets)
        kinds[kind] = {
            "events": events,
            "cpu_ms_per_event": round(statistics.median(cpu[1:] or cpu) * 1000, 3),  # the first batch warms up
            "requests_per_event": round(sum(requests.values()) / events, 3),
            "requests": {op: round(n / events, 3) for op, n in sorted(requests.items())},
            "rru_per_event": round(units["read_units"] / events, 3),
            "wru_per_event": round((units["write_units"] + units["index_write_units"]) / events, 3),
            "index_wru_per_event": round(units["index_write_units"] / events, 3),
        }
    return {"batch": BATCH, "sends": sends, "kinds": kinds,
            "load_average": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=60, help="sends per group (three groups; default 60)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    os.environ.update({"LOYALTY_TABLE": "loyalty-bench", "LOYALTY_SEND_QUEUE": "bench-send",
                       "LOYALTY_EVENTS_QUEUE": "bench-events", "LOYALTY_OUTBOX_STREAM": "1"})
    logging.getLogger("loyalty").setLevel(logging.WARNING)
    from bench.emulator import seed_bench_shop, start_emulator

    server = start_emulator(metered=True)
    try:
        seed_bench_shop("loyalty-bench", "bench-send", "bench-events")
        figures = run(server, args.sends)
    finally:
        server.stop()
    line = json.dumps(figures)
    print(line)
    if args.json:
        args.json.write_text(line + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
