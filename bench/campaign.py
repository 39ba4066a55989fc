"""A campaign to N recipients through the real queue path, counted for duplicates.

    python -m bench.campaign [--recipients 10000] [--workers 4] [--redeliver 0.05]
                             [--ses-latency-ms 0] [--send-rate 14] [--json FILE]

Seeds N customers with consent in a local emulator, plans a special-day
campaign to all of them, lets the campaign sender queue them (SQS), and drains
the queue with worker threads that run the same handler code as the Lambda
(`send_consumer.deliver`: consent, cap, idempotency claim, render, MIME, SES). A share
of the messages (--redeliver) is handed to a worker a second time, as SQS may.
Prints wall time, recipients per second, and the number of e-mails SES accepted
per recipient (must be exactly 1).

``--ses-latency-ms`` makes every SES call take that long (the emulator answers at
once; SES takes tens of milliseconds), and ``--send-rate`` sets the account's
sending rate that all workers share (``LOYALTY_SES_MAX_SEND_RATE``). Per e-mail, the
script also counts what a deployment pays for: DynamoDB requests and capacity units
(bench.capacity), SQS and SES calls (the campaign sender's share included), and the
send handler's CPU time (this thread's only: the emulator serves from its own
threads) and wall time.

Times are this machine's with the emulator (every DynamoDB request is served
one at a time, so they are far below what DynamoDB and SES do); a transaction's
rollback backs up only the items it addresses, not the whole table.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.emulator import start_emulator
from chalicelib.composition import dependencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--redeliver", type=float, default=0.05, help="share of messages delivered twice")
    parser.add_argument("--ses-latency-ms", type=float, default=0.0, help="time every SES call takes")
    parser.add_argument("--send-rate", type=float, help="SES messages per second, all workers together")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--items", type=Path, help="write each item's size and units per e-mail here "
                                                   "(python -m bench.capacity_items FILE prints them)")
    args = parser.parse_args()
    if args.send_rate:
        os.environ["LOYALTY_SES_MAX_SEND_RATE"] = str(args.send_rate)

    os.environ.update({"LOYALTY_TABLE": "loyalty-campaign-bench", "LOYALTY_SEND_QUEUE": "bench-send",
                       "LOYALTY_EVENTS_QUEUE": "bench-events",
                       # keep the emulator's queue short: its SQS work grows with the queue's length
                       "LOYALTY_CAMPAIGN_QUEUE_AHEAD": os.environ.get("LOYALTY_CAMPAIGN_QUEUE_AHEAD", "300")})
    logging.getLogger("loyalty").setLevel(logging.WARNING)
    server = start_emulator(metered=True)
    try:
        run(args, server)
    finally:
        server.stop()


def _slow_down_ses(latency_seconds: float) -> None:
    from chalicelib.mail.messenger import SesMessenger

    send_raw = SesMessenger.send_raw

    def send_raw_with_latency(self, **message):
        time.sleep(latency_seconds)
        return send_raw(self, **message)

    SesMessenger.send_raw = send_raw_with_latency


def run(args, server) -> None:
    import boto3

    from chalicelib.domain.loyalty.account import Account
    from chalicelib.mail.messenger import TransientSendError
    from chalicelib.services.campaigns import campaigns
    from chalicelib.services.mail import send_consumer
    from chalicelib.services.shops import shops
    from chalicelib.store.models import Item
    from chalicelib.store.loyalty.repository import LoyaltyRepository, _profile_item
    from devstack.queues import create_queues
    from devstack.sent_mail import sent_mail
    from devstack.ses import create_configuration_set, verify_sender_domain
    from devstack.tables import create_table

    create_table(boto3.client("dynamodb"), os.environ["LOYALTY_TABLE"])
    create_queues(boto3.client("sqs"), "bench-send", "bench-events", visibility_timeout=60)
    sesv2 = boto3.client("sesv2")
    create_configuration_set(sesv2)
    verify_sender_domain(sesv2, "news@shop.example")
    shops.put_shop(dependencies(), "bench-shop", {"name": "Bench Shop", "platform": "shopify",
                                  "webhook_secret": "bench-secret-0123456789", "currency": "UAH",
                                  "default_locale": "uk", "timezone": "Europe/Kyiv",
                                  "sender_email": "news@shop.example", "storefront_url": "https://shop.example"})
    LoyaltyRepository("bench-shop")
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    with Item.batch_write() as batch:
        for n in range(args.recipients):
            account = Account("bench-shop", f"c_{n:07d}", created_at=now - timedelta(days=90),
                              email=f"customer{n}@example.com", first_name="Olena", locale="uk",
                              marketing_consent=True, tier_name="Silver", points_balance=150)
            item = _profile_item("bench-shop", account)
            item.version = 1
            batch.save(item)
    print(f"seeded {args.recipients} customers in {time.perf_counter() - started:.1f} s", flush=True)

    campaign = campaigns.create_campaign(dependencies(), "bench-shop", {
        "name": "Free shipping weekend", "template": "special_day",
        "segment": {"rules": {"field": "marketing_consent", "op": "=", "value": True}},
        "send_at": "now",  # (seeding took longer than the minute a past send_at is let off)
        "data": {"title": "Free shipping weekend"},
        # the offer is the single source of what the mail says about it (issue 16)
        "offer": {"codes": "shared", "free_shipping": True, "valid_from": now.isoformat(),
                  "valid_until": (now + timedelta(days=2)).isoformat()}})

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="bench-send")["QueueUrl"]
    outcomes: Counter = Counter()
    handler_times: list[tuple[float, float]] = []  # (CPU s, wall s) per handler call
    lock = threading.Lock()
    redeliver = random.Random(7)

    queued_all = threading.Event()

    def worker() -> None:
        from chalicelib.mail.rate_limit import expect_sends

        client = boto3.client("sqs")
        idle = 0
        while idle < 3:
            # No long polling: the emulator serves one request at a time, and a waiting
            # receive would hold everyone else up.
            batch = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not batch:
                idle = idle + 1 if queued_all.is_set() else 0
                time.sleep(0.2)
                continue
            idle = 0
            for index, message in enumerate(batch):
                # as the send handler tells it (BatchFinals): the rate limiter reserves the batch's slots at once
                expect_sends(dependencies().messenger, len(batch) - index)
                deliveries = 2 if redeliver.random() < args.redeliver else 1
                try:
                    for _ in range(deliveries):
                        cpu, started = time.thread_time(), time.perf_counter()
                        try:
                            result = send_consumer.deliver(dependencies(), message["Body"], receipt_handle=message["ReceiptHandle"])
                        finally:
                            with lock:
                                handler_times.append((time.thread_time() - cpu, time.perf_counter() - started))
                        with lock:
                            outcomes[result["status"]] += 1
                except TransientSendError:  # as on Lambda: the message stays and comes back later
                    with lock:
                        outcomes["retried later"] += 1
                    continue
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            with lock:
                done = outcomes["sent"]
            if done and done % 1000 < 10:
                print(f"  {done} sent…", flush=True)

    if args.ses_latency_ms:
        _slow_down_ses(args.ses_latency_ms / 1000)
    counted_from = Counter(server.request_counts) + server.meter.snapshot()
    first_item = len(server.meter.items)
    # Workers drain the queue while the campaign sender fills it, as Lambda consumers would.
    wall = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    fan_out = time.perf_counter()
    while True:  # the every-minute schedule; it stops queuing while the send queue is full enough
        report = campaigns.run_due_campaigns(dependencies(), datetime.now(timezone.utc))
        if any(r["status"] == "done" for r in report.values()):
            break
        time.sleep(1)
    fan_out = time.perf_counter() - fan_out
    queued_all.set()
    print(f"campaign {campaign['campaign_id']}: all queued after {fan_out:.1f} s", flush=True)
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall

    counted = Counter(server.request_counts) + server.meter.snapshot() - counted_from
    per_recipient = Counter(r for mail in sent_mail(server.endpoint) for r in mail.recipients)
    duplicates = sum(count - 1 for count in per_recipient.values() if count > 1)
    emails = max(1, sum(per_recipient.values()))
    per_email = {
        "dynamodb_requests": sum(v for k, v in counted.items() if k.startswith("dynamodb:")) / emails,
        "read_units": counted["read_units"] / emails,
        "write_units": (counted["write_units"] + counted["index_write_units"]) / emails,
        "sqs_requests": sum(v for k, v in counted.items() if k.startswith("sqs:")) / emails,
        "ses_requests": counted["sesv2:SendEmail"] / emails,
        "handler_invocations": len(handler_times) / emails,
        "handler_cpu_ms": statistics.median(c for c, _ in handler_times) * 1000,
        "handler_wall_ms": statistics.median(w for _, w in handler_times) * 1000,
    }
    print()
    print(f"Campaign to {args.recipients} recipients through SQS and the send handler ({args.workers} workers, "
          f"{args.redeliver:.0%} of messages delivered twice), this machine with the local emulator:")
    print(f"  e-mails accepted by SES      {sum(per_recipient.values())}")
    print(f"  distinct recipients          {len(per_recipient)}")
    print(f"  duplicates                   {duplicates}")
    print(f"  handler outcomes             {dict(outcomes)}")
    print(f"  wall time                    {wall:.1f} s (fan-out {fan_out:.1f} s)")
    print(f"  recipients per second        {len(per_recipient) / wall:.1f}")
    print(f"  SES latency simulated        {args.ses_latency_ms:.0f} ms; sending rate "
          f"{os.environ.get('LOYALTY_SES_MAX_SEND_RATE', 'default')} per second")
    print("  per e-mail                   " + ", ".join(f"{k} {v:.2f}" for k, v in per_email.items()))
    if args.items:
        from bench.capacity_items import summarize as summarize_items

        args.items.write_text(json.dumps(
            {"one sent e-mail (campaign, per e-mail)": summarize_items([server.meter.items_since(first_item)], emails)},
            indent=2), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({
            "recipients": args.recipients, "workers": args.workers, "redeliver": args.redeliver,
            "ses_latency_ms": args.ses_latency_ms,
            "send_rate": float(os.environ.get("LOYALTY_SES_MAX_SEND_RATE", 14)),
            "emails": sum(per_recipient.values()), "distinct_recipients": len(per_recipient),
            "duplicates": duplicates, "wall_seconds": wall, "recipients_per_second": len(per_recipient) / wall,
            "per_email": per_email}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
