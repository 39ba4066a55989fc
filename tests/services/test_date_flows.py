"""Date-triggered flows on the in-memory store with a clock the test moves: defined through the
admin API, started by the daily job on each customer's own day (their time zone), once per
occurrence however often the job runs, and caught up after days the job missed."""
from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.loyalty.account import Account
from chalicelib.services.flows import schedule
from chalicelib.services.flows.dates import LATE_DAYS, start_date_flows
from chalicelib.services.lifecycle.daily import run_daily
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import Item
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, register_shop

# Friday 14 March 2031, 09:00 UTC (T0): 11:00 in Kyiv (the shop's zone, EET until 30 March),
# 05:00 in New York (EDT since 9 March), 22:00 in Auckland (NZDT).
NOW = datetime(2031, 3, 14, 9, 0, tzinfo=timezone.utc)
COPY = {"en": {"subject": "Happy birthday, from us", "heading": "Happy birthday!",
               "body": "A little something for your day.", "cta": "Open your gift"},
        "uk": {"subject": "З днем народження", "heading": "З днем народження!",
               "body": "Невеликий подарунок до вашого дня.", "cta": "Відкрити подарунок"}}


@pytest.fixture
def shop(memory_client, fake_deps):
    fake_deps.clock.set(NOW)
    return register_shop(memory_client, "date-shop", "shopify")


def put_flow(client, shop, flow_id: str, trigger: dict, **send) -> tuple[int, dict]:
    body = {"name": flow_id, "trigger": trigger,
            "steps": [{"type": "send", "copy": COPY, **send}]}
    response = client.http.request("PUT", f"/admin/shops/{shop.shop_id}/flow-definitions/{flow_id}",
                                   headers={**ADMIN, "Content-Type": "application/json"},
                                   body=json.dumps(body).encode())
    return response.status_code, json.loads(response.body)


def seed(deps, shop, *accounts: dict) -> dict[str, str]:
    """Customers by e-mail → their ids, stored as if committed once."""
    loaded = load_shop(deps, shop.shop_id)
    ids = {}
    with Item.batch_write() as batch:
        for facts in accounts:
            facts = dict(facts)
            email = facts.pop("email")
            customer_id = loaded.customer_id_for(email)
            ids[email] = customer_id
            facts.setdefault("created_at", NOW - timedelta(days=400))
            batch.save(stored_profile(shop.shop_id, Account(shop.shop_id, customer_id, email=email,
                                                            marketing_consent=True, **facts)))
    return ids


def flow_mail() -> list[dict]:
    return [m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) if m["template"] == "flow_message"]


def daily(deps, at: datetime) -> dict:
    deps.clock.set(at)
    return run_daily(deps, at)["shops"]["date-shop"]["date_flows"]


def test_birthday_flow_starts_on_each_customers_own_day_once_however_often_the_jobs_run(
        memory_client, fake_deps, shop):
    status, flow = put_flow(memory_client, shop, "birthday-eve",
                            {"kind": "date", "date_field": "birthday", "offset_days": -1, "local_hour": 9})
    assert status == 200, flow
    ids = seed(fake_deps, shop,
               {"email": "olena@example.com", "birthday": date(1990, 3, 16)},  # no zone stored: Kyiv's
               {"email": "jane+shop@example.com", "birthday": date(1985, 3, 16), "timezone": "America/New_York"},
               {"email": "not.today@example.com", "birthday": date(1985, 7, 1)})

    report = daily(fake_deps, NOW)
    # Started ahead: each run begins at 09:00 on the eve of the birthday, in the customer's zone.
    assert (report["started"], report["customers_read"]) == (2, 2)
    for _ in range(3):  # the hourly job again, and again: nothing starts twice
        again = daily(fake_deps, fake_deps.clock.now + timedelta(hours=1))
        assert (again["started"], again["already_started"]) == (0, 2)

    fake_deps.clock.set(datetime(2031, 3, 15, 6, 59, tzinfo=timezone.utc))
    assert schedule.run_flows_now(fake_deps)["sent"] == 0  # 08:59 in Kyiv
    fake_deps.clock.set(datetime(2031, 3, 15, 7, 0, tzinfo=timezone.utc))
    assert schedule.run_flows_now(fake_deps)["sent"] == 1  # 09:00 in Kyiv
    (kyiv,) = flow_mail()
    assert kyiv["customer_id"] == ids["olena@example.com"] and kyiv["data"]["copy"]["uk"] == COPY["uk"]

    fake_deps.clock.set(datetime(2031, 3, 15, 12, 59, tzinfo=timezone.utc))
    assert schedule.run_flows_now(fake_deps)["sent"] == 0  # 08:59 in New York
    daily(fake_deps, datetime(2031, 3, 15, 13, 0, tzinfo=timezone.utc))
    fake_deps.clock.set(datetime(2031, 3, 15, 13, 0, tzinfo=timezone.utc))
    assert schedule.run_flows_now(fake_deps)["sent"] == 1
    assert schedule.run_flows_now(fake_deps)["steps"] == 0  # the schedule twice: nothing again
    (new_york,) = flow_mail()
    assert new_york["customer_id"] == ids["jane+shop@example.com"]

    # The days after: nothing more this year; next year's birthday is a new occurrence.
    for day in range(1, 4):
        assert daily(fake_deps, NOW + timedelta(days=day, hours=5))["started"] == 0
    assert daily(fake_deps, datetime(2032, 3, 14, 9, 0, tzinfo=timezone.utc))["started"] == 2


