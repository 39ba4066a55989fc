"""An individual offer e-mailed to its customers (services/campaigns/offer_mail.py), on the in-memory
store: once per customer and offer whatever is retried, with the offer's own terms in the customer's
language and a signed link applying their code; marketing consent applies; scheduled sends wait."""
from __future__ import annotations

import email
import json
import os
from datetime import timedelta
from email import policy

import boto3
import pytest

from chalicelib.services.campaigns import offer_mail
from chalicelib.services.campaigns.due_sends import run_due_sends
from chalicelib.services.mail import mailer
from chalicelib.services.shops.lookup import load_shop
from devstack.samples import sample_order_payload
from tests.support.mail import RecordingMessenger
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, register_shop
from tests.support.webhooks import run_together

OLENA, JANE, NO_CONSENT = "olena.koval+shop@example.com", "jane.doe@example.com", "no.news@example.com"
OFFER = {"name": "Тиждень навушників", "product_skus": ["JBL-T520BT-BLU", "CASE-IP15-BLK"],
         "product_titles": {"JBL-T520BT-BLU": "Навушники JBL Tune 520BT, сині"},
         "discount_percent": "15", "min_order": "500", "valid_days": 10,
         "segment": {"rules": {"all": [{"field": "orders_count", "op": ">=", "value": 1}]}}}


@pytest.fixture
def shop(memory_client, fake_deps):
    shop = register_shop(memory_client, "offer-shop", "shopify")
    for number, (address, locale, consent) in enumerate(((OLENA, "uk", True), (JANE, "en", True),
                                                         (NO_CONSENT, "en", False)), start=1):
        payload = sample_order_payload("shopify", order_id=f"810{number}", email=address, locale=locale,
                                       marketing_consent=consent, created_at=fake_deps.clock.now)
        assert shop.deliver(payload, topic="orders/paid").status_code == 200
    drain_queue(os.environ["LOYALTY_SEND_QUEUE"])  # the thank-you mails
    return shop


def api(client, method: str, path: str, body=None):
    response = client.http.request(method, path, headers={**ADMIN, "Content-Type": "application/json"},
                                   body=json.dumps(body).encode() if body is not None else b"")
    return response.status_code, json.loads(response.body or b"null")


def offer_mail_queued() -> list[dict]:
    return [m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) if m["template"] == "personal_offer"]


def sent_text(deps, message: dict) -> tuple[str, dict]:
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    messenger = RecordingMessenger()
    result = mailer.send_message(deps, message, messenger=messenger)
    if result["status"] != "sent":
        return "", result
    parsed = email.message_from_bytes(messenger.sent[0]["raw"], policy=policy.default)
    return str(parsed["Subject"]) + "\n" + parsed.get_body(("plain",)).get_content(), result


def test_each_customer_gets_the_offer_once_with_its_terms_and_a_signed_link_to_redeem_it(
        memory_client, fake_deps, shop):
    status, offer = api(memory_client, "POST", f"/admin/shops/{shop.shop_id}/offers", OFFER)
    assert status == 201 and offer["customers"] == 3, offer
    codes = {c["email"]: c["code"] for c in offer["codes"]}
    path = f"/admin/shops/{shop.shop_id}/offers/{offer['offer_id']}"
    assert api(memory_client, "GET", path)[1]["mailing"] == {"status": "not_sent", "queued": 0}

    status, sent = api(memory_client, "POST", path + "/sends", {})
    assert status == 202 and sent["mailing"]["status"] == "sent" and sent["mailing"]["queued"] == 3, sent
    messages = offer_mail_queued()
    assert sorted(m["data"]["code"] for m in messages) == sorted(codes.values())
    assert api(memory_client, "POST", path + "/sends", {})[0] == 409  # each customer gets it once
    assert offer_mail_queued() == []

    by_customer = {m["customer_id"]: m for m in messages}
    loaded = load_shop(fake_deps, shop.shop_id)
    text, _ = sent_text(fake_deps, by_customer[loaded.customer_id_for(OLENA)])
    assert "Тиждень навушників: знижка 15% лише для вас" in text
    assert "Навушники JBL Tune 520BT, сині" in text and "CASE-IP15-BLK" in text  # a SKU without a title: as is
    assert codes[OLENA] in text and "500,00" in text  # the minimum order
    expires = (fake_deps.clock.now + timedelta(days=10)).date()
    assert f"{expires.day}" in text and "/r/" in text  # valid until, and the signed (tracked) link
    english, _ = sent_text(fake_deps, by_customer[loaded.customer_id_for(JANE)])
    assert "We picked this offer for you." in english and "15% off" in english and codes[JANE] in english
    _, refused = sent_text(fake_deps, by_customer[loaded.customer_id_for(NO_CONSENT)])
    assert refused["status"] == "skipped"  # marketing: no consent, no e-mail


