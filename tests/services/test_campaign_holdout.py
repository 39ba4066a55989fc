"""A campaign with a holdout: a deterministic share of its sendable recipients gets nothing, and
every paid order in the attribution window counts towards its customer's group, clicked or not."""
from __future__ import annotations

import dataclasses
import json
import os
from datetime import timedelta

import boto3
import pytest

from chalicelib import composition
from chalicelib.domain.campaigns import lift
from chalicelib.domain.loyalty.account import Account
from chalicelib.services.campaigns import campaigns
from chalicelib.services.mail import send_consumer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import Item
from devstack.samples import sample_order_payload
from tests.support.campaigns import NOW, create_campaign
from tests.support.campaigns import planning_clock  # noqa: F401 (the clock fixture)
from tests.support.mail import RecordingMessenger
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN
from tests.support.webhooks import deliver_shopify

# Every campaign here is planned on the clock at PLANNED, before it is due.
pytestmark = pytest.mark.usefixtures("clock")


def _seed(deps, shop_id: str, customers: int, consenting=lambda n: True) -> list[str]:
    """Customers c0@… c{n-1}@… under the ids the shop's webhooks give them; returns the ids in order."""
    shop = load_shop(deps, shop_id)
    ids = [shop.customer_id_for(f"c{n}@example.com") for n in range(customers)]
    with Item.batch_write() as batch:
        for n, customer_id in enumerate(ids):
            batch.save(stored_profile(shop_id, Account(
                shop_id, customer_id, created_at=NOW - timedelta(days=100), email=f"c{n}@example.com",
                marketing_consent=consenting(n), tier_name="Gold")))
    return ids


def _send_everything(deps, client, shop_id: str, **settings) -> dict:
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    status, campaign = create_campaign(client, shop_id, **settings)
    assert status == 201, campaign
    campaigns.run_due_campaigns(deps, NOW)
    composition.use_clock(lambda: NOW)
    # To a recording messenger: who is held out and what is counted is the subject, not SES (the
    # send path's own tests cover SES and its rate pacing, most of this helper's time before).
    sending = dataclasses.replace(deps, messenger=RecordingMessenger())
    for message in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]):
        send_consumer.deliver(sending, json.dumps(message))
    return campaign


def _stats(client, shop_id, campaign_id) -> dict:
    response = client.http.get(f"/admin/shops/{shop_id}/campaigns/{campaign_id}/stats", headers=ADMIN)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _order(deps, shop, order_id: str, customer_n: int, at):
    composition.use_clock(lambda: at)
    return deliver_shopify(deps, shop.shop_id, shop.secret, sample_order_payload(
        "shopify", order_id=order_id, email=f"c{customer_n}@example.com", created_at=at), "orders/paid")


def test_holdout_recipients_get_nothing_and_their_orders_count_as_the_baseline(deps, client, shopify_shop):
    customers = _seed(deps, shopify_shop.shop_id, 200, consenting=lambda n: n % 10 != 9)
    campaign = _send_everything(deps, client, shopify_shop.shop_id, holdout_percent=20)
    assert campaign["holdout_percent"] == 20
    sendable = [c for n, c in enumerate(customers) if n % 10 != 9]
    expected_holdout = {c for c in sendable if lift.assign_group(campaign["campaign_id"], c, 20) == lift.HOLDOUT}
    stats = _stats(client, shopify_shop.shop_id, campaign["campaign_id"])
    assert stats["groups"]["holdout"]["recipients"] == len(expected_holdout) > 0
    assert stats["groups"]["sent"]["recipients"] == len(sendable) - len(expected_holdout)
    assert stats["sent"] == len(sendable) - len(expected_holdout)  # the holdout got no e-mail
    assert stats["skipped"] == {"holdout": len(expected_holdout), "no_consent": 20}  # no consent: in neither group

    holdout_n = [n for n, c in enumerate(customers) if c in expected_holdout]
    sent_n = [n for n, c in enumerate(customers) if c in sendable and c not in expected_holdout]
    day = NOW + timedelta(days=1)
    _order(deps, shopify_shop, "h-1", holdout_n[0], day)
    _order(deps, shopify_shop, "s-1", sent_n[0], day)
    _order(deps, shopify_shop, "s-2", sent_n[0], day + timedelta(hours=2))  # a second order: no new converter
    _order(deps, shopify_shop, "s-3", sent_n[1], day)
    _order(deps, shopify_shop, "s-3", sent_n[1], day)  # the same webhook again: counted once
    attribution_days = load_shop(deps, shopify_shop.shop_id).attribution_days
    _order(deps, shopify_shop, "late", sent_n[2], NOW + timedelta(days=attribution_days, hours=1))
    _order(deps, shopify_shop, "x-1", 9, day)  # no consent: in no group

    stats = _stats(client, shopify_shop.shop_id, campaign["campaign_id"])
    sent, holdout = stats["groups"]["sent"], stats["groups"]["holdout"]
    assert (sent["converters"], sent["orders"]) == (2, 3)
    assert (holdout["converters"], holdout["orders"]) == (1, 1)
    assert sent["revenue_minor"] == 3 * holdout["revenue_minor"] > 0  # the sample orders are all alike
    # 40 recipients and one converter in the holdout: no confident number.
    for metric in ("conversion_rate", "revenue_per_recipient", "orders_per_recipient"):
        assert stats["lift"][metric]["estimate"] is None and "not enough data" in stats["lift"][metric]["note"]
    assert "sent_converters" not in stats  # the groups' counters are read through `groups` only


