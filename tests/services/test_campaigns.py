"""Campaigns: planned through the API, fanned out from a saved position, each recipient once."""
from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, timedelta, timezone

from chalicelib import composition
import pytest
from chalicelib.domain.loyalty.account import Account
from chalicelib.services.campaigns import campaigns
from chalicelib.store.models import Item
from chalicelib.store.loyalty.repository import LoyaltyRepository
from tests.support.shops import ADMIN
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue
from tests.support.campaigns import NOW, OFFER_WINDOW, SPECIAL_DAY, check_code, create_campaign
from tests.support.campaigns import planning_clock  # noqa: F401 (the clock fixture)

# Every campaign here is planned on the clock at PLANNED, before it is due.
pytestmark = pytest.mark.usefixtures("clock")


def _seed(shop_id: str, customers: int) -> set[str]:
    """Customers, every third one Gold; returns the Gold ones' ids."""
    LoyaltyRepository(shop_id)
    gold = set()
    with Item.batch_write() as batch:
        for n in range(customers):
            tier = "Gold" if n % 3 == 0 else "Silver"
            account = Account(shop_id, f"c_{n:05d}", created_at=NOW - timedelta(days=100), email=f"c{n}@example.com",
                              marketing_consent=True, tier_name=tier, lifetime_spend_minor=600000)
            if tier == "Gold":
                gold.add(account.customer_id)
            batch.save(stored_profile(shop_id, account))
    return gold


def test_campaign_goes_to_its_segment_once_at_its_time(deps, client, shopify_shop):
    gold = _seed(shopify_shop.shop_id, 90)
    status, campaign = create_campaign(client, shopify_shop.shop_id)
    assert status == 201 and campaign["status"] == "scheduled"
    assert campaign["send_at"] == "2026-12-01T08:00:00.000000Z"

    assert campaigns.run_due_campaigns(deps, NOW - timedelta(minutes=1)) == {}
    report = campaigns.run_due_campaigns(deps, NOW)
    assert list(report.values()) == [{"status": "done", "queued": 30}]
    messages = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert {m["customer_id"] for m in messages} == gold and len(messages) == 30
    assert {m["idempotency_key"] for m in messages} == {f"campaign:{campaign['campaign_id']}:{c}" for c in gold}
    assert all(m["category"] == "marketing" and m["data"] == SPECIAL_DAY for m in messages)
    assert campaigns.run_due_campaigns(deps, NOW + timedelta(minutes=1)) == {}  # done campaigns are not due


def test_a_sender_that_dies_is_resumed_from_the_last_full_page(deps, client, shopify_shop, monkeypatch):
    gold = _seed(shopify_shop.shop_id, 120)
    monkeypatch.setattr(campaigns, "PAGE_SIZE", 7)
    _, campaign = create_campaign(client, shopify_shop.shop_id)

    pages = []

    def die_after_two_pages(state):
        pages.append(state.queued)
        if len(pages) == 2:
            raise RuntimeError("the Lambda ran out of time")

    with pytest.raises(RuntimeError):
        campaigns.run_due_campaigns(deps, NOW, on_page=die_after_two_pages)
    assert campaigns.run_due_campaigns(deps, NOW + timedelta(minutes=1)) == {}  # its lease still holds
    report = campaigns.run_due_campaigns(deps, NOW + timedelta(minutes=6))
    assert list(report.values())[0]["status"] == "done"

    keys = Counter(m["idempotency_key"] for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]))
    assert {k.rsplit(":", 1)[1] for k in keys} == gold  # everyone, and from a saved position:
    assert sum(keys.values()) <= len(gold) + 7  # at most the page in flight is queued again


def test_pause_stops_at_the_next_page_and_resume_continues(deps, client, shopify_shop, monkeypatch):
    gold = _seed(shopify_shop.shop_id, 120)
    monkeypatch.setattr(campaigns, "PAGE_SIZE", 7)
    _, campaign = create_campaign(client, shopify_shop.shop_id)
    path = f"/admin/shops/{shopify_shop.shop_id}/campaigns/{campaign['campaign_id']}"

    def pause_after_first_page(state):
        if state.pages == 1:
            assert client.http.post(f"{path}/pause", headers=ADMIN).status_code == 200

    campaigns.run_due_campaigns(deps, NOW, on_page=pause_after_first_page)
    paused = json.loads(client.http.get(path, headers=ADMIN).body)
    assert paused["status"] == "paused" and 0 < paused["queued"] < len(gold)
    assert campaigns.run_due_campaigns(deps, NOW + timedelta(minutes=10)) == {}

    # The marketer resumes at NOW + 10 min (the API reads the clock): due again from then.
    composition.use_clock(lambda: NOW + timedelta(minutes=10))
    assert json.loads(client.http.post(f"{path}/resume", headers=ADMIN).body)["status"] == "scheduled"
    campaigns.run_due_campaigns(deps, NOW + timedelta(minutes=11))
    done = json.loads(client.http.get(path, headers=ADMIN).body)
    assert done["status"] == "done"
    customers = Counter(m["customer_id"] for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]))
    assert set(customers) == gold and max(customers.values()) <= 2  # a re-queued page is deduplicated by the sender
    assert client.http.post(f"{path}/resume", headers=ADMIN).status_code == 409


