"""Each customer's own clock, through the API and the send path: the zone an order's address gives,
quiet hours that hold marketing mail (never transactional) until the customer's morning, and a
campaign planned at 10:00 local that reaches each zone at its own 10:00. Fixed instants in 2031,
across the clock changes."""
from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta, timezone

import boto3

from chalicelib import composition
from chalicelib.domain.loyalty.account import Account
from chalicelib.services.campaigns import campaigns
from chalicelib.services.mail import deferred, send_consumer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import Item
from devstack.samples import sample_order_payload
from tests.support.campaigns import SPECIAL_DAY
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, register_shop

UTC = timezone.utc
NIGHTS = {"start": "21:00", "end": "08:00"}


def _order(platform: str, email: str, order_id: str, **address) -> dict:
    payload = sample_order_payload(platform, order_id=order_id, email=email,
                                   created_at=datetime(2031, 3, 1, 12, 0, tzinfo=UTC))
    if platform == "shopify":
        payload["shipping_address"] = {"first_name": "Ann", "address1": "1 Main St", "city": "Town", "zip": "1",
                                       **address}
    else:
        payload["shipping"] = {"first_name": "Ann", "address_1": "1 Main St", "city": "Town", "postcode": "1",
                               **address}
    return payload


def _zone(deps, shop_id: str, email: str):
    shop = load_shop(deps, shop_id)
    return deps.repos.loyalty(shop_id).load_account(shop.customer_id_for(email)).timezone


def test_the_orders_address_sets_the_customers_zone_in_the_same_commit(deps, client):
    shopify = register_shop(client, "clock-shopify", "shopify", timezone="Europe/Berlin")
    woo = register_shop(client, "clock-woo", "woocommerce", sender_email="loyalty@woo-shop.example")
    response = shopify.deliver(_order("shopify", "ann+la@example.com", "5001", country="United States",
                                      country_code="US", province="California", province_code="CA"),
                               topic="orders/paid")
    assert response.status_code == 200, response.body
    assert _zone(deps, shopify.shop_id, "ann+la@example.com") == "America/Los_Angeles"
    woo.deliver(_order("woocommerce", "bruce@example.com", "77", country="AU", state="WA"))
    assert _zone(deps, woo.shop_id, "bruce@example.com") == "Australia/Perth"
    # The customer moves: the next order's address wins.
    shopify.deliver(_order("shopify", "ann+la@example.com", "5002", country_code="CA", province_code="ON"),
                    topic="orders/paid")
    assert _zone(deps, shopify.shop_id, "ann+la@example.com") == "America/Toronto"
    # No state named for a country of many zones: the shop's zone if it is there, else the country's main one.
    shopify.deliver(_order("shopify", "carl@example.com", "5003", country_code="US"), topic="orders/paid")
    assert _zone(deps, shopify.shop_id, "carl@example.com") == "America/New_York"


def _customer(deps, shop_id: str, email: str, zone) -> str:
    shop = load_shop(deps, shop_id)
    customer_id = shop.customer_id_for(email)
    with Item.batch_write() as batch:
        batch.save(stored_profile(shop_id, Account(shop_id, customer_id, created_at=datetime(2030, 1, 1, tzinfo=UTC),
                                                   email=email, marketing_consent=True, tier_name="Gold",
                                                   timezone=zone)))
    return customer_id


def _deliver(deps, message: dict, at: datetime) -> dict:
    composition.use_clock(lambda: at)
    outcome = send_consumer.deliver(deps, json.dumps(message))
    print(f"{at:%d %b %H:%M} UTC  {message['template']:13} to {message['customer_id'][:10]} → {outcome['status']}"
          f"{' (' + outcome['reason'] + ')' if outcome.get('reason') else ''}"
          f"{' until ' + outcome['release_at'][:16] if outcome.get('release_at') else ''}")  # pytest -s: the transcript
    return outcome


def _message(shop_id, customer_id, template, at, category="marketing", **extra):
    return {"idempotency_key": f"{template}:{customer_id}:{at.isoformat()}", "shop_id": shop_id,
            "customer_id": customer_id, "template": template, "category": category,
            "created_at": at.isoformat(), "data": extra.pop("data", {"days_since_last_order": 120}), **extra}


