"""Sending throughput at an SES rate: achieved e-mails per second and CPU per e-mail.

    python -m bench.ses_throughput [--rates 14,1000] [--emails N] [--max-senders 16]
                                   [--ses-latency-ms 0] [--json]

The emulator out of the way: the table is the in-memory DynamoDB the service tests run on
(tests/support/fakes, held to the emulator's behaviour by tests/contract), so neither the
emulator's one-request-at-a-time server nor its CPU limits or enters the figures; the send queue
is an in-process list. Paid orders through the webhook put their post-purchase e-mails in the
outbox, the sweeper hands them over, and then, per rate, as many sender threads as
``sender_concurrency`` gives for that rate (domain/mail/sender_sizing.py, the sizing the hourly job
applies to the send Lambdas; at most ``--max-senders`` threads here) take batches of ten and run
the send handler's ``send_consumer.deliver`` on each, one after the other, as a send Lambda does.

SES is a stub behind the real shared rate limiter (``RateLimitedMessenger``, one per sender thread
as one per send Lambda: one UpdateItem on the minute's counter item reserves a batch's slots of
the current second and the following ones, told what is left of the batch as the send handler
tells it; ``ses_max_send_rate`` = the rate; its requests per e-mail are reported). The
stub admits ``rate`` messages a second through a token bucket holding one second's worth and
refuses the rest with SES's ``Throttling`` (which the handler turns into a retry later), so an
e-mail over the rate is counted, never silently slowed.

Reported per rate: the send Lambdas sized, the sender threads run here, e-mails, wall seconds,
e-mails per wall second, sent per whole second (median; the last second is cut short when the
e-mails run out) and its share of the rate, SES refusals, the sender's CPU ms per e-mail (this
process's ``time.process_time`` less the in-memory DynamoDB's own answering, counted per call
with ``time.thread_time``) and the in-memory DynamoDB's. The sender's figure leaves out what
botocore spends turning DynamoDB requests into HTTP and back (PynamoDB's and the store's own
work are in it); ``bench.send_path`` measures the handler with that included. A Python process
is one CPU at most (the GIL), on a shared 2-core machine less: ``1000/s`` shows what one process
reaches, and the sized Lambda count is what shares the rate on AWS.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter

BATCH = 10  # the send queue's batch size (routes/mail.py)


class TokenBucketSes:
    """SES at ``rate`` messages a second: a token bucket holding one second's worth, refilled
    continuously; a send without a token is refused as SES refuses it (``Throttling``)."""

    def __init__(self, rate: float, latency_seconds: float = 0.0, clock=time.monotonic, sleep=time.sleep):
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._latency = latency_seconds
        self._refilled = clock()
        self._lock = threading.Lock()
        self.accepted = 0
        self.refused = 0
        self.per_second: Counter = Counter()  # accepted per epoch second (the limiter's unit)

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._refilled) * self._rate)
            self._refilled = now
            if self._tokens < 1:
                self.refused += 1
                return False
            self._tokens -= 1
            self.accepted += 1
            self.per_second[int(time.time())] += 1
            return True

    def send_raw(self, *, sender, recipient, raw, configuration_set, tags):
        from botocore.exceptions import ClientError

        from chalicelib.mail.messenger import TransientSendError

        if self._latency:
            self._sleep(self._latency)
        if not self.take():
            # What SesMessenger makes of SES's answer: the message stays queued and comes back.
            error = ClientError({"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}},
                                "SendEmail")
            raise TransientSendError(str(error)) from error
        return f"stub-{self.accepted}"


def _queue_emails(count: int, first: int) -> list[str]:
    """``count`` post-purchase e-mails owed by paid orders, as the send queue's message bodies."""
    from datetime import timedelta

    from bench.emulator import BENCH_SECRET, BENCH_SHOP
    from bench.send_path import _drain_send_queue
    from chalicelib.composition import dependencies
    from chalicelib.mail import outbox
    from chalicelib.services.orders import webhooks
    from devstack.samples import sample_order_payload, signed_request

    for n in range(first, first + count):
        payload = sample_order_payload("shopify", order_id=f"T{n}", email=f"buyer{n}+news@example.com")
        headers, body = signed_request("shopify", BENCH_SECRET, payload, topic="orders/paid", event_id=f"paid-T{n}")
        webhooks.receive_webhook(dependencies(), "shopify", BENCH_SHOP, headers, body, "application/json")
    messages = _drain_send_queue()
    if len(messages) < count:  # the stream publishes on AWS; here the sweeper hands the outbox over
        outbox.republish_lingering(dependencies(), dependencies().clock() + timedelta(minutes=10))
        messages += _drain_send_queue()
    return messages