def test_a_done_campaign_paused_and_resumed_is_done_again_and_mails_nobody_new(deps, client, shopify_shop):
    gold = _seed(shopify_shop.shop_id, 9)
    _, campaign = create_campaign(client, shopify_shop.shop_id)
    path = f"/admin/shops/{shopify_shop.shop_id}/campaigns/{campaign['campaign_id']}"
    campaigns.run_due_campaigns(deps, NOW)
    assert {m["customer_id"] for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])} == gold
    # Paused after it was done (to hold its mail still queued), then resumed: Gold customers who
    # joined the segment meanwhile are no recipients of a campaign that had finished.
    composition.use_clock(lambda: NOW + timedelta(hours=1))
    assert json.loads(client.http.post(f"{path}/pause", headers=ADMIN).body)["status"] == "paused"
    with Item.batch_write() as batch:  # enough of them for some to fall after the saved position
        for n in range(30):
            batch.save(stored_profile(shopify_shop.shop_id, Account(
                shopify_shop.shop_id, f"late_{n:02d}", created_at=NOW, email=f"late{n}@example.com",
                marketing_consent=True, tier_name="Gold")))
    resumed = json.loads(client.http.post(f"{path}/resume", headers=ADMIN).body)
    assert resumed["status"] == "done" and resumed["queued"] == len(gold)
    assert campaigns.run_due_campaigns(deps, NOW + timedelta(hours=1, minutes=1)) == {}
    assert drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) == []
    assert campaigns.campaign_gate(deps, shopify_shop.shop_id, campaign["campaign_id"]) == "send"


def test_cancelled_campaign_sends_nothing(deps, client, shopify_shop):
    _seed(shopify_shop.shop_id, 9)
    _, campaign = create_campaign(client, shopify_shop.shop_id)
    path = f"/admin/shops/{shopify_shop.shop_id}/campaigns/{campaign['campaign_id']}"
    assert json.loads(client.http.post(f"{path}/cancel", headers=ADMIN).body)["status"] == "cancelled"
    assert campaigns.run_due_campaigns(deps, NOW) == {}
    assert drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) == []
    listed = json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/campaigns", headers=ADMIN).body)
    assert [c["status"] for c in listed["campaigns"]] == ["cancelled"]


@pytest.mark.parametrize("change, field", [
    ({"template": "post_purchase"}, "template"),
    ({"segment": {"rules": {"field": "tier", "op": "<<", "value": "Gold"}}}, "segment.rules.op"),
    ({"data": {"title": "No dates"}}, "data"),
    ({"send_at": "next tuesday"}, "send_at"),
    ({"name": ""}, "name"),
])
def test_invalid_campaigns_are_refused_naming_the_field(client, shopify_shop, change, field):
    status, error = create_campaign(client, shopify_shop.shop_id, **change)
    assert status == 400 and error["field"] == field, error


def test_outcomes_are_counted_by_reason_and_a_paused_campaigns_mail_waits(deps, client, shopify_shop):
    import boto3

    from chalicelib.mail.messenger import TransientSendError
    from chalicelib.services.mail import send_consumer

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    LoyaltyRepository(shopify_shop.shop_id)
    with Item.batch_write() as batch:
        for n, consent in enumerate([True, True, False]):
            batch.save(stored_profile(shopify_shop.shop_id, Account(
                shopify_shop.shop_id, f"c_{n}", created_at=NOW, email=f"c{n}@example.com",
                marketing_consent=consent, tier_name="Gold")))
    _, campaign = create_campaign(client, shopify_shop.shop_id)
    path = f"/admin/shops/{shopify_shop.shop_id}/campaigns/{campaign['campaign_id']}"
    campaigns.run_due_campaigns(deps, NOW)
    first, *rest = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])

    assert client.http.post(f"{path}/pause", headers=ADMIN).status_code == 200
    deps.caches.campaign_gates.clear()  # other workers see the pause within CAMPAIGN_GATE_SECONDS
    with pytest.raises(TransientSendError):
        send_consumer.deliver(deps, json.dumps(first))
    assert client.http.post(f"{path}/resume", headers=ADMIN).status_code == 200
    deps.caches.campaign_gates.clear()
    for message in [first, *rest, first]:  # the last one: a redelivery
        send_consumer.deliver(deps, json.dumps(message))
    results = json.loads(client.http.get(path, headers=ADMIN).body)["results"]
    assert results == {"sent": 2, "skipped_no_consent": 1}


