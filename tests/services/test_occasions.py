"""Birthdays (bonus and e-mail once a year) and win-back (once per lapse), by index."""
from __future__ import annotations

import os

import boto3
from datetime import date, datetime, timedelta, timezone

from chalicelib.domain.loyalty.account import Account, Lot
from chalicelib.services.mail import mailer
from chalicelib.services.lifecycle.occasions import run_occasions
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import Item
from chalicelib.store.loyalty.repository import LoyaltyRepository, _lot_item
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue

# 22:30 UTC on 24 Nov is already 25 Nov in Kyiv (the demo shops' time zone).
NOW = datetime(2026, 11, 24, 22, 30, tzinfo=timezone.utc)


def _seed(shop_id: str, accounts: list[Account]) -> None:
    LoyaltyRepository(shop_id)
    with Item.batch_write() as batch:
        for account in accounts:
            batch.save(stored_profile(shop_id, account))
            if account.points_balance > 0:
                expires = NOW + timedelta(days=100)
                batch.save(_lot_item(shop_id, account.customer_id,
                                     Lot(f"l-{account.customer_id}", account.points_balance, NOW, expires, "seed")))


def _assert_sends(deps, message: dict) -> None:
    """The real template accepts the data the job queued."""
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    assert mailer.send_message(deps, message, now=NOW)["status"] == "sent"


def _customer(shop_id: str, n: int, **facts) -> Account:
    return Account(shop_id, f"c_{n:04d}", created_at=NOW - timedelta(days=400), email=f"c{n}@example.com",
                   marketing_consent=True, **facts)


def test_birthday_bonus_and_email_once_a_year_in_the_shops_time_zone(deps, shopify_shop):
    shop = load_shop(deps, shopify_shop.shop_id)
    born_today = _customer(shop.shop_id, 1, birthday=date(1990, 11, 25))
    born_tomorrow = _customer(shop.shop_id, 2, birthday=date(1985, 11, 26))
    _seed(shop.shop_id, [born_today, born_tomorrow] + [_customer(shop.shop_id, 10 + n, birthday=date(1980, 3, 1))
                                                        for n in range(50)])
    report = run_occasions(deps, shop, NOW)
    assert (report.birthdays, report.customers_read) == (1, 1)
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert message["template"] == "birthday" and message["data"] == {"bonus_points": 50}
    _assert_sends(deps, message)
    account = LoyaltyRepository(shop.shop_id).load_account("c_0001")
    assert account.points_balance == 50 and account.birthday_bonus_year == 2026

    assert run_occasions(deps, shop, NOW + timedelta(hours=2)).birthdays == 0
    assert run_occasions(deps, shop, NOW + timedelta(days=1)).birthdays == 1  # customer 2's day; customer 1 not again
    assert LoyaltyRepository(shop.shop_id).load_account("c_0001").points_balance == 50


def test_leap_day_birthday_is_kept_on_28_february(deps, shopify_shop):
    shop = load_shop(deps, shopify_shop.shop_id)
    _seed(shop.shop_id, [_customer(shop.shop_id, 1, birthday=date(2000, 2, 29))])
    assert run_occasions(deps, shop, datetime(2027, 2, 28, 9, tzinfo=timezone.utc)).birthdays == 1


def test_winback_once_per_lapse_for_customers_with_points(deps, shopify_shop):
    shop = load_shop(deps, shopify_shop.shop_id)
    lapsed = NOW - timedelta(days=90)
    _seed(shop.shop_id, [
        _customer(shop.shop_id, 1, last_order_at=lapsed, points_balance=300, orders_count=2),
        _customer(shop.shop_id, 2, last_order_at=lapsed, points_balance=0, orders_count=1),  # nothing to win back with
        _customer(shop.shop_id, 3, last_order_at=NOW - timedelta(days=30), points_balance=300, orders_count=1),
    ])
    report = run_occasions(deps, shop, NOW)
    assert report.winbacks == 1
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert message["template"] == "winback" and message["customer_id"] == "c_0001"
    assert message["data"]["days_since_last_order"] == 90
    _assert_sends(deps, message)
    assert run_occasions(deps, shop, NOW + timedelta(hours=1)).winbacks == 0
    assert run_occasions(deps, shop, NOW + timedelta(days=1)).winbacks == 0  # the catch-up day does not repeat it


def test_a_winback_whose_day_was_missed_for_a_week_still_goes_once(deps, shopify_shop):
    shop = load_shop(deps, shopify_shop.shop_id)
    assert run_occasions(deps, shop, NOW).winbacks == 0  # the job ran: its checkpoint is today
    # lapses (90 days without an order) three days later; the daily run is down for ten days
    _seed(shop.shop_id, [_customer(shop.shop_id, 1, last_order_at=NOW + timedelta(days=3) - timedelta(days=90),
                                   points_balance=300, orders_count=2),
                         _customer(shop.shop_id, 2, last_order_at=NOW + timedelta(days=5) - timedelta(days=90),
                                   points_balance=300, orders_count=1)])
    _seed(shop.shop_id, [_customer(shop.shop_id, 2, last_order_at=NOW + timedelta(days=8), points_balance=300,
                                   orders_count=2)])  # ordered again meanwhile: no longer lapsed
    report = run_occasions(deps, shop, NOW + timedelta(days=10))
    assert report.winbacks == 1
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert message["customer_id"] == "c_0001" and message["data"]["days_since_last_order"] == 97
    assert run_occasions(deps, shop, NOW + timedelta(days=11)).winbacks == 0  # never twice


def test_customers_already_lapsed_when_the_shop_starts_get_a_winback_only_if_it_opts_in(deps, client):
    from tests.support.shops import register_shop

    for shop_id, opted_in in (("winback-no", False), ("winback-yes", True)):
        register_shop(client, shop_id, "shopify", winback_already_lapsed=opted_in,
                      sender_email=f"loyalty@{shop_id}.example")
        shop = load_shop(deps, shop_id)
        _seed(shop_id, [_customer(shop_id, n, last_order_at=NOW - timedelta(days=90 + 10 * n), points_balance=300,
                                  orders_count=1) for n in range(1, 6)])
        assert run_occasions(deps, shop, NOW).winbacks == (5 if opted_in else 0), shop_id
        assert run_occasions(deps, shop, NOW + timedelta(days=1)).winbacks == 0
    assert {m["customer_id"] for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])} == {f"c_{n:04d}" for n in range(1, 6)}
