"""One cap that defers by priority: a week of marketing mail for one customer under the cap of
3 per 7 days. What does not fit waits for the next free slot, highest priority first; what waits
past its window is counted expired, not lost silently."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib import composition
from chalicelib.domain.loyalty.account import Account
from chalicelib.mail.contexts import sample_data
from chalicelib.services.campaigns import results
from chalicelib.services.mail import deferred, send_consumer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import Item
from tests.support.campaigns import SPECIAL_DAY, create_campaign
from tests.support.campaigns import planning_clock  # noqa: F401 (the clock fixture)
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, shop_document

# Every campaign here is planned on the clock at PLANNED, before it is due.
pytestmark = pytest.mark.usefixtures("clock")

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def _customer(deps, shop_id: str) -> str:
    shop = load_shop(deps, shop_id)
    customer_id = shop.customer_id_for("olena@example.com")
    with Item.batch_write() as batch:
        batch.save(stored_profile(shop_id, Account(shop_id, customer_id, created_at=MONDAY - timedelta(days=300),
                                                   email="olena@example.com", marketing_consent=True,
                                                   tier_name="Gold", points_balance=500)))
    return customer_id


def _message(deps, shop_id, customer_id, template, at, campaign_id=None, data=None):
    shop = load_shop(deps, shop_id)
    return {"idempotency_key": f"{campaign_id or template}:{customer_id}:{at.date()}", "shop_id": shop_id,
            "customer_id": customer_id, "template": template, "category": "marketing", "campaign_id": campaign_id,
            "created_at": at.isoformat(), "data": data if data is not None else json.loads(json.dumps(
                sample_data(template, "en", shop), default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))}


def _at(moment):
    composition.use_clock(lambda: moment)


def _deliver(deps, message, at):
    _at(at)
    outcome = send_consumer.deliver(deps, json.dumps(message))
    print(f"{at:%a %d %H:%M}  {message['template']:16} {message.get('campaign_id') or '':14} → {outcome['status']}"
          f"{' until ' + outcome['release_at'][:16] if outcome.get('release_at') else ''}"
          f"{' (' + outcome['reason'] + ')' if outcome.get('reason') else ''}")  # the week's transcript (pytest -s)
    return outcome


def _release(deps, at):
    _at(at)
    report = deferred.release_deferred_mail(deps, at)
    print(f"{at:%a %d %H:%M}  release_deferred_mail: {report}")
    outcomes = [_deliver(deps, m, at) for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])]
    return report, outcomes


def test_a_week_under_the_cap_defers_by_priority_and_counts_what_expired(deps, client, shopify_shop):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop_id = shopify_shop.shop_id
    customer = _customer(deps, shop_id)
    day = lambda n, hours=0: MONDAY + timedelta(days=n, hours=hours)  # noqa: E731
    campaign_data = dict(SPECIAL_DAY)
    camp_a, camp_b, camp_c = (create_campaign(client, shop_id, name=name)[1]["campaign_id"] for name in "ABC")

    assert _deliver(deps, _message(deps, shop_id, customer, "special_day", day(0), camp_a, campaign_data), day(0))["status"] == "sent"
    assert _deliver(deps, _message(deps, shop_id, customer, "special_day", day(1), camp_b, campaign_data), day(1))["status"] == "sent"
    assert _deliver(deps, _message(deps, shop_id, customer, "winback", day(2)), day(2))["status"] == "sent"
    # The cap (3 in 7 days) is full until Monday's send ages out, next Monday 10:00.
    birthday = _deliver(deps, _message(deps, shop_id, customer, "birthday", day(3)), day(3))
    assert birthday["status"] == "deferred" and birthday["release_at"] == day(7).isoformat()
    late_campaign = _deliver(deps, _message(deps, shop_id, customer, "special_day", day(4, 3), camp_c, campaign_data),
                             day(4, 3))
    assert late_campaign["status"] == "deferred"  # valid for 3 days: until day 7 13:00
    warning = _message(deps, shop_id, customer, "points_expiring", day(5),
                       data={"points": 200, "expires_at": day(12).isoformat()})  # worth sending until then
    expiry = _deliver(deps, warning, day(5))
    assert expiry["status"] == "deferred"
    # A redelivery of a deferred message changes nothing and is not counted twice.
    assert _deliver(deps, warning, day(5))["status"] == "deferred"

    assert _release(deps, day(6)) == ({}, [])  # nothing due before a slot frees

    report, outcomes = _release(deps, day(7, 1))
    # One slot is free: the expiry warning (highest priority) takes it, though it was deferred last.
    assert report == {"released": 1, "still_waiting": 2}
    assert [(o["template"], o["status"]) for o in outcomes] == [("points_expiring", "sent")]

    report, outcomes = _release(deps, day(8, 1))
    # Tuesday's send has aged out: the birthday goes; the campaign's window closed at day 7 13:00.
    assert report == {"released": 1, "expired_in_queue": 1}
    assert [(o["template"], o["status"]) for o in outcomes] == [("birthday", "sent")]

    flows = json.loads(client.http.get(f"/admin/shops/{shop_id}/flows/stats", headers=ADMIN).body)["flows"]
    by_template = {flow["template"]: flow for flow in flows}
    assert by_template["points_expiring"]["deferred"] == 1 and by_template["points_expiring"]["sent_after_deferral"] == 1
    assert by_template["birthday"]["deferred"] == 1 and by_template["birthday"]["sent_after_deferral"] == 1
    campaign_c = deps.repos.results(shop_id, f"campaign:{camp_c}").totals()
    assert campaign_c["deferred"] == 1 and campaign_c["expired_in_queue"] == 1 and campaign_c["sent"] == 0
    sends = deps.repos.mail(shop_id).load_prefs(customer).marketing_sends
    window = [at for at in sends.values() if at > (day(8, 1) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")]
    assert len(window) == 3  # the cap held all week


def test_a_shop_may_put_campaigns_first(deps, client, shopify_shop):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop_id = shopify_shop.shop_id
    response = client.http.put(f"/admin/shops/{shop_id}", headers=ADMIN, body=json.dumps(shop_document(
        "shopify", mail_priority_order=["campaign", "points_expiring", "tier_at_risk", "birthday", "winback", "welcome"],
        marketing_cap={"max_messages": 1, "per_days": 7})).encode())
    assert response.status_code == 200, response.body
    deps.caches.shops.clear()
    customer = _customer(deps, shop_id)
    assert _deliver(deps, _message(deps, shop_id, customer, "winback", MONDAY), MONDAY)["status"] == "sent"
    _deliver(deps, _message(deps, shop_id, customer, "points_expiring", MONDAY + timedelta(days=1),
                            data={"points": 100, "expires_at": (MONDAY + timedelta(days=30)).isoformat()}),
             MONDAY + timedelta(days=1))
    _deliver(deps, _message(deps, shop_id, customer, "special_day", MONDAY + timedelta(days=5),
                            create_campaign(client, shop_id)[1]["campaign_id"], dict(SPECIAL_DAY)),
             MONDAY + timedelta(days=5))
    report, outcomes = _release(deps, MONDAY + timedelta(days=7, minutes=1))
    assert [o["template"] for o in outcomes] == ["special_day"] and report["still_waiting"] == 1


def test_the_priority_order_names_every_kind_once(client, shopify_shop):
    response = client.http.put(f"/admin/shops/{shopify_shop.shop_id}", headers=ADMIN, body=json.dumps(shop_document(
        "shopify", mail_priority_order=["campaign", "campaign"])).encode())
    assert response.status_code == 400 and json.loads(response.body)["field"].startswith("mail_priority_order")
