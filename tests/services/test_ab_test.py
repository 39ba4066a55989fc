"""A/B tests that finish themselves: the test share gets the variants evenly, the winner is chosen
from what recipients did after the wait, and the rest are sent the winner."""
from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import os
import random
from collections import Counter
from datetime import timedelta

import boto3
import pytest

from chalicelib import composition
from chalicelib.domain.campaigns import ab_test
from chalicelib.domain.loyalty.account import Account
from chalicelib.mail import tokens
from chalicelib.services.campaigns import campaigns
from chalicelib.services.mail import send_consumer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import Item
from tests.support.campaigns import NOW, create_campaign
from tests.support.campaigns import planning_clock  # noqa: F401 (the clock fixture)
from tests.support.mail import RecordingMessenger
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN

# Every campaign here is planned on the clock at PLANNED, before it is due.
pytestmark = pytest.mark.usefixtures("clock")

VARIANTS = [{"subject": "Winter sale: free shipping this weekend"},
            {"subject": "Olena, your free delivery ends Sunday", "preheader": "Three days only"}]


def _seed(deps, shop_id, customers):
    shop = load_shop(deps, shop_id)
    ids = [shop.customer_id_for(f"c{n}@example.com") for n in range(customers)]
    with Item.batch_write() as batch:
        for n, customer_id in enumerate(ids):
            batch.save(stored_profile(shop_id, Account(shop_id, customer_id, created_at=NOW - timedelta(days=50),
                                                       email=f"c{n}@example.com", marketing_consent=True,
                                                       tier_name="Gold")))
    return ids


def _click(deps, client, shop, message):
    link = tokens.TrackedLink(shop_id=shop.shop_id, customer_id=message["customer_id"],
                              send_key=message["idempotency_key"], subject=f"campaign:{message['campaign_id']}",
                              url=shop.storefront_url, expires_at=NOW + timedelta(days=30))
    response = client.http.get(f"/r/{deps.tokens.make_tracked_link(link)}")
    assert response.status_code in (302, 303), response.body


def test_the_planted_better_subject_wins_and_the_rest_get_it(deps, client, shopify_shop):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    shop_id = shopify_shop.shop_id
    shop = load_shop(deps, shop_id)
    customers = _seed(deps, shop_id, 400)
    status, campaign = create_campaign(client, shop_id, variants=VARIANTS,
                                       ab_test={"test_percent": 50, "winner_by": "click_rate", "wait_hours": 6})
    assert status == 201, campaign
    assert campaign["ab_phase"] == "test" and len(campaign["variants"]) == 2

    report = campaigns.run_due_campaigns(deps, NOW)
    assert list(report.values())[0]["ab_phase"] == "rest"
    test_messages = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    tested = {m["customer_id"] for m in test_messages}
    assert tested == {c for c in customers if ab_test.in_test(campaign["campaign_id"], c, 50)}
    split = Counter(m["variant"] for m in test_messages)
    assert set(split) == {0, 1} and abs(split[0] - split[1]) < 0.3 * len(test_messages)  # an even split
    assert all(m["variant_copy"]["subject"] == VARIANTS[m["variant"]]["subject"] for m in test_messages)

    composition.use_clock(lambda: NOW)
    # Sent to a recording messenger: the decision is the subject, not SES (the send path's own
    # tests cover SES and its rate pacing, which took half of this test's time for 200 e-mails).
    messenger = RecordingMessenger()
    sending = dataclasses.replace(deps, messenger=messenger)
    rng = random.Random(18)
    for message in test_messages:
        assert send_consumer.deliver(sending, json.dumps(message))["status"] == "sent"
        # The planted effect: subject B is clicked eight times as often as A, so that whatever split
        # the campaign's random id gives, the lead is beyond chance (at 30 % against 10 % it was
        # not always, with about a hundred test e-mails a variant).
        if rng.random() < (0.40 if message["variant"] == 1 else 0.05):
            _click(deps, client, shop, message)
            if rng.random() < 0.5:
                _click(deps, client, shop, message)  # a second click: not a second unique click

    assert sorted(sent["recipient"] for sent in messenger.sent) == sorted(f"c{n}@example.com" for n in range(400)
                                                                           if customers[n] in tested)
    assert campaigns.run_due_campaigns(deps, NOW + timedelta(hours=5)) == {}  # still waiting
    report = list(campaigns.run_due_campaigns(deps, NOW + timedelta(hours=6)).values())[0]
    assert report["status"] == "done" and report["winner"]["name"] == "B"
    assert report["winner"]["significant"] is True
    assert "Variant B had the best click rate" in report["winner"]["explanation"]
    print("\nA/B decision:", report["winner"]["explanation"])  # the "Must show" (pytest -s)
    rest = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert {m["customer_id"] for m in rest} == set(customers) - tested
    assert {m["variant"] for m in rest} == {1}
    assert rest[0]["variant_copy"] == {"subject": VARIANTS[1]["subject"], "preheader": "Three days only"}

    stats = json.loads(client.http.get(f"/admin/shops/{shop_id}/campaigns/{campaign['campaign_id']}/stats",
                                       headers=ADMIN).body)
    a, b = stats["ab_test"]["variants"]
    assert a["sent"] + b["sent"] == len(test_messages)
    assert b["click_rate"] > a["click_rate"] and b["unique_clicks"] > 0
    assert stats["ab_test"]["winner"]["name"] == "B" and stats["ab_test"]["phase"] == "done"
    assert not any(name.startswith("variant_") for name in stats)


def test_the_variant_subject_reaches_the_mail(deps, client, shopify_shop):
    from chalicelib.services.mail import mailer

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    _seed(deps, shopify_shop.shop_id, 40)
    create_campaign(client, shopify_shop.shop_id, variants=VARIANTS, ab_test={"test_percent": 100})
    campaigns.run_due_campaigns(deps, NOW)
    message = next(m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) if m["variant"] == 1)
    messenger = RecordingMessenger()
    assert mailer.send_message(deps, message, messenger=messenger, now=NOW)["status"] == "sent"
    parsed = email.message_from_bytes(messenger.sent[0]["raw"], policy=email.policy.default)
    assert parsed["Subject"] == VARIANTS[1]["subject"]
    html = parsed.get_body(("html",)).get_content()
    assert "Three days only" in html  # the preheader


def test_an_ab_test_is_validated(client, shopify_shop):
    for change, field in [({"variants": VARIANTS[:1]}, "variants"),
                          ({"variants": VARIANTS * 3}, "variants"),
                          ({"variants": [{}, {"subject": "x"}]}, "variants.0"),
                          ({"ab_test": {"test_percent": 20}}, "ab_test"),
                          ({"variants": VARIANTS, "ab_test": {"wait_hours": 0}}, "ab_test.wait_hours"),
                          ({"variants": VARIANTS, "ab_test": {"winner_by": "opens"}}, "ab_test.winner_by")]:
        status, error = create_campaign(client, shopify_shop.shop_id, **change)
        assert status == 400 and error["field"].startswith(field), (change, error)