def test_days_the_job_missed_are_caught_up_at_most_a_week_late(memory_client, fake_deps, shop):
    assert put_flow(memory_client, shop, "birthday", {"kind": "date", "date_field": "birthday"})[0] == 200
    ids = seed(fake_deps, shop,
               {"email": "in.the.gap@example.com", "birthday": date(1990, 3, 17)},
               {"email": "long.ago@example.com", "birthday": date(1990, 3, 19)},
               {"email": "ahead@example.com", "birthday": date(1990, 3, 29)})
    assert daily(fake_deps, NOW)["started"] == 0  # the first pass: nobody's day

    # The job stops for twelve days (17, 19 and the rest go by unseen); at 26 March it looks back a week.
    late = daily(fake_deps, datetime(2031, 3, 26, 9, 30, tzinfo=timezone.utc))
    assert report_days(late)[0] == "2031-03-18"  # LATE_DAYS + 1 before today
    assert late["started"] == 1  # the 19th (seven days late), not the 17th (nine days)
    assert daily(fake_deps, datetime(2031, 3, 26, 10, 30, tzinfo=timezone.utc))["started"] == 0
    schedule.run_flows_now(fake_deps)
    assert [m["customer_id"] for m in flow_mail()] == [ids["long.ago@example.com"]]  # due at once, late

    # Back to hourly: the 29th starts on the eve (a day ahead) and sends at 09:00 Kyiv time.
    daily(fake_deps, datetime(2031, 3, 27, 9, 0, tzinfo=timezone.utc))
    assert daily(fake_deps, datetime(2031, 3, 28, 9, 0, tzinfo=timezone.utc))["started"] == 1
    fake_deps.clock.set(datetime(2031, 3, 29, 7, 0, tzinfo=timezone.utc))
    schedule.run_flows_now(fake_deps)
    assert [m["customer_id"] for m in flow_mail()] == [ids["ahead@example.com"]]
    assert LATE_DAYS == 7


def report_days(report: dict) -> list[str]:
    (days,) = report["days"].values()
    return days


def test_membership_end_sign_up_anniversary_and_the_shops_own_day(memory_client, fake_deps, shop):
    assert put_flow(memory_client, shop, "renew-soon",
                    {"kind": "date", "date_field": "membership_ends", "offset_days": -7})[0] == 200
    assert put_flow(memory_client, shop, "anniversary", {"kind": "date", "date_field": "signed_up"})[0] == 200
    assert put_flow(memory_client, shop, "black-friday",
                    {"kind": "date", "date_field": "calendar", "calendar_date": "2031-03-21", "local_hour": 10})[0] == 200
    # Ends on 22 March in Auckland's day (21 March 20:00 UTC), 21 March in Kyiv's: the customer's day counts.
    ids = seed(fake_deps, shop,
               {"email": "member@example.com", "timezone": "Pacific/Auckland",
                "member_until": datetime(2031, 3, 21, 20, 0, tzinfo=timezone.utc)},
               {"email": "joined@example.com", "created_at": datetime(2029, 3, 16, 12, 0, tzinfo=timezone.utc)})

    # The membership ends on 22 March in Auckland (the customer's day), 7 days before is the 15th:
    # already on the first pass's days (up to tomorrow). The anniversary (16 March) is seen the next day.
    assert daily(fake_deps, NOW)["started"] == 1
    fake_deps.clock.set(datetime(2031, 3, 14, 19, 59, tzinfo=timezone.utc))
    assert schedule.run_flows_now(fake_deps)["sent"] == 0  # 08:59 on 15 March in Auckland
    fake_deps.clock.set(datetime(2031, 3, 14, 20, 0, tzinfo=timezone.utc))
    assert schedule.run_flows_now(fake_deps)["sent"] == 1
    mails = [(m["data"]["flow_id"], m["customer_id"]) for m in flow_mail()]
    for day in range(1, 9):
        daily(fake_deps, NOW + timedelta(days=day))
        schedule.run_flows_now(fake_deps)
        mails += [(m["data"]["flow_id"], m["customer_id"]) for m in flow_mail()]
    assert sorted(mails) == sorted([("renew-soon", ids["member@example.com"]),
                                    ("anniversary", ids["joined@example.com"]),
                                    ("black-friday", ids["member@example.com"]),
                                    ("black-friday", ids["joined@example.com"])])


@pytest.mark.parametrize("trigger, field", [
    ({"kind": "date"}, "trigger.date_field"),
    ({"kind": "date", "date_field": "anniversary"}, "trigger.date_field"),
    ({"kind": "date", "date_field": "calendar"}, "trigger.calendar_date"),
    ({"kind": "date", "date_field": "calendar", "calendar_date": "02-30"}, "trigger.calendar_date"),
    ({"kind": "date", "date_field": "calendar", "calendar_date": "2031-13-01"}, "trigger.calendar_date"),
    ({"kind": "date", "date_field": "birthday", "offset_days": 366}, "trigger.offset_days"),
    ({"kind": "date", "date_field": "birthday", "every_year": False}, "trigger.every_year"),
    ({"kind": "date", "date_field": "signed_up", "every_year": False, "offset_days": -3}, "trigger.offset_days"),
    ({"kind": "date", "date_field": "birthday", "local_hour": 24}, "trigger.local_hour"),
    ({"kind": "first_order", "offset_days": 3}, "trigger.offset_days"),
])
def test_a_hostile_date_trigger_is_refused_with_the_field_named(memory_client, shop, trigger, field):
    status, answer = put_flow(memory_client, shop, "dated", trigger)
    assert status == 400, answer
    assert answer.get("field") == field or field in json.dumps(answer), answer
