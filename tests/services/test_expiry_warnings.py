"""Warnings 30 and 7 days before points lapse: once per lot and warning, merged, read by index."""
from __future__ import annotations

import os

import boto3
from datetime import datetime, timedelta, timezone

from chalicelib.domain.loyalty.account import Account, Lot
from chalicelib.services.mail import mailer
from chalicelib.services.lifecycle.expiry_warnings import send_expiry_warnings
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import Item
from chalicelib.store.loyalty.repository import LoyaltyRepository, _lot_item
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)


def _seed(shop_id: str, customers: int, in_30: int, in_7: int) -> None:
    LoyaltyRepository(shop_id)
    with Item.batch_write() as batch:
        for n in range(customers):
            if n < in_30:
                expiries = [NOW + timedelta(days=30, hours=2), NOW + timedelta(days=33)]  # two lots, one e-mail
            elif n < in_30 + in_7:
                expiries = [NOW + timedelta(days=7, hours=1)]
            else:
                expiries = [NOW + timedelta(days=120)]
            lots = [Lot(f"order-{n}-{i}", 100, when - timedelta(days=180), when, f"order:{n}-{i}")
                    for i, when in enumerate(expiries)]
            account = Account(shop_id, f"c_{n:05d}", created_at=NOW, email=f"c{n}@example.com",
                              points_balance=100 * len(lots), marketing_consent=True)
            batch.save(stored_profile(shop_id, account))
            for lot in lots:
                batch.save(_lot_item(shop_id, account.customer_id, lot))


def test_warnings_read_only_customers_due_and_never_repeat(deps, shopify_shop):
    shop = load_shop(deps, shopify_shop.shop_id)
    assert shop.expiry_warning_days == (30, 7)
    _seed(shop.shop_id, customers=600, in_30=15, in_7=5)

    report = send_expiry_warnings(deps, shop, NOW)
    assert report.warnings_queued == 20
    assert report.customers_read == 20
    assert report.index_items_read == 20  # the lots on the two warning days, nothing else

    messages = {m["customer_id"]: m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])}
    assert len(messages) == 20
    merged = messages["c_00000"]
    assert merged["template"] == "points_expiring" and merged["category"] == "marketing"
    assert merged["data"]["points"] == 200 and merged["idempotency_key"].startswith("points_expiring:c_00000:30:")
    assert messages["c_00015"]["data"] == {"points": 100,
                                           "expires_at": (NOW + timedelta(days=7, hours=1)).isoformat()}
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    assert mailer.send_message(deps, merged, now=NOW)["status"] == "sent"  # the real template takes this data

    again = send_expiry_warnings(deps, shop, NOW + timedelta(hours=3))
    assert (again.warnings_queued, again.customers_read) == (0, 0)
    next_day = send_expiry_warnings(deps, shop, NOW + timedelta(days=1))
    assert next_day.warnings_queued == 0
    assert drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) == []

    # 23 days later the merged customers' first lot is 7 days out: the 7-day warning comes once.
    later = send_expiry_warnings(deps, shop, NOW + timedelta(days=23))
    assert later.warnings_queued == 15
    account = LoyaltyRepository(shop.shop_id).load_account("c_00000")
    assert {lot.lot_id: lot.warned for lot in account.lots} == {"order-0-0": {30, 7}, "order-0-1": {30, 7}}


def test_a_missed_warning_day_is_caught_up_unless_a_closer_warning_now_covers_it(deps, shopify_shop):
    shop = load_shop(deps, shopify_shop.shop_id)
    send_expiry_warnings(deps, shop, NOW)  # the job ran today
    LoyaltyRepository(shop.shop_id)
    with Item.batch_write() as batch:
        for n, expires in ((1, NOW + timedelta(days=35)),   # its 30-day warning falls 5 days from now
                           (2, NOW + timedelta(days=40))):  # and this one's 10 days from now
            lot = Lot(f"order-{n}", 100, NOW - timedelta(days=100), expires, f"order:{n}")
            account = Account(shop.shop_id, f"c_{n:05d}", created_at=NOW, email=f"c{n}@example.com",
                              points_balance=100, marketing_consent=True)
            batch.save(stored_profile(shop.shop_id, account))
            batch.save(_lot_item(shop.shop_id, account.customer_id, lot))
    # The job is down for 12 days: both 30-day warning days are missed.
    report = send_expiry_warnings(deps, shop, NOW + timedelta(days=12))
    assert report.warnings_queued == 2
    messages = {m["customer_id"]: m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])}
    assert messages["c_00001"]["idempotency_key"].startswith("points_expiring:c_00001:30:")
    assert send_expiry_warnings(deps, shop, NOW + timedelta(days=12, hours=2)).warnings_queued == 0
    # Down again until 5 days before c1's expiry: its 7-day warning is due, and c2's 30-day one
    # is long since sent; nothing is sent twice.
    report = send_expiry_warnings(deps, shop, NOW + timedelta(days=30))
    assert report.warnings_queued == 1
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert message["customer_id"] == "c_00001" and ":7:" in message["idempotency_key"]


def test_a_30_day_warning_missed_until_the_7_day_one_is_due_is_not_sent_as_well(deps, shopify_shop):
    shop = load_shop(deps, shopify_shop.shop_id)
    send_expiry_warnings(deps, shop, NOW)
    LoyaltyRepository(shop.shop_id)
    with Item.batch_write() as batch:
        lot = Lot("order-9", 100, NOW - timedelta(days=100), NOW + timedelta(days=31), "order:9")
        account = Account(shop.shop_id, "c_00009", created_at=NOW, email="c9@example.com", points_balance=100,
                          marketing_consent=True)
        batch.save(stored_profile(shop.shop_id, account))
        batch.save(_lot_item(shop.shop_id, account.customer_id, lot))
    report = send_expiry_warnings(deps, shop, NOW + timedelta(days=25))  # 6 days left: the 7-day warning
    assert report.warnings_queued == 1
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert ":7:" in message["idempotency_key"]