def _sample_data(deps, shop_id: str, template: str) -> dict:
    from chalicelib.mail.contexts import sample_data

    return json.loads(json.dumps(sample_data(template, "en", load_shop(deps, shop_id)),
                                 default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def test_quiet_hours_hold_marketing_mail_until_the_customers_morning(deps, client):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop = register_shop(client, "clock-quiet", "shopify", quiet_hours=NIGHTS)
    new_york = _customer(deps, shop.shop_id, "ny@example.com", "America/New_York")
    kyiv = _customer(deps, shop.shop_id, "kyiv@example.com", None)  # no zone known: the shop's (Kyiv)
    # Saturday 8 March 2031, 21:30 in New York (EST); the clocks go forward that night.
    evening = datetime(2031, 3, 9, 2, 30, tzinfo=UTC)  # 04:30 in Kyiv: night there too
    held = _deliver(deps, _message(shop.shop_id, new_york, "winback", evening), evening)
    assert held["status"] == "deferred" and held["reason"] == "quiet_hours"
    assert held["release_at"] == "2031-03-09T12:00:00+00:00"  # 08:00 EDT
    kyiv_held = _deliver(deps, _message(shop.shop_id, kyiv, "winback", evening), evening)
    assert kyiv_held["release_at"] == "2031-03-09T06:00:00+00:00"  # 08:00 EET
    # Transactional mail is never held.
    receipt = _message(shop.shop_id, new_york, "tier_upgrade", evening, category="transactional",
                       data=_sample_data(deps, shop.shop_id, "tier_upgrade"))
    assert _deliver(deps, receipt, evening)["status"] == "sent"

    assert deferred.release_deferred_mail(deps, datetime(2031, 3, 9, 5, 59, tzinfo=UTC)) == {}
    assert deferred.release_deferred_mail(deps, datetime(2031, 3, 9, 6, 0, tzinfo=UTC)) == {"released": 1}
    (kyiv_again,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert _deliver(deps, kyiv_again, datetime(2031, 3, 9, 6, 0, tzinfo=UTC))["status"] == "sent"
    # New York's e-mail is not released early with Kyiv's morning, and goes at its own.
    assert deferred.release_deferred_mail(deps, datetime(2031, 3, 9, 11, 59, tzinfo=UTC)) == {}
    assert deferred.release_deferred_mail(deps, datetime(2031, 3, 9, 12, 0, tzinfo=UTC)) == {"released": 1}
    (again,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert _deliver(deps, again, datetime(2031, 3, 9, 12, 0, tzinfo=UTC))["status"] == "sent"

    stats = json.loads(client.http.get(f"/admin/shops/{shop.shop_id}/flows/stats", headers=ADMIN).body)["flows"]
    winback = next(flow for flow in stats if flow["template"] == "winback")
    assert winback["sent_after_deferral"] == 2


def test_a_message_whose_window_closes_before_morning_is_skipped_not_sent_at_night(deps, client):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop = register_shop(client, "clock-expiring", "shopify", quiet_hours=NIGHTS)
    tokyo = _customer(deps, shop.shop_id, "tokyo@example.com", "Asia/Tokyo")
    night = datetime(2031, 10, 25, 15, 0, tzinfo=UTC)  # 00:00 in Tokyo
    message = _message(shop.shop_id, tokyo, "winback", night, valid_until=(night + timedelta(hours=4)).isoformat())
    outcome = _deliver(deps, message, night)
    assert (outcome["status"], outcome["reason"]) == ("skipped", "quiet_hours")


def test_a_shop_without_quiet_hours_sends_at_night(deps, client):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop = register_shop(client, "clock-owl", "shopify", quiet_hours=None)
    owl = _customer(deps, shop.shop_id, "owl@example.com", "Europe/Kyiv")
    night = datetime(2031, 6, 1, 0, 0, tzinfo=UTC)  # 03:00 in Kyiv
    assert _deliver(deps, _message(shop.shop_id, owl, "winback", night), night)["status"] == "sent"


def test_quiet_hours_are_validated(client):
    from tests.support.shops import shop_document

    for hours, field in (({"start": "25:00", "end": "08:00"}, "quiet_hours.start"),
                         ({"start": "08:00", "end": "08:00"}, "quiet_hours"),
                         ({"start": "21:00", "end": "8"}, "quiet_hours.end")):
        response = client.http.put("/admin/shops/clock-bad", headers=ADMIN,
                                   body=json.dumps(shop_document("shopify", quiet_hours=hours)).encode())
        assert response.status_code == 400, hours
        assert json.loads(response.body)["field"].startswith(field), response.body


def test_a_campaign_at_ten_local_reaches_each_zone_at_its_own_ten(deps, client):
    shop = register_shop(client, "clock-campaign", "shopify", quiet_hours=NIGHTS)
    people = {"tokyo": "Asia/Tokyo", "kyiv": None, "lviv": "Europe/Kyiv", "la": "America/Los_Angeles"}
    ids = {name: _customer(deps, shop.shop_id, f"{name}@example.com", zone) for name, zone in people.items()}
    document = {"name": "Spring", "template": "special_day", "segment": {"rules": {"field": "tier", "op": "=",
                                                                                   "value": "Gold"}},
                "send_at": "2031-03-14T10:00:00", "local_time": True, "data": dict(SPECIAL_DAY)}
    response = client.http.post(f"/admin/shops/{shop.shop_id}/campaigns", headers=ADMIN,
                                body=json.dumps(document).encode())
    assert response.status_code == 201, response.body
    campaign = json.loads(response.body)
    assert campaign["local_time"] and campaign["send_at"].startswith("2031-03-13T20:00:00")  # 10:00 at UTC+14
    queue = os.environ["LOYALTY_SEND_QUEUE"]

    names = {customer_id: name for name, customer_id in ids.items()}

    def run(at):
        report = campaigns.run_due_campaigns(deps, at)
        queued = sorted(m["customer_id"] for m in drain_queue(queue))
        outcome = next(iter(report.values()), {"status": "not due"})
        print(f"{at:%d %b %H:%M} UTC  run_due_campaigns → {outcome.get('status')}, queued "  # pytest -s: the transcript
              f"{[names[c] for c in queued]}{', next pass ' + outcome['next_pass_at'][:16] if 'next_pass_at' in outcome else ''}")
        return report, queued

    assert run(datetime(2031, 3, 13, 19, 59, tzinfo=UTC)) == ({}, [])
    report, queued = run(datetime(2031, 3, 13, 20, 0, tzinfo=UTC))  # nobody lives at UTC+14
    assert queued == [] and next(iter(report.values()))["next_pass_at"].startswith("2031-03-14T01:00:00")
    assert run(datetime(2031, 3, 14, 1, 0, tzinfo=UTC))[1] == [ids["tokyo"]]  # 10:00 JST
    assert run(datetime(2031, 3, 14, 1, 0, tzinfo=UTC)) == ({}, [])  # idempotent: not due again
    # The sender was down from 07:00 to 17:30: Kyiv's 10:00 (08:00 UTC) and Los Angeles's (17:00 UTC,
    # PDT since 9 March) both go in the one late pass.
    report, queued = run(datetime(2031, 3, 14, 17, 30, tzinfo=UTC))
    assert queued == sorted([ids["kyiv"], ids["lviv"], ids["la"]])
    assert next(iter(report.values()))["status"] == "done"
    view = json.loads(client.http.get(f"/admin/shops/{shop.shop_id}/campaigns/{campaign['campaign_id']}",
                                      headers=ADMIN).body)
    assert view["status"] == "done" and view["queued"] == 4


def test_a_local_time_campaign_is_no_ab_test(client):
    shop = register_shop(client, "clock-ab", "shopify")
    document = {"name": "Spring", "template": "special_day", "segment": {"rules": {"field": "tier", "op": "=",
                                                                                   "value": "Gold"}},
                "send_at": "2031-03-14T10:00:00", "local_time": True, "data": dict(SPECIAL_DAY),
                "variants": [{"subject": "A"}, {"subject": "B"}]}
    response = client.http.post(f"/admin/shops/{shop.shop_id}/campaigns", headers=ADMIN,
                                body=json.dumps(document).encode())
    assert response.status_code == 400 and "local_time" in json.loads(response.body)["message"]


def test_the_planner_shows_holdout_variants_the_send_window_by_zone_and_the_cap(deps, client):
    shop = register_shop(client, "clock-plan", "shopify", quiet_hours=NIGHTS,
                         marketing_cap={"max_messages": 1, "per_days": 7})
    people = {"tokyo": "Asia/Tokyo", "kyiv": None, "la": "America/Los_Angeles", "la2": "America/Los_Angeles"}
    ids = {name: _customer(deps, shop.shop_id, f"{name}@example.com", zone) for name, zone in people.items()}
    with Item.batch_write() as batch:  # one Gold customer without consent
        batch.save(stored_profile(shop.shop_id, Account(shop.shop_id, "c_no", created_at=datetime(2030, 1, 1, tzinfo=UTC),
                                                        email="no@example.com", marketing_consent=False,
                                                        tier_name="Gold")))
    # The cap (1 in 7 days) is already used by Los Angeles's first customer.
    deps.repos.mail(shop.shop_id).update_prefs(ids["la"], lambda p: setattr(
        p, "marketing_sends", {"s": "2031-03-12T18:00:00.000000Z"}))
    deps.repos.mail(shop.shop_id).update_prefs(ids["kyiv"], lambda p: setattr(p, "unsubscribed", True))
    document = {"name": "Spring", "template": "special_day", "segment": {"rules": {"field": "tier", "op": "=",
                                                                                   "value": "Gold"}},
                "send_at": "2031-03-14T07:30:00", "local_time": True, "data": dict(SPECIAL_DAY),
                "holdout_percent": 10}
    response = client.http.post(f"/admin/shops/{shop.shop_id}/campaigns/preview", headers=ADMIN,
                                body=json.dumps(document).encode())
    assert response.status_code == 200, response.body
    plan = json.loads(response.body)["plan"]
    assert (plan["segment_members"], plan["sendable"]) == (5, 3)
    assert plan["not_sendable"] == {"no_consent": 1, "unsubscribed": 1}
    assert plan["holdout"] == {"percent": 10, "expected_recipients": 0}
    window = [(row["zone"], row["recipients"], row["sends_at"][:16], row["local_time"], row["utc_offset"],
               row["quiet_hours"], (row["deferred_to"] or "")[:16], row["cap_deferred"]) for row in plan["send_window"]]
    assert window == [
        ("Asia/Tokyo", 1, "2031-03-13T22:30", "2031-03-14T07:30", "+09:00", True, "2031-03-13T23:00", 0),
        ("America/Los_Angeles", 2, "2031-03-14T14:30", "2031-03-14T07:30", "-07:00", True, "2031-03-14T15:00", 1),
    ]
    assert plan["cap"]["will_defer"] == 1 and plan["quiet_hours"]["will_defer"] == 3

    ab = dict(document, local_time=False, send_at="2031-03-14T10:00:00", holdout_percent=0,
              variants=[{"subject": "Spring is here"}, {"subject": "Your spring offer"}],
              ab_test={"test_percent": 50, "winner_by": "click_rate", "wait_hours": 4})
    plan = json.loads(client.http.post(f"/admin/shops/{shop.shop_id}/campaigns/preview", headers=ADMIN,
                                       body=json.dumps(ab).encode()).body)["plan"]
    assert [(v["subject"], v["expected_recipients"]) for v in plan["ab_test"]["variants"]] == [
        ("Spring is here", 1), ("Your spring offer", 1)]
    assert plan["ab_test"]["rest_expected_recipients"] == 1
    # One moment for everyone (10:00 in Kyiv = 08:00 UTC): night in Los Angeles, evening in Tokyo.
    assert {row["zone"]: row["quiet_hours"] for row in plan["send_window"]} == {
        "Asia/Tokyo": False, "America/Los_Angeles": True}


def test_the_program_holdout_gets_no_marketing_mail_and_the_dashboard_measures_the_program(deps, client):
    import random

    from chalicelib.domain.campaigns.program_holdout import in_program_holdout

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop = register_shop(client, "clock-program", "shopify", program_holdout_percent=20)
    rng = random.Random(7)
    held = []
    with Item.batch_write() as batch:
        for n in range(2_000):
            customer_id = f"c_{n:05d}"
            in_holdout = in_program_holdout(shop.shop_id, customer_id, 20)
            held.append(customer_id) if in_holdout else None
            bought = rng.random() < (0.08 if in_holdout else 0.12)
            batch.save(stored_profile(shop.shop_id, Account(
                shop.shop_id, customer_id, created_at=datetime(2030, 1, 1, tzinfo=UTC), email=f"{customer_id}@example.com",
                marketing_consent=True, tier_name="Gold",
                spend_by_day={date(2031, 3, 15): rng.randint(2_000, 8_000)} if bought else {})))
    noon = datetime(2031, 3, 20, 12, 0, tzinfo=UTC)
    outcome = _deliver(deps, _message(shop.shop_id, held[0], "winback", noon), noon)
    assert (outcome["status"], outcome["reason"]) == ("skipped", "program_holdout")
    receipt = _message(shop.shop_id, held[0], "tier_upgrade", noon, category="transactional",
                       data=_sample_data(deps, shop.shop_id, "tier_upgrade"))
    assert _deliver(deps, receipt, noon)["status"] == "sent"  # transactional mail is no marketing

    composition.use_clock(lambda: noon)
    dashboard = json.loads(client.http.get(f"/admin/shops/{shop.shop_id}/dashboard?days=10", headers=ADMIN).body)
    program = dashboard["program"]
    assert program["months"] == ["2031-03"] and program["holdout_percent"] == 20
    assert program["groups"]["holdout"]["customers"] == len(held)
    assert program["groups"]["mailed"]["customers"] == 2_000 - len(held)
    increment = program["incremental_revenue"]
    assert increment["low"] < increment["estimate"] < increment["high"]
    true_increment = 0.04 * 50.00 * (2_000 - len(held))  # 4 points more buyers × 50.00 average spend
    assert increment["low"] <= true_increment <= increment["high"]


def test_a_moment_at_the_ends_of_the_calendar_is_refused_not_a_crash(client):
    shop = register_shop(client, "clock-ends", "shopify")
    for send_at in ("0001-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00"):
        for local in (True, False):
            document = {"name": "Ends", "template": "special_day", "segment": {"rules": {"field": "tier", "op": "=",
                                                                                          "value": "Gold"}},
                        "send_at": send_at, "local_time": local, "data": dict(SPECIAL_DAY)}
            for path in ("campaigns", "campaigns/preview"):
                response = client.http.post(f"/admin/shops/{shop.shop_id}/{path}", headers=ADMIN,
                                            body=json.dumps(document).encode())
                assert response.status_code == 400 and json.loads(response.body)["field"] == "send_at", response.body


def test_a_holdout_is_drawn_at_the_customers_morning_like_the_mail_it_stands_for(deps, client):
    # A campaign with a holdout reaching customers at night: the sent group's e-mails wait for the
    # morning and their attribution window starts then; the holdout's must too, or the night's orders
    # count for the holdout only (they did: the holdout was drawn and its window opened at 23:00).
    from chalicelib.domain.campaigns import lift
    from tests.support.campaigns import create_campaign

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop = register_shop(client, "clock-holdout", "shopify", quiet_hours=NIGHTS)
    night = datetime(2031, 3, 8, 21, 0, tzinfo=UTC)  # 23:00 in Kyiv
    morning = datetime(2031, 3, 9, 6, 0, tzinfo=UTC)  # 08:00 in Kyiv
    ids = [_customer(deps, shop.shop_id, f"h{n}@example.com", "Europe/Kyiv") for n in range(12)]
    composition.use_clock(lambda: night - timedelta(days=1))
    status, campaign = create_campaign(client, shop.shop_id, send_at="2031-03-08T23:00:00", holdout_percent=50,
                                       data={**SPECIAL_DAY, "starts_at": "2031-03-09T00:00:00+02:00",
                                             "ends_at": "2031-03-12T23:59:00+02:00"})
    assert status == 201, campaign
    campaigns.run_due_campaigns(deps, night)
    groups = {c: lift.assign_group(campaign["campaign_id"], c, 50) for c in ids}
    assert set(groups.values()) == {lift.SENT, lift.HOLDOUT}
    for message in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]):
        outcome = _deliver(deps, message, night)
        assert (outcome["status"], outcome["reason"]) == ("deferred", "quiet_hours")
        assert deps.repos.campaign_groups(shop.shop_id).get(message["customer_id"]) is None  # no window at night

    assert deferred.release_deferred_mail(deps, morning) == {"released": len(ids)}
    for message in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]):
        outcome = _deliver(deps, message, morning)
        assert outcome["status"] == ("skipped" if groups[message["customer_id"]] == lift.HOLDOUT else "sent")
    for customer, group in groups.items():
        assigned = deps.repos.campaign_groups(shop.shop_id).get(customer)
        assert (assigned.group, assigned.assigned_at) == (group, morning)
