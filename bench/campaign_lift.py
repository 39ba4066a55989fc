"""Does the holdout measure the effect we planted? A simulated shop, its campaign, and the lift.

    python -m bench.campaign_lift [--customers 10000] [--stack-shares 10] [--shares 1,5,10,20,50]
                                  [--runs 1000] [--p-sent 0.12] [--p-holdout 0.08] [--seed 18]

1. **On the local stack** (emulator: DynamoDB, SQS, SES), for each of ``--stack-shares``: a shop of
   ``--customers`` customers with consent, a campaign with that ``holdout_percent``, planned and
   queued by the campaign sender and sent by the send handler (``send_consumer.deliver``), which
   keeps the hashed share back. Then each customer behaves with a known effect: one who got the
   e-mail buys with probability ``--p-sent``, one who did not with ``--p-holdout``; an order is
   worth a log-normal amount (median 900 UAH) and one buyer in ten buys twice. Every order is a
   signed Shopify ``orders/paid`` webhook through the real webhook handler. The campaign's stats
   (``services/campaigns/results.py``, what ``GET …/campaigns/{id}/stats`` answers) are printed
   beside the true effect.
2. **Repeated runs on the domain code** (``domain/campaigns/lift.py``, the same functions the stats
   call, and ``order_increments``, the counters kept on write): ``--runs`` shops per holdout share,
   each with fresh behaviour; how often each 95 % interval holds the true effect (should be ≈ 95 %),
   the mean estimate and the mean interval width, and how often there was not enough data to say.
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import random
import statistics
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

MEDIAN_ORDER_UAH = 900
ORDER_SIGMA = 0.6
SECOND_ORDER = 0.10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--stack-shares", default="10", help="holdout shares run on the local stack ('' for none)")
    parser.add_argument("--shares", default="1,5,10,20,50", help="holdout shares of the repeated domain runs")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--p-sent", type=float, default=0.12)
    parser.add_argument("--p-holdout", type=float, default=0.08)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    truth = true_effect(args.p_sent, args.p_holdout)
    print(f"Planted effect: conversion {args.p_sent:.0%} with the e-mail against {args.p_holdout:.0%} without; "
          f"true lift: conversion {truth['conversion_rate']:+.4f} (relative {truth['conversion_relative']:+.1%}), "
          f"revenue per recipient {truth['revenue_per_recipient']:+.2f} UAH, "
          f"orders per recipient {truth['orders_per_recipient']:+.4f}\n", flush=True)
    stack_shares = [int(s) for s in args.stack_shares.split(",") if s.strip()]
    if stack_shares:
        on_the_stack(args, stack_shares, truth)
    repeated(args, [int(s) for s in args.shares.split(",")], truth)


def true_effect(p_sent: float, p_holdout: float) -> dict:
    mean_order = MEDIAN_ORDER_UAH * math.exp(ORDER_SIGMA ** 2 / 2)
    per_converter_orders = 1 + SECOND_ORDER
    return {"conversion_rate": p_sent - p_holdout, "conversion_relative": p_sent / p_holdout - 1,
            "revenue_per_recipient": (p_sent - p_holdout) * mean_order * per_converter_orders,
            "revenue_relative": p_sent / p_holdout - 1,
            "orders_per_recipient": (p_sent - p_holdout) * per_converter_orders,
            "orders_relative": p_sent / p_holdout - 1}


def buyer_orders(rng: random.Random) -> list[int]:
    """One buyer's orders in the attribution window, in kopecks."""
    orders = [round(rng.lognormvariate(math.log(MEDIAN_ORDER_UAH * 100), ORDER_SIGMA))]
    if rng.random() < SECOND_ORDER:
        orders.append(round(rng.lognormvariate(math.log(MEDIAN_ORDER_UAH * 100), ORDER_SIGMA)))
    return orders


# -- 1. the local stack --------------------------------------------------------------------------

