"""Releasing marketing e-mails the cap deferred (domain/mail/deferral.py): the scheduled re-queue.

For each customer with a deferred e-mail due, one Query of their waiting e-mails and one read of
their preferences (the cap's window); as many as the cap has free slots go back to the send queue,
highest priority first; the rest wait for the next free slot; any whose window has passed is
counted ``expired_in_queue`` (per campaign or flow) and dropped. A released e-mail goes through the
whole send path again (consent, unsubscribe, cap, idempotency), so a slot taken meanwhile defers it
once more instead of breaking the cap.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Optional

from chalicelib.domain.campaigns.links import subject_of
from chalicelib.domain.mail import deferral
from chalicelib.domain.timestamps import iso
from chalicelib.errors import NotFound
from chalicelib.mail import outbox
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.mail.deferred_mail import due_customers

logger = logging.getLogger("loyalty.mail")


def release_deferred_mail(deps, now: Optional[datetime] = None) -> dict:
    """The schedule's entry: every customer with a deferred e-mail due by ``now``."""
    now = now or deps.clock()
    report: Counter = Counter()
    for shop_id, customer_id in list(due_customers(now)):
        report.update(release_for_customer(deps, shop_id, customer_id, now))
    return dict(report)


def release_for_customer(deps, shop_id: str, customer_id: str, now: datetime) -> Counter:
    store = deps.repos.deferred_mail(shop_id)
    # Only the due ones: an e-mail waiting for the end of the customer's night stays until then.
    waiting = [deferred for deferred in store.waiting_for(customer_id) if deferred.release_at <= now]
    report: Counter = Counter()
    try:
        shop = load_shop(deps, shop_id)
    except NotFound:  # the shop was erased: nothing of it may be sent
        for deferred in waiting:
            store.forget(customer_id, deferred.waiting.key)
        return report
    cap = shop.marketing_cap
    sends = dict(deps.repos.mail(shop_id).load_prefs(customer_id).marketing_sends)
    slots = deferral.free_slots(sends, now, cap.max_messages, cap.per_days)
    by_key = {deferred.waiting.key: deferred for deferred in waiting}
    release, keep, expired = deferral.release_plan([d.waiting for d in waiting], slots, now)

    for item in expired:
        message = by_key[item.key].message
        deps.repos.results(shop_id, subject_of(message.get("campaign_id"), message.get("template", ""))).add(
            deferral.EXPIRED_IN_QUEUE, customer_id)
        store.forget(customer_id, item.key)
        report[deferral.EXPIRED_IN_QUEUE] += 1
    if release:
        outbox.publish_or_raise(deps, [by_key[item.key].message for item in release])
        for item in release:
            store.forget(customer_id, item.key)
        report["released"] += len(release)
    # The released ones will take the free slots: the rest wait for the slot after those.
    for number, _ in enumerate(release):
        sends[f"released-{number}"] = iso(now)
    next_slot = max(deferral.next_free_slot(sends, now, cap.max_messages, cap.per_days), now + timedelta(minutes=1))
    for item in keep:
        store.reschedule(by_key[item.key], next_slot)
        report["still_waiting"] += 1
    return report
