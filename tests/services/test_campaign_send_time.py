"""A campaign is never planned for a moment already past: that would mail every recipient at once
without the question the workspace asks before an immediate send. "now" is the one way to send at
once. At T0 (14 March 2031, 09:00 UTC) it is 11:00 in Kyiv (UTC+2 until the last Sunday of March)."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest

from chalicelib.domain.loyalty.account import Account
from chalicelib.services.campaigns import campaigns
from chalicelib.services.campaigns.due_sends import run_due_sends
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import Item
from tests.support.campaigns import SPECIAL_DAY
from tests.support.clock import T0, app_clock  # noqa: F401 (the clock fixture)
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, register_shop

UTC = timezone.utc


def _customer(deps, shop_id: str, name: str, zone) -> str:
    shop = load_shop(deps, shop_id)
    customer_id = shop.customer_id_for(f"{name}@example.com")
    with Item.batch_write() as batch:
        batch.save(stored_profile(shop_id, Account(shop_id, customer_id, created_at=datetime(2030, 1, 1, tzinfo=UTC),
                                                   email=f"{name}@example.com", marketing_consent=True,
                                                   tier_name="Gold", timezone=zone)))
    return customer_id


def _plan(client, shop_id: str, path: str = "campaigns", **fields):
    document = {"name": "Spring", "template": "special_day",
                "segment": {"rules": {"field": "tier", "op": "=", "value": "Gold"}}, "data": dict(SPECIAL_DAY), **fields}
    response = client.http.post(f"/admin/shops/{shop_id}/{path}", headers=ADMIN, body=json.dumps(document).encode())
    return response.status_code, json.loads(response.body)


def _listed(client, shop_id: str) -> list:
    return json.loads(client.http.get(f"/admin/shops/{shop_id}/campaigns", headers=ADMIN).body)["campaigns"]


@pytest.mark.parametrize("path", ["campaigns", "campaigns/preview", "campaign-preview"])
def test_a_send_at_already_past_is_refused_naming_send_at_and_saves_nothing(client, clock, path):
    shop = register_shop(client, "past-shop", "shopify")
    status, error = _plan(client, shop.shop_id, path, send_at="2031-03-13T10:00:00")  # yesterday, shop time
    assert status == 400 and error["field"] == "send_at", error
    assert "2031-03-13T10:00 (Europe/Kyiv) has already passed: it is 2031-03-14T11:00 there" in error["message"]
    assert '"now"' in error["message"]  # the way to say what a past moment would have done
    assert _listed(client, shop.shop_id) == []


def test_a_form_submitted_at_now_has_a_minutes_grace(client, clock):
    shop = register_shop(client, "grace-shop", "shopify")
    assert _plan(client, shop.shop_id, send_at="2031-03-14T10:59:10")[0] == 201  # 50 s ago in Kyiv
    status, error = _plan(client, shop.shop_id, send_at="2031-03-14T10:58:30")  # 90 s ago
    assert status == 400 and error["field"] == "send_at"


def test_an_offset_given_with_send_at_is_that_moment_and_a_naive_one_is_shop_time(client, clock):
    shop = register_shop(client, "offset-shop", "shopify")
    # 10:30 is past in Kyiv (11:00 there) but not in UTC (09:00): the same digits, two moments.
    status, error = _plan(client, shop.shop_id, send_at="2031-03-14T10:30:00")
    assert status == 400 and error["field"] == "send_at"
    status, planned = _plan(client, shop.shop_id, send_at="2031-03-14T10:30:00+00:00")
    assert status == 201 and planned["send_at"] == "2031-03-14T10:30:00.000000Z"
    status, planned = _plan(client, shop.shop_id, send_at="2031-03-14T12:30:00")
    assert status == 201 and planned["send_at"] == "2031-03-14T10:30:00.000000Z"


def test_now_sends_at_the_services_time_and_is_due_at_once(deps, client, clock):
    shop = register_shop(client, "now-shop", "shopify")
    gold = _customer(deps, shop.shop_id, "ann", None)
    status, planned = _plan(client, shop.shop_id, send_at="now")
    assert status == 201 and planned["send_at"] == "2031-03-14T09:00:00.000000Z", planned
    report = run_due_sends(deps)
    assert list(report.values()) == [{"status": "done", "queued": 1}]
    assert [m["customer_id"] for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])] == [gold]


def test_now_is_one_moment_so_not_each_customers_clock(client, clock):
    shop = register_shop(client, "now-local-shop", "shopify")
    status, error = _plan(client, shop.shop_id, send_at="now", local_time=True)
    assert status == 400 and error["field"] == "local_time", error


def test_a_campaign_that_became_due_while_the_scheduler_waited_is_still_sent(deps, client, clock):
    shop = register_shop(client, "late-run-shop", "shopify")
    gold = _customer(deps, shop.shop_id, "ann", None)
    status, planned = _plan(client, shop.shop_id, send_at="2031-03-14T12:00:00")  # 10:00 UTC
    assert status == 201
    clock.advance(hours=3)  # the schedule did not run meanwhile
    assert list(run_due_sends(deps).values()) == [{"status": "done", "queued": 1}]
    assert [m["customer_id"] for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])] == [gold]


def test_a_local_time_already_past_in_the_shops_zone_is_refused(client, clock):
    shop = register_shop(client, "local-past-shop", "shopify")
    # 10:00 today: past in Kyiv (11:00), still ahead in Lisbon or New York, but the shop plans in Kyiv time.
    status, error = _plan(client, shop.shop_id, send_at="2031-03-14T10:00:00", local_time=True)
    assert status == 400 and error["field"] == "send_at", error
    assert "Europe/Kyiv" in error["message"]


def test_a_local_time_still_ahead_in_the_shops_zone_is_planned_even_where_it_has_passed(deps, client, clock):
    shop = register_shop(client, "local-east-shop", "shopify")
    ids = {name: _customer(deps, shop.shop_id, name, zone)
           for name, zone in {"tokyo": "Asia/Tokyo", "kyiv": None, "la": "America/Los_Angeles"}.items()}
    # 12:00 local: Tokyo's (03:00 UTC) has passed at 09:00 UTC; Kyiv's (10:00 UTC) and LA's (19:00 UTC) are ahead.
    status, preview = _plan(client, shop.shop_id, "campaigns/preview", send_at="2031-03-14T12:00:00", local_time=True)
    assert status == 200, preview
    window = {row["zone"]: (row["sends_at"][:16], row["local_time"], row["late"]) for row in preview["plan"]["send_window"]}
    assert window == {"Asia/Tokyo": ("2031-03-14T09:00", "2031-03-14T18:00", True),  # at once: 18:00 there
                      "Europe/Kyiv": ("2031-03-14T10:00", "2031-03-14T12:00", False),
                      "America/Los_Angeles": ("2031-03-14T19:00", "2031-03-14T12:00", False)}
    status, planned = _plan(client, shop.shop_id, send_at="2031-03-14T12:00:00", local_time=True)
    assert status == 201, planned
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    campaigns.run_due_campaigns(deps, T0)  # Tokyo's customers get it at once: their 12:00 is gone
    assert [m["customer_id"] for m in drain_queue(queue)] == [ids["tokyo"]]
    campaigns.run_due_campaigns(deps, datetime(2031, 3, 14, 10, 0, tzinfo=UTC))
    assert [m["customer_id"] for m in drain_queue(queue)] == [ids["kyiv"]]


def test_a_shop_time_the_clocks_skip_is_refused_and_an_offset_is_that_moment(client, clock):
    shop = register_shop(client, "dst-gap-shop", "shopify")
    # Kyiv's clocks go from 03:00 to 04:00 on 30 March 2031: 03:30 never shows there. It was planned
    # for 01:30 UTC (04:30 in Kyiv) while the plan said "03:30, +02:00".
    status, error = _plan(client, shop.shop_id, send_at="2031-03-30T03:30:00")
    assert status == 400 and error["field"] == "send_at", error
    assert "2031-03-30T03:30 does not exist in Europe/Kyiv" in error["message"]
    status, planned = _plan(client, shop.shop_id, send_at="2031-03-30T03:30:00+02:00")  # a moment: 01:30 UTC
    assert status == 201 and planned["send_at"] == "2031-03-30T01:30:00.000000Z"
    status, planned = _plan(client, shop.shop_id, send_at="2031-03-30T04:00:00")
    assert status == 201 and planned["send_at"] == "2031-03-30T01:00:00.000000Z"
    # In the autumn 03:30 shows twice: the first (still summer time, +03:00) is meant.
    status, planned = _plan(client, shop.shop_id, send_at="2031-10-26T03:30:00")
    assert status == 201 and planned["send_at"] == "2031-10-26T00:30:00.000000Z"