def on_the_stack(args, shares: list[int], truth: dict) -> None:
    from bench.emulator import start_emulator

    os.environ.update({"LOYALTY_TABLE": "loyalty-lift-bench", "LOYALTY_SEND_QUEUE": "lift-send",
                       "LOYALTY_EVENTS_QUEUE": "lift-events", "LOYALTY_SES_MAX_SEND_RATE": "100000",
                       "LOYALTY_CAMPAIGN_QUEUE_AHEAD": "100000"})
    logging.getLogger("loyalty").setLevel(logging.ERROR)
    server = start_emulator()
    try:
        _prepare_stack()
        for share in shares:
            _one_campaign(args, share, truth)
    finally:
        server.stop()


SHOP = "lift-shop"
SECRET = "lift-secret-0123456789abcdef"


def _prepare_stack() -> None:
    import boto3

    from chalicelib.composition import dependencies
    from chalicelib.services.shops import shops
    from devstack.queues import create_queues
    from devstack.ses import create_configuration_set, verify_sender_domain
    from devstack.tables import create_table

    create_table(boto3.client("dynamodb"), os.environ["LOYALTY_TABLE"])
    create_queues(boto3.client("sqs"), "lift-send", "lift-events", visibility_timeout=60)
    sesv2 = boto3.client("sesv2")
    create_configuration_set(sesv2)
    verify_sender_domain(sesv2, "news@shop.example")
    shops.put_shop(dependencies(), SHOP, {"name": "Lift Shop", "platform": "shopify", "webhook_secret": SECRET,
                                          "currency": "UAH", "default_locale": "uk", "timezone": "Europe/Kyiv",
                                          "sender_email": "news@shop.example",
                                          "storefront_url": "https://shop.example",
                                          # the lift is measured here, not the night: quiet hours would hold
                                          # every e-mail of a run made at night in Kyiv until the morning
                                          "quiet_hours": None})


def _one_campaign(args, share: int, truth: dict) -> None:
    import boto3

    from chalicelib.composition import dependencies
    from chalicelib.domain.loyalty.account import Account
    from chalicelib.services.campaigns import campaigns, results
    from chalicelib.services.orders import webhooks
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.store.loyalty.repository import _profile_item
    from chalicelib.store.models import Item
    from devstack.samples import sample_order_payload, signed_request

    import chalicelib.mail.rendering  # noqa: F401 - the send path's lazy imports, loaded before the long run
    import chalicelib.services.mail.mailer  # noqa: F401

    deps = dependencies()
    shop = load_shop(deps, SHOP)
    rng = random.Random(args.seed + share)
    now = datetime.now(timezone.utc)
    tag = f"s{share}"
    emails = {f"{tag}-customer{n}@example.com": None for n in range(args.customers)}
    started = time.perf_counter()
    with Item.batch_write() as batch:
        for email in emails:
            customer_id = emails[email] = shop.customer_id_for(email)
            item = _profile_item(SHOP, Account(SHOP, customer_id, created_at=now - timedelta(days=90), email=email,
                                               first_name="Olena", locale="uk", marketing_consent=True,
                                               tier_name=tag))
            item.version = 1
            batch.save(item)
    campaign = campaigns.create_campaign(deps, SHOP, {
        "name": f"Spring sale, holdout {share} %", "template": "special_day",
        "segment": {"rules": {"field": "tier", "op": "=", "value": tag}}, "send_at": "now",
        "holdout_percent": share,
        "data": {"title": "Spring sale", "starts_at": now.isoformat(),
                 "ends_at": (now + timedelta(days=2)).isoformat()}})  # no offer: the lift is the mail's own
    # The whole segment in one call: the scheduled sender's 12-minute budget (a Lambda's) is shorter
    # than 10,000 recipients take on a busy 2-core machine, and the run must measure all of them.
    campaigns.run_due_campaigns(deps, deps.clock(), budget_seconds=24 * 3600)
    outcome_of = _drain_send_queue(deps, boto3.client("sqs"))
    sent_at = time.perf_counter()
    print(f"[stack, holdout {share} %] {args.customers} customers seeded and the campaign sent in "
          f"{sent_at - started:.0f} s: {dict(Counter(outcome_of.values()))}", flush=True)

    orders = 0
    for email, customer_id in emails.items():
        got_mail = outcome_of.get(customer_id) == "sent"
        if rng.random() >= (args.p_sent if got_mail else args.p_holdout):
            continue
        for n, amount in enumerate(buyer_orders(rng)):
            payload = sample_order_payload("shopify", order_id=f"{tag}-{customer_id}-{n}", email=email,
                                           lines=[{"unit_price": f"{amount / 100:.2f}"}], shipping="0.00",
                                           created_at=datetime.now(timezone.utc))
            headers, raw = signed_request("shopify", SECRET, payload, topic="orders/paid")
            answer = webhooks.receive_webhook(deps, "shopify", SHOP, headers, raw, "application/json")
            orders += answer.get("result") == "applied" or 0
    print(f"[stack, holdout {share} %] {orders} paid-order webhooks in {time.perf_counter() - sent_at:.0f} s",
          flush=True)
    stats = results.campaign_results(deps, SHOP, campaign["campaign_id"])
    _print_stack_stats(share, stats, truth)


