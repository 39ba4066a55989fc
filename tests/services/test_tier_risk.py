"""'Tier at risk' e-mails: 30 days before a rolling-period tier drops, once, read by index; the
tier itself drops on its day. The first tests run on profiles stored before spend was counted by
day (calendar-month buckets): they keep their tiers and drop dates."""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone

import boto3

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.loyalty.tier_window import days_from_months
from chalicelib.domain.loyalty.tier_risk import review_day
from chalicelib.services.mail import mailer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.lifecycle.tier_risk import send_tier_risk_warnings
from chalicelib.store import keys
from chalicelib.store.models import Item, ProfileItem
from chalicelib.store.loyalty.repository import LoyaltyRepository
from tests.support.shops import register_shop
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue

SEEDED = datetime(2026, 10, 20, 12, 0, tzinfo=timezone.utc)  # when the tiers were last refreshed
NOW = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)  # 30 days before 1 December


def _customer(shop, n: int, spend: dict[str, int]) -> Account:
    """A customer whose spend sits in calendar-month buckets (``_seed`` stores them so)."""
    account = Account(shop.shop_id, f"c_{n:04d}", created_at=SEEDED - timedelta(days=400),
                      email=f"c{n}@example.com", marketing_consent=True, spend_by_day=days_from_months(spend),
                      lifetime_spend_minor=sum(spend.values()))
    account.refresh_tier(shop.program, SEEDED, shop.currency_exponent)
    account.tier_review_on = review_day(account, shop.program, SEEDED, shop.currency_exponent)
    return account


def _seed(accounts: list[Account]) -> None:
    """Profiles as stored before spend was counted by day: month buckets, no day buckets."""
    LoyaltyRepository(accounts[0].shop_id)
    with Item.batch_write() as batch:
        for account in accounts:
            item = stored_profile(account.shop_id, account)
            item.spend_by_day = None
            item.spend_by_month = {f"{day:%Y-%m}": minor for day, minor in account.spend_by_day.items()}
            batch.save(item)


def test_warning_30_days_before_the_drop_names_amount_and_date_once(deps, client):
    register_shop(client, "risk-shop", "shopify", program={"tier_period": "rolling_12_months"})
    shop = load_shop(deps, "risk-shop")
    at_risk = _customer(shop, 1, {"2025-12": 50_000, "2026-06": 150_000})  # Silver until 1 Dec
    gold_to_silver = _customer(shop, 2, {"2025-12": 300_000, "2026-05": 250_000})
    comfortable = _customer(shop, 3, {"2026-10": 900_000})  # Gold until 1 Oct 2027
    no_tier = [_customer(shop, 10 + n, {"2026-09": 10_000}) for n in range(30)]
    assert at_risk.tier_review_on == gold_to_silver.tier_review_on == date(2026, 11, 1)
    assert comfortable.tier_review_on == date(2027, 9, 1) and no_tier[0].tier_review_on is None
    _seed([at_risk, gold_to_silver, comfortable] + no_tier)

    assert send_tier_risk_warnings(deps, shop, NOW - timedelta(days=1)).customers_read == 0  # not yet

    report = send_tier_risk_warnings(deps, shop, NOW)
    assert (report.warnings_queued, report.customers_read) == (2, 2)  # the comfortable customer is not read
    messages = {m["customer_id"]: m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])}
    assert set(messages) == {"c_0001", "c_0002"}
    message = messages["c_0001"]
    assert message["template"] == "tier_at_risk" and message["category"] == "marketing"
    assert message["idempotency_key"] == "tier_at_risk:c_0001:2026-12-01"
    assert message["data"] == {"tier": "Silver", "spend_needed_minor": 50_000, "by": "2026-11-30"}
    assert messages["c_0002"]["data"] == {"tier": "Gold", "spend_needed_minor": 250_000, "by": "2026-11-30",
                                          "next_lower_tier": "Silver"}

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    assert mailer.send_message(deps, message, now=NOW)["status"] == "sent"  # the real template takes this data
    assert mailer.send_message(deps, messages["c_0002"], now=NOW)["status"] == "sent"

    # Once: later runs that day and the next day (the catch-up) send nothing.
    assert send_tier_risk_warnings(deps, shop, NOW + timedelta(hours=3)).warnings_queued == 0
    assert send_tier_risk_warnings(deps, shop, NOW + timedelta(days=1)).warnings_queued == 0
    assert drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) == []
    account = LoyaltyRepository(shop.shop_id).load_profile("c_0001")
    assert account.tier_risk_warned_for == "2026-12-01" and account.tier_review_on == date(2026, 12, 1)

    # On the drop day the job looks again: Silver is gone for c_0001 (nothing ahead: off the index);
    # c_0002 is Silver now, which holds until 1 May 2027 (warned on 1 April).
    drop_day = send_tier_risk_warnings(deps, shop, datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc))
    assert (drop_day.warnings_queued, drop_day.rescheduled, drop_day.tiers_changed) == (0, 2, 2)
    repo = LoyaltyRepository(shop.shop_id)
    assert repo.load_profile("c_0001").tier_review_on is None
    assert repo.load_profile("c_0002").tier_review_on == date(2027, 4, 1)
    assert list(repo.customers_due_tier_review("2027-04-01")) == ["c_0002"]
    # the stored tiers dropped that day, and the month buckets were written back as days
    assert (repo.load_profile("c_0001").tier_name, repo.load_profile("c_0002").tier_name) == (None, "Silver")
    stored = ProfileItem.get(keys.customer_pk(shop.shop_id, "c_0002"), keys.PROFILE_SK)
    assert stored.spend_by_month is None
    assert stored.spend_by_day == {"2025-12-01": 300_000, "2026-05-01": 250_000}


def test_missed_run_is_caught_up_the_next_day(deps, client):
    register_shop(client, "risk-shop", "shopify", program={"tier_period": "rolling_12_months"})
    shop = load_shop(deps, "risk-shop")
    _seed([_customer(shop, 1, {"2025-12": 50_000, "2026-06": 150_000})])
    report = send_tier_risk_warnings(deps, shop, NOW + timedelta(days=1))
    assert report.warnings_queued == 1
    assert [m["customer_id"] for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])] == ["c_0001"]


def test_a_lifetime_shop_sends_nothing(deps, shopify_shop):
    shop = load_shop(deps, shopify_shop.shop_id)
    assert shop.program.tier_period == "lifetime"
    assert vars(send_tier_risk_warnings(deps, shop, NOW)) == {"customers_read": 0, "warnings_queued": 0,
                                                        "rescheduled": 0, "tiers_changed": 0, "skipped": []}