def test_racing_senders_and_a_crash_half_way_queue_each_customer_once(memory_client, fake_deps, shop, monkeypatch):
    status, offer = api(memory_client, "POST", f"/admin/shops/{shop.shop_id}/offers", OFFER)
    loaded = load_shop(fake_deps, shop.shop_id)
    monkeypatch.setattr(offer_mail, "CHUNK", 1)  # one e-mail per transaction: a crash can fall between them

    calls = {"n": 0}
    real_publish = offer_mail.outbox.publish

    def dies_after_the_first_commit(deps, messages):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("the Lambda was stopped")
        real_publish(deps, messages)

    monkeypatch.setattr(offer_mail.outbox, "publish", dies_after_the_first_commit)
    with pytest.raises(KeyboardInterrupt):
        offer_mail.queue_offer_mail(fake_deps, loaded, offer["offer_id"], fake_deps.clock.now)
    monkeypatch.setattr(offer_mail.outbox, "publish", real_publish)
    record = fake_deps.repos.offer_records(shop.shop_id).load(offer["offer_id"])
    assert record.mailing["status"] == "sending" and record.mailing["queued"] == 2  # the second committed, unpublished

    # The schedule resumes a half-queued offer; racing senders with it queue only what is left.
    results = run_together([lambda: offer_mail.queue_offer_mail(fake_deps, loaded, offer["offer_id"],
                                                                fake_deps.clock.now)] * 3)
    assert sum(results) == 1
    assert run_due_sends(fake_deps).get("offers") is None  # sent: no longer due
    queued = offer_mail_queued()
    keys = [m["idempotency_key"] for m in queued]
    assert len(keys) == len(set(keys)) == 2  # the first and third; the second waits in the outbox for the sweeper
    assert fake_deps.repos.offer_records(shop.shop_id).load(offer["offer_id"]).mailing["status"] == "sent"


def test_a_scheduled_offer_is_sent_by_the_schedule_when_due(memory_client, fake_deps, shop):
    status, offer = api(memory_client, "POST", f"/admin/shops/{shop.shop_id}/offers",
                        {**OFFER, "segment": None, "email": JANE})
    path = f"/admin/shops/{shop.shop_id}/offers/{offer['offer_id']}/sends"
    send_at = (fake_deps.clock.now + timedelta(hours=3)).isoformat()
    status, scheduled = api(memory_client, "POST", path, {"send_at": send_at})
    assert status == 202 and scheduled["mailing"]["status"] == "scheduled", scheduled
    assert run_due_sends(fake_deps).get("offers") is None and offer_mail_queued() == []
    fake_deps.clock.advance(hours=3)
    assert run_due_sends(fake_deps)["offers"] == {f"{shop.shop_id}/{offer['offer_id']}": 1}
    assert run_due_sends(fake_deps).get("offers") is None
    (message,) = offer_mail_queued()
    assert message["data"]["code"] == offer["codes"][0]["code"]


def test_an_offer_scheduled_for_later_can_be_sent_now_instead(memory_client, fake_deps, shop):
    _, offer = api(memory_client, "POST", f"/admin/shops/{shop.shop_id}/offers", {**OFFER, "segment": None, "email": JANE})
    path = f"/admin/shops/{shop.shop_id}/offers/{offer['offer_id']}/sends"
    api(memory_client, "POST", path, {"send_at": (fake_deps.clock.now + timedelta(days=2)).isoformat()})
    status, sent = api(memory_client, "POST", path, {})
    assert status == 202 and sent["mailing"]["status"] == "sent", sent
    assert len(offer_mail_queued()) == 1
    fake_deps.clock.advance(days=2)
    assert run_due_sends(fake_deps).get("offers") is None and offer_mail_queued() == []


def test_an_offer_send_at_already_past_is_refused_not_sent_at_once(memory_client, fake_deps, shop):
    # A moment already past sent every e-mail at once, as if "now" had been asked (an empty body says that).
    _, offer = api(memory_client, "POST", f"/admin/shops/{shop.shop_id}/offers", {**OFFER, "segment": None, "email": JANE})
    path = f"/admin/shops/{shop.shop_id}/offers/{offer['offer_id']}/sends"
    status, error = api(memory_client, "POST", path, {"send_at": (fake_deps.clock.now - timedelta(days=1)).isoformat()})
    assert status == 400 and error["field"] == "send_at" and "has already passed" in error["message"], error
    assert offer_mail_queued() == []
    status, sent = api(memory_client, "POST", path, {"send_at": (fake_deps.clock.now - timedelta(seconds=30)).isoformat()})
    assert status == 202 and sent["mailing"]["status"] == "sent"  # a form submitted at "now": a minute's grace


@pytest.mark.parametrize("body, status, field", [
    ({"send_at": "tomorrow"}, 400, "send_at"),
    ({"send_at": "2031-03-14T10:00:00"}, 400, "send_at"),
    ({"when": "now"}, 400, "when"),
])
def test_a_hostile_send_request_is_refused_with_the_field(memory_client, shop, body, status, field):
    _, offer = api(memory_client, "POST", f"/admin/shops/{shop.shop_id}/offers", {**OFFER, "segment": None, "email": JANE})
    answer_status, answer = api(memory_client, "POST",
                                f"/admin/shops/{shop.shop_id}/offers/{offer['offer_id']}/sends", body)
    assert answer_status == status and field in json.dumps(answer), answer
    assert api(memory_client, "POST", f"/admin/shops/{shop.shop_id}/offers/of_000000000000/sends", {})[0] == 404
    assert api(memory_client, "POST", "/admin/shops/other-shop/offers/" + offer["offer_id"] + "/sends", {})[0] == 404