def test_too_many_failures_stop_the_campaign(deps, client, shopify_shop, monkeypatch):
    from chalicelib.store.campaigns.results import campaign_results

    _seed(shopify_shop.shop_id, 60)
    monkeypatch.setattr(campaigns, "PAGE_SIZE", 5)
    _, campaign = create_campaign(client, shopify_shop.shop_id)
    stats = campaign_results(shopify_shop.shop_id, campaign["campaign_id"])
    for n in range(25):  # the sender has been failing (e.g. the template's data went stale)
        stats.add("failed", f"c{n}")
    report = campaigns.run_due_campaigns(deps, NOW)
    assert list(report.values())[0]["status"] == "stopped"
    path = f"/admin/shops/{shopify_shop.shop_id}/campaigns/{campaign['campaign_id']}"
    assert json.loads(client.http.get(path, headers=ADMIN).body)["status"] == "stopped"
    deps.caches.campaign_gates.clear()
    from chalicelib.services.mail import send_consumer

    dropped = send_consumer.deliver(deps, json.dumps(drain_queue(os.environ["LOYALTY_SEND_QUEUE"])[0]))
    assert dropped["status"] == "dropped"


def test_the_sender_queues_no_further_ahead_than_the_send_rate_allows(deps, client, shopify_shop, monkeypatch):
    gold = _seed(shopify_shop.shop_id, 60)
    monkeypatch.setattr(campaigns, "PAGE_SIZE", 5)
    composition.use(config={"campaign_queue_ahead": 8})
    create_campaign(client, shopify_shop.shop_id)
    first = list(campaigns.run_due_campaigns(deps, NOW).values())[0]
    assert first["status"] == "sending" and 8 < first["queued"] < len(gold)  # held once the queue had > 8
    drained = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    while True:  # the every-minute schedule, with the senders keeping up
        report = campaigns.run_due_campaigns(deps, NOW + timedelta(minutes=1))
        drained += drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
        if list(report.values())[0]["status"] == "done":
            break
    assert {m["customer_id"] for m in drained} == gold and len(drained) == len(gold)


def test_special_day_with_a_code_per_customer_checkable_and_consumed_once(deps, client, shopify_shop, monkeypatch):
    import boto3

    from devstack.samples import sample_order_payload
    from chalicelib.services.mail import mailer
    from tests.support.webhooks import deliver_shopify

    gold = _seed(shopify_shop.shop_id, 30)
    status, campaign = create_campaign(client, shopify_shop.shop_id, offer={
        "codes": "per_customer", "discount_percent": "15", "free_shipping": True, **OFFER_WINDOW})
    assert status == 201, campaign
    campaigns.run_due_campaigns(deps, NOW)
    messages = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    codes = {m["customer_id"]: m["data"]["code"] for m in messages}
    assert set(codes) == gold and len(set(codes.values())) == len(gold)  # one each, all different
    assert all(m["data"]["discount_percent"] == "15" for m in messages)
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    assert mailer.send_message(deps, messages[0], now=NOW)["status"] == "sent"  # the template takes the code

    code = codes["c_00000"]
    composition.use_clock(lambda: NOW)  # the day before the window opens
    status, before = check_code(client, shopify_shop, code)
    assert status == 200 and before["valid"] is False and before["reason"] == "the code is not valid yet"
    composition.use_clock(lambda: datetime(2026, 12, 6, 12, tzinfo=timezone.utc))
    status, during = check_code(client, shopify_shop, code)
    assert during["valid"] is True and during["free_shipping"] is True and during["discount_percent"] == "15"
    assert during["single_use"] is True

    first = deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload(
        "shopify", order_id="d-1", email="c0@example.com", discount_codes=[code.lower()]), "orders/paid")
    second = deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload(
        "shopify", order_id="d-2", email="c0@example.com", discount_codes=[code]), "orders/paid")
    assert first["consumed_codes"] == [code] and second["consumed_codes"] == []
    assert check_code(client, shopify_shop, code)[1]["reason"] == "the code was consumed"
    assert check_code(client, shopify_shop, "DAY-NOPE0-NOPE0-NOPE0")[0] == 404