def run_at_rate(rate: float, messages: list[str], *, max_senders: int, ses_latency: float, store_cpu) -> dict:
    from chalicelib.composition import use
    from chalicelib.domain.mail.sender_sizing import sender_concurrency
    from chalicelib.mail.messenger import TransientSendError
    from chalicelib.mail.rate_limit import RateLimitedMessenger, expect_sends, take_slots_in_dynamodb
    from chalicelib.services.mail import send_consumer

    ses = TokenBucketSes(rate, ses_latency)
    takes, takes_lock = Counter(), threading.Lock()

    def take(*asks_and_limit):
        with takes_lock:
            takes["requests"] += 1  # one UpdateItem each
        return take_slots_in_dynamodb(*asks_and_limit)

    deps = use(messenger=_OnePerSender(lambda: RateLimitedMessenger(ses, take, rate=rate)),
               config={"ses_max_send_rate": rate})
    # The sizing's input as the cost model takes it: the send_path CPU per e-mail at 0.29 vCPU,
    # four round trips of 8 ms and SES's answer (bench/cost_model.py).
    lambdas = sender_concurrency(rate, 0.0125 / 0.29 + 4 * 0.008 + max(ses_latency, 0.06))
    senders = min(lambdas, max_senders)
    queue = list(messages)
    lock = threading.Lock()
    outcomes: Counter = Counter()

    def sender() -> None:
        while True:
            with lock:
                batch, queue[:] = queue[:BATCH], queue[BATCH:]
            if not batch:
                return
            for n, body in enumerate(batch):
                expect_sends(deps.messenger, len(batch) - n)  # as the send handler does (BatchFinals)
                try:
                    outcome = send_consumer.deliver(deps, body)["status"]
                except TransientSendError:  # as on Lambda: the message comes back later
                    outcome = "retried later"
                    with lock:
                        queue.append(body)
                with lock:
                    outcomes[outcome] += 1

    # Start on a fresh second: the rate limiter counts whole epoch seconds.
    time.sleep(1.001 - time.time() % 1)
    cpu, in_store, wall = time.process_time(), store_cpu.seconds, time.perf_counter()
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    in_store = store_cpu.seconds - in_store
    cpu = time.process_time() - cpu - in_store
    sent = outcomes["sent"]
    if sent != len(messages):
        raise RuntimeError(f"at {rate}/s not every e-mail was sent: {dict(outcomes)}")
    # The last second is cut short when the e-mails run out: whole seconds only, when there are any.
    whole_seconds = [ses.per_second[second] for second in sorted(ses.per_second)[:-1]] or [sent]
    return {"rate": rate, "send_lambdas_sized": lambdas, "sender_threads": senders, "emails": sent,
            "wall_seconds": round(wall, 2), "emails_per_second": round(sent / wall, 1),
            "per_whole_second": statistics.median(whole_seconds),
            "share_of_rate": round(statistics.median(whole_seconds) / rate, 3), "ses_refused": ses.refused,
            "retried_later": outcomes["retried later"],
            "limiter_requests_per_email": round(takes["requests"] / sent, 3),
            "cpu_ms_per_email": round(cpu / sent * 1000, 2),
            "store_cpu_ms_per_email": round(in_store / sent * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="14,1000", help="SES sending rates, e-mails a second (default 14,1000)")
    parser.add_argument("--emails", type=int, default=0,
                        help="e-mails per rate (default: 6 seconds' worth, at least 60, at most 600)")
    parser.add_argument("--max-senders", type=int, default=16, help="sender threads at most (default 16)")
    parser.add_argument("--ses-latency-ms", type=float, default=0.0, help="time every SES call takes (default 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON line per rate")
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rates.split(",")]

    import logging

    from bench.emulator import BENCH_SECRET, BENCH_SHOP
    from bench.send_path import _warm_templates
    from chalicelib import composition
    from chalicelib.services.shops import shops
    from tests.support.fakes.deps import deps_on_fakes
    from tests.support.fakes.store import in_memory_store

    logging.getLogger("loyalty").setLevel(logging.WARNING)
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "eu-central-1", "LOYALTY_LOCAL_STACK": "1"})
    results = []
    with in_memory_store("ses-throughput") as store:
        store_cpu = _count_store_cpu(store.dynamodb)
        deps = deps_on_fakes(store)
        composition.install(deps)
        try:
            shops.put_shop(deps, BENCH_SHOP, {"platform": "shopify", "webhook_secret": BENCH_SECRET, "currency": "UAH",
                                              "sender_email": "bench@shop.example",
                                              "storefront_url": "https://shop.example",
                                              "program": {"cashback_percent": "2"}})
            _warm_templates(deps)
            first = 0
            for rate in rates:
                count = args.emails or int(min(600, max(60, rate * 6)))
                messages = _queue_emails(count, first)
                first += count
                print(f"{len(messages)} e-mails queued for {rate:g}/s", file=sys.stderr, flush=True)
                results.append(run_at_rate(rate, messages, max_senders=args.max_senders,
                                           ses_latency=args.ses_latency_ms / 1000, store_cpu=store_cpu))
        finally:
            composition.reset()
    if args.json:
        for result in results:
            print(json.dumps(result))
        return
    print("| SES rate /s | send Lambdas sized | sender threads here | e-mails | wall s | e-mails / wall s | "
          "sent per whole second (median) | × rate | SES refusals | limiter requests per e-mail | sender CPU ms per e-mail | in-memory DynamoDB CPU ms per e-mail |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['rate']:g} | {r['send_lambdas_sized']} | {r['sender_threads']} | {r['emails']} | "
              f"{r['wall_seconds']} | {r['emails_per_second']} | {r['per_whole_second']:g} | {r['share_of_rate']} | {r['ses_refused']} | "
              f"{r['limiter_requests_per_email']} | {r['cpu_ms_per_email']} | {r['store_cpu_ms_per_email']} |")
    print(f"\nload average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")


class _OnePerSender:
    """Each sender thread its own rate limiter, as each send Lambda has its own (the slots it holds
    are its process's); all of them share the one counter item, as on AWS."""

    def __init__(self, build):
        self._build, self._mine = build, threading.local()

    def _limiter(self):
        if not hasattr(self._mine, "limiter"):
            self._mine.limiter = self._build()
        return self._mine.limiter

    def expect_sends(self, count: int) -> None:
        self._limiter().expect_sends(count)

    def send_raw(self, **message) -> str:
        return self._limiter().send_raw(**message)


class _StoreCpu:
    seconds = 0.0


def _count_store_cpu(client) -> type:
    """CPU time the in-memory DynamoDB spends answering (each thread's own, summed), so the
    sender's CPU can be told apart from the stand-in's."""
    answer = client._make_api_call
    lock = threading.Lock()

    def counted(operation, parameters):
        started = time.thread_time()
        try:
            return answer(operation, parameters)
        finally:
            spent = time.thread_time() - started
            with lock:
                _StoreCpu.seconds += spent

    client._make_api_call = counted
    return _StoreCpu


if __name__ == "__main__":
    main()