def _drain_send_queue(deps, sqs) -> dict[str, str]:
    """Every queued e-mail through the send handler as its Lambda gets them: batches of 10, each
    record by ``deliver_record`` (the batch's sent e-mails' final writes riding in the next claim),
    the batch closed by ``finish_batch``; the handled messages deleted in one request per batch.
    Returns each customer's outcome (sent, or why not)."""
    from chalice.app import SQSRecord

    from chalicelib.services.mail import send_consumer

    url = sqs.get_queue_url(QueueName="lift-send")["QueueUrl"]
    outcome_of: dict[str, str] = {}
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                    AttributeNames=["All"]).get("Messages", [])
        if not batch:
            in_flight = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessagesNotVisible"])["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
            if int(in_flight) == 0:
                return outcome_of
            time.sleep(1)  # a failed message comes back after its visibility timeout, as on AWS: its outcome counts
            continue
        finals, failed = send_consumer.BatchFinals(), []
        for message in batch:
            record = SQSRecord({"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                                "body": message["Body"], "attributes": message.get("Attributes", {})}, None)
            try:
                result = send_consumer.deliver_record(deps, record, finals)
            except Exception as error:  # as the Lambda's batch handler: this message alone comes back
                print(f"    message {message['MessageId']} failed: {type(error).__name__}: {error}", flush=True)
                failed.append(message["MessageId"])
                continue
            customer = result["idempotency_key"].rsplit(":", 1)[1]
            if outcome_of.get(customer) != "sent":  # SES accepted it once: a retry (its final write failed) does not undo that
                outcome_of[customer] = result["status"] if result["status"] != "skipped" else result.get("reason")
        response = send_consumer.finish_batch(deps, finals, {"batchItemFailures": [
            {"itemIdentifier": message_id} for message_id in failed]})
        retried = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        done = [{"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]}
                for n, message in enumerate(batch) if message["MessageId"] not in retried]
        if done:
            sqs.delete_message_batch(QueueUrl=url, Entries=done)


def _print_stack_stats(share: int, stats: dict, truth: dict) -> None:
    print(f"[stack, holdout {share} %] GET …/campaigns/{stats['campaign_id']}/stats:")
    for name, group in stats["groups"].items():
        print(f"    {name:8} recipients {group['recipients']:6}  converters {group['converters']:5}  "
              f"orders {group['orders']:5}  revenue {group['revenue']:>12} {stats['currency']}  "
              f"conversion {group['conversion_rate']}")
    for metric, truth_key in (("conversion_rate", "conversion_rate"), ("revenue_per_recipient", "revenue_per_recipient"),
                              ("orders_per_recipient", "orders_per_recipient")):
        row = stats["lift"][metric]
        if row["estimate"] is None:
            print(f"    {metric:22} {row['note']}")
            continue
        rel = row["relative"]
        print(f"    {metric:22} lift {row['estimate']:+.4f} [{row['low']:+.4f}, {row['high']:+.4f}] "
              f"(true {truth[truth_key]:+.4f}: {'held' if row['low'] <= truth[truth_key] <= row['high'] else 'MISSED'}); "
              f"relative {rel['estimate']:+.1%} [{rel['low']:+.1%}, {rel['high']:+.1%}]")
    print(flush=True)


# -- 2. repeated runs on the domain code ---------------------------------------------------------

def _binomial(rng: random.Random, n: int, p: float) -> int:
    """Exact Binomial(n, p) draw by geometric jumps between successes (cost ∝ n·p)."""
    if p <= 0:
        return 0
    log_q, successes, position = math.log(1 - p), 0, 0
    while True:
        position += int(math.log(1 - rng.random()) / log_q) + 1
        if position > n:
            return successes
        successes += 1


def _group(rng: random.Random, n: int, p: float):
    from chalicelib.domain.campaigns import lift

    counts = Counter()
    for _ in range(_binomial(rng, n, p)):
        orders_before = revenue_before = 0
        for amount in buyer_orders(rng):
            counts.update(lift.order_increments("g", orders_before, revenue_before, amount))
            orders_before, revenue_before = orders_before + 1, revenue_before + amount
    return lift.GroupTotals(recipients=n, converters=counts["g_converters"], orders=counts["g_orders"],
                            orders_sq=counts["g_orders_sq"], revenue_minor=counts["g_revenue_minor"],
                            revenue_sq=counts["g_revenue_sq"])


def repeated(args, shares: list[int], truth: dict) -> None:
    from chalicelib.domain.campaigns import lift

    rng = random.Random(args.seed)
    print(f"Repeated runs on the domain code: {args.runs} shops of {args.customers} customers per holdout share "
          f"(group sizes as the hash splits them: binomial), fresh behaviour each run.")
    header = (f"{'holdout':>7} {'metric':22} {'mean estimate':>13} {'true':>9} {'mean 95% width':>14} "
              f"{'coverage':>8} {'rel. coverage':>13} {'no number':>9}")
    print(header)
    print("-" * len(header))
    started = time.process_time()
    for share in shares:
        held, relative_held, estimates, widths, silent = Counter(), Counter(), {}, {}, 0
        for _ in range(args.runs):
            holdout_n = _binomial(rng, args.customers, share / 100)
            sent = _group(rng, args.customers - holdout_n, args.p_sent)
            holdout = _group(rng, holdout_n, args.p_holdout)
            answer = lift.lift(sent, holdout, revenue_scale=0.01)
            if answer["conversion_rate"]["estimate"] is None:
                silent += 1
                continue
            for metric in ("conversion_rate", "revenue_per_recipient", "orders_per_recipient"):
                row, true = answer[metric], truth[metric]
                true_relative = truth["conversion_relative"]
                held[metric] += row["low"] <= true <= row["high"]
                relative_held[metric] += row["relative"]["low"] <= true_relative <= row["relative"]["high"]
                estimates.setdefault(metric, []).append(row["estimate"])
                widths.setdefault(metric, []).append(row["high"] - row["low"])
        reported = args.runs - silent
        for metric in ("conversion_rate", "revenue_per_recipient", "orders_per_recipient"):
            if not reported:
                print(f"{share:>6}% {metric:22} {'—':>13} {truth[metric]:>9.4f} {'—':>14} {'—':>8} {'—':>13} "
                      f"{silent / args.runs:>9.1%}")
                continue
            print(f"{share:>6}% {metric:22} {statistics.fmean(estimates[metric]):>13.4f} {truth[metric]:>9.4f} "
                  f"{statistics.fmean(widths[metric]):>14.4f} {held[metric] / reported:>8.1%} "
                  f"{relative_held[metric] / reported:>13.1%} {silent / args.runs:>9.1%}")
    print(f"\n(CPU {time.process_time() - started:.1f} s; revenue in UAH; coverage is over the runs that reported "
          f"a number; 'no number': runs below the minimum of {lift.MIN_RECIPIENTS} recipients and "
          f"{lift.MIN_CONVERTERS} converters per group)")


if __name__ == "__main__":
    main()