def test_shared_code_works_for_many_orders_within_its_window(deps, client, shopify_shop, monkeypatch):
    from devstack.samples import sample_order_payload
    from tests.support.webhooks import deliver_shopify

    _seed(shopify_shop.shop_id, 9)
    _, campaign = create_campaign(client, shopify_shop.shop_id, offer={"codes": "shared", "free_shipping": True,
                                                               **OFFER_WINDOW})
    shared = campaign["data"]["code"]
    campaigns.run_due_campaigns(deps, NOW)
    assert {m["data"]["code"] for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"])} == {shared}
    composition.use_clock(lambda: datetime(2026, 12, 6, 12, tzinfo=timezone.utc))
    for n in range(3):
        result = deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload(
            "shopify", order_id=f"s-{n}", email=f"c{n}@example.com", discount_codes=[shared]), "orders/paid")
        assert result["consumed_codes"] == [shared]
    status, check = check_code(client, shopify_shop, shared)
    assert check["valid"] is True and check["uses"] == 3 and check["single_use"] is False
    composition.use_clock(lambda: datetime(2026, 12, 9, 12, tzinfo=timezone.utc))
    assert check_code(client, shopify_shop, shared)[1]["reason"] == "the code has expired"


def test_an_offer_must_give_something_within_a_window(client, shopify_shop):
    status, error = create_campaign(client, shopify_shop.shop_id, offer={"codes": "shared", **OFFER_WINDOW})
    assert status == 400 and error["field"] == "offer"


def test_an_offer_over_before_the_campaign_sends_or_beyond_any_order_is_refused(client, shopify_shop):
    # Sent on 10 December with a code that ended on the 7th: every recipient would get a dead code.
    status, error = create_campaign(client, shopify_shop.shop_id, send_at="2026-12-10T10:00:00",
                                    offer={"codes": "shared", "discount_percent": "10", **OFFER_WINDOW})
    assert status == 400 and error["field"] == "offer.valid_until", error
    status, error = create_campaign(client, shopify_shop.shop_id, send_at="2026-12-07T23:59:00",
                                    offer={"bonus_points": 50, **OFFER_WINDOW})
    assert status == 400 and error["field"] == "offer.valid_until", error
    # A minimum order no order can reach was a 500 (its minor units overflowed Decimal's precision).
    status, error = create_campaign(client, shopify_shop.shop_id, offer={
        "codes": "shared", "discount_percent": "10", "min_order": "1e30", **OFFER_WINDOW})
    assert status == 400 and error["field"] == "offer.min_order", error
    assert json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/campaigns",
                                      headers=ADMIN).body)["campaigns"] == []


@pytest.mark.parametrize("template, data, field", [
    ("birthday", {"bonus_points": 100000}, "data.bonus_points"),  # "100,000 points as a gift", none credited
    ("welcome", {"bonus_points": 100000}, "data.bonus_points"),
    ("points_expiring", {"points": 10 ** 9}, "data.points"),  # everyone's "1,000,000,000 points expire"
    ("points_expiring", {"expires_at": "2026-12-02"}, "data.expires_at"),
    ("winback", {"days_since_last_order": -5}, "data.days_since_last_order"),
    ("tier_at_risk", {"tier": "Gold", "spend_needed_minor": 100, "by": "2026-12-31"}, "template"),
])
def test_a_campaign_cannot_tell_every_recipient_the_same_account_facts(client, shopify_shop, template, data, field):
    status, error = create_campaign(client, shopify_shop.shop_id, template=template, data=data)
    assert status == 400 and error["field"] == field, error


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>"])
def test_a_special_days_button_leads_to_a_web_page(client, shopify_shop, url):
    # The campaign's button took any text as its href: javascript: and data: links were mailed.
    status, error = create_campaign(client, shopify_shop.shop_id, data={**SPECIAL_DAY, "url": url})
    assert status == 400 and error["field"] == "data" and "'url' must be an http(s) link" in error["message"], error
    status, campaign = create_campaign(client, shopify_shop.shop_id,
                                       data={**SPECIAL_DAY, "url": "https://shop.example/winter"})
    assert status == 201, campaign