def test_a_later_campaigns_assignment_takes_over(deps, client, shopify_shop):
    # 24 customers (120 before): the claim is about one customer's group and order, which any
    # list holding customer 3 shows; each customer more was two e-mails more to send.
    customers = _seed(deps, shopify_shop.shop_id, 24)
    first = _send_everything(deps, client, shopify_shop.shop_id, holdout_percent=50)
    second = _send_everything(deps, client, shopify_shop.shop_id, holdout_percent=50, name="Second",
                              send_at="2026-12-01T10:00:00")
    customer = deps.repos.campaign_groups(shopify_shop.shop_id).get(customers[3])
    assert customer.campaign_id in (first["campaign_id"], second["campaign_id"])
    group = lift.assign_group(customer.campaign_id, customers[3], 50)
    assert customer.group == group
    _order(deps, shopify_shop, "o-1", 3, NOW + timedelta(hours=5))
    counted = [_stats(client, shopify_shop.shop_id, c["campaign_id"])["groups"][group]["orders"]
               for c in (first, second)]
    assert sorted(counted) == [0, 1]  # one campaign's lift, not both


def test_holdout_share_is_validated(client, shopify_shop):
    for bad in (-1, 51, "ten", 12.5):
        status, error = create_campaign(client, shopify_shop.shop_id, holdout_percent=bad)
        assert status == 400 and error["field"] == "holdout_percent", (bad, error)


def test_suppressed_addresses_are_in_neither_group(deps, client, shopify_shop):
    # A hard-bounced or complaining address never gets the e-mail: in the sent group it is skipped
    # "suppressed" and belongs to no group, so in the holdout it must not count as a recipient either
    # (it did: the holdout kept the dead addresses the sent group had shed, and its baseline with them).
    from chalicelib.store.mail.mail_store import MailStore

    customers = _seed(deps, shopify_shop.shop_id, 40)
    for n in range(10):
        MailStore(shopify_shop.shop_id).suppress(f"c{n}@example.com", "hard_bounce", "General", NOW)
    campaign = _send_everything(deps, client, shopify_shop.shop_id, holdout_percent=50)
    mailable = customers[10:]
    held = {c for c in mailable if lift.assign_group(campaign["campaign_id"], c, 50) == lift.HOLDOUT}
    stats = _stats(client, shopify_shop.shop_id, campaign["campaign_id"])
    assert stats["skipped"] == {"holdout": len(held), "suppressed": 10}
    assert stats["groups"]["holdout"]["recipients"] == len(held) > 0
    assert stats["groups"]["sent"]["recipients"] == len(mailable) - len(held) > 0
    suppressed_held = [n for n in range(10) if lift.assign_group(campaign["campaign_id"], customers[n], 50) == lift.HOLDOUT]
    assert suppressed_held  # the draw put some of them in the holdout: the case this is about
    _order(deps, shopify_shop, "dead-address", suppressed_held[0], NOW + timedelta(days=1))
    assert _stats(client, shopify_shop.shop_id, campaign["campaign_id"])["groups"]["holdout"]["orders"] == 0


def test_a_holdout_waits_with_the_mail_held_for_an_unverified_sender(deps, client, shopify_shop, monkeypatch):
    # A campaign planned before the shop's sending domain is verified: its e-mails are held until SES
    # verifies it, days later maybe. The holdout must be drawn then too; drawn at once (as it was),
    # its attribution window ran while the sent group's had not begun.
    from chalicelib.services.mail import mailer
    from chalicelib.services.shops import sender_domains

    customers = _seed(deps, shopify_shop.shop_id, 12)
    status, campaign = create_campaign(client, shopify_shop.shop_id, holdout_percent=50)
    assert status == 201, campaign
    campaigns.run_due_campaigns(deps, NOW)
    groups = {c: lift.assign_group(campaign["campaign_id"], c, 50) for c in customers}
    assert set(groups.values()) == {lift.SENT, lift.HOLDOUT}
    composition.use_clock(lambda: NOW)
    with monkeypatch.context() as unverified:  # SES has not verified the shop's domain yet
        unverified.setattr(mailer, "_default_sender_gate", lambda deps, shop, now: "sender_unverified")
        held = [send_consumer.deliver(dataclasses.replace(deps, messenger=RecordingMessenger()), json.dumps(message))
                for message in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])]
    for outcome in held:
        assert (outcome["status"], outcome["reason"]) == ("held", "sender_unverified"), outcome
    for customer in customers:
        assert deps.repos.campaign_groups(shopify_shop.shop_id).get(customer) is None

    verified_at = NOW + timedelta(days=2)
    assert sender_domains.release_held(deps, shopify_shop.shop_id, now=verified_at)["released"] == len(customers)
    composition.use_clock(lambda: verified_at)
    sending = dataclasses.replace(deps, messenger=RecordingMessenger())
    for message in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]):
        send_consumer.deliver(sending, json.dumps(message))
    for customer, group in groups.items():
        assigned = deps.repos.campaign_groups(shopify_shop.shop_id).get(customer)
        assert (assigned.group, assigned.assigned_at) == (group, verified_at)
    stats = _stats(client, shopify_shop.shop_id, campaign["campaign_id"])
    assert stats["groups"]["holdout"]["recipients"] + stats["groups"]["sent"]["recipients"] == len(customers)
    assert stats["held_total"] == 0