def test_a_birthday_campaign_gives_what_its_offer_gives(client, shopify_shop):
    status, campaign = create_campaign(client, shopify_shop.shop_id, template="birthday", data={},
                                       offer={"codes": "per_customer", "discount_percent": "15", **OFFER_WINDOW})
    assert status == 201, campaign
    assert campaign["data"]["discount_percent"] == "15" and "bonus_points" not in campaign["data"]


def test_template_data_cannot_promise_what_the_offer_does_not_give(client, shopify_shop):
    # Free shipping stated in data with no code that gives it: refused, naming the field.
    status, error = create_campaign(client, shopify_shop.shop_id, data={**SPECIAL_DAY, "free_shipping": True})
    assert status == 400 and error["field"] == "data.free_shipping" and "offer.free_shipping" in error["message"]
    status, error = create_campaign(client, shopify_shop.shop_id, data={**SPECIAL_DAY, "discount_percent": "30"},
                            offer={"codes": "shared", "discount_percent": "10", **OFFER_WINDOW})
    assert status == 400 and error["field"] == "data.discount_percent"
    # Special days that differ from the offer's window would announce days the code does not work.
    status, error = create_campaign(client, shopify_shop.shop_id, data={**SPECIAL_DAY, "ends_at": "2026-12-09T23:59:00+02:00"},
                            offer={"codes": "shared", "free_shipping": True, **OFFER_WINDOW})
    assert status == 400 and error["field"] == "data.ends_at"



PER_LOCALE = {"title": {"uk": "Зимові дні", "de": "Wintertage", "en": "Winter days"},
              "subject": {"uk": "Зимові дні в магазині", "de": "Wintertage im Laden"},
              "preheader": {"uk": "Три дні безкоштовної доставки", "de": "Drei Tage versandkostenfrei"}}


def _preview(client, shop_id, **overrides):
    document = {"name": "Winter", "template": "special_day",
                "segment": {"rules": {"field": "tier", "op": "=", "value": "Gold"}},
                "send_at": "2026-12-01T10:00:00", "data": PER_LOCALE,
                "offer": {"codes": "shared", "free_shipping": True, **OFFER_WINDOW}}
    document.update(overrides)
    response = client.http.post(f"/admin/shops/{shop_id}/campaigns/preview", headers=ADMIN,
                                body=json.dumps(document).encode())
    return response.status_code, json.loads(response.body)


def test_campaign_copy_per_locale_falls_back_to_the_shops_default_locale(client, shopify_shop):
    status, preview = _preview(client, shopify_shop.shop_id)
    assert status == 200, preview
    assert set(preview["locales"]) == {"en", "de", "ru", "uk"} and preview["default_locale"] == "uk"
    de, ru, en = preview["locales"]["de"], preview["locales"]["ru"], preview["locales"]["en"]
    assert de["subject"] == "Wintertage im Laden" and de["preheader"] == "Drei Tage versandkostenfrei"
    assert "Wintertage" in de["text"] and "Winter days" not in de["text"] and "Зимові" not in de["html"]
    assert "Kostenloser Versand" in de["html"] and "Kostenloser Versand" in de["text"]
    # Russian copy was not given: the shop's default locale (Ukrainian) stands in, never English.
    assert ru["subject"] == "Зимові дні в магазині" and "Зимові дні" in ru["text"]
    assert "Winter days" in en["text"] and en["subject"] == "Зимові дні в магазині"
    assert all("DAY-SAMPLE" in page["text"] for page in preview["locales"].values())
    # the campaign is created with the same data: nothing to ask twice
    status, campaign = create_campaign(client, shopify_shop.shop_id, data=PER_LOCALE,
                               offer={"codes": "shared", "free_shipping": True, **OFFER_WINDOW})
    assert status == 201 and campaign["data"]["title"] == PER_LOCALE["title"]


@pytest.mark.parametrize("title, field", [
    ({"de": "Wintertage"}, "data.title"),                      # no text in the shop's default locale (uk)
    ({"uk": "Зимові дні", "fr": "Jours d'hiver"}, "data.title.fr"),
    ({"uk": ""}, "data.title.uk"),
    ({"uk": "x" * 201}, "data.title.uk"),
])
def test_per_locale_copy_is_checked_field_by_field(client, shopify_shop, title, field):
    status, error = _preview(client, shopify_shop.shop_id, data={**PER_LOCALE, "title": title})
    assert status == 400 and error["field"] == field, error
    status, error = create_campaign(client, shopify_shop.shop_id, data={**PER_LOCALE, "title": title},
                            offer={"codes": "shared", "free_shipping": True, **OFFER_WINDOW})
    assert status == 400 and error["field"] == field, error
