"""Tracked links end to end: sent, clicked, landed, claimed, attributed, counted (issue 5)."""
from __future__ import annotations

import json
import os
import re
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import boto3
from chalicelib import composition
import pytest

from chalicelib.domain.loyalty.account import Account
from chalicelib.mail import tokens
from devstack.samples import sample_order_payload
from chalicelib.services.campaigns import campaigns
from devstack.sent_mail import sent_mail
from tests.support.shops import ADMIN, register_shop
from tests.support.campaigns import NOW, OFFER_WINDOW, PLANNED, check_code, create_campaign
from tests.support.webhooks import deliver_shopify
from tests.support.profiles import stored_profile
from tests.support.queues import drain_queue

DURING = datetime(2026, 12, 6, 12, tzinfo=timezone.utc)  # inside OFFER_WINDOW
_LINK = re.compile(r'href="(https?://[^"]+/r/[^"]+)"')


@pytest.fixture
def clock(monkeypatch):
    moment = [DURING]
    composition.use_clock(lambda: moment[0])
    return moment


def _planned(client, shop_id: str, **fields):
    """A campaign planned the day before it is due (a send_at already past is refused), the test's
    clock back where it was afterwards."""
    current = composition.dependencies().clock
    composition.use_clock(lambda: PLANNED)
    try:
        return create_campaign(client, shop_id, **fields)
    finally:
        composition.use_clock(current)


def _customer(deps, shop_id: str, n: int, **overrides) -> Account:
    from chalicelib.store.models import Item

    values = dict(created_at=NOW - timedelta(days=100), email=f"c{n}@example.com", marketing_consent=True,
                  tier_name="Gold", lifetime_spend_minor=600000, locale="uk", first_name="Olena")
    values.update(overrides)
    from chalicelib.services.shops.lookup import load_shop

    account = Account(shop_id, load_shop(deps, shop_id).customer_id_for(values["email"]), **values)
    with Item.batch_write() as batch:
        batch.save(stored_profile(shop_id, account))
    return account


def _send(deps, message: dict, endpoint: str):
    """Through the send queue's handler, as on Lambda (it also counts the outcome)."""
    from chalicelib.services.mail import send_consumer

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    before = len(sent_mail(endpoint))
    assert send_consumer.deliver(deps, json.dumps(message))["status"] == "sent"
    (mail,) = sent_mail(endpoint)[before:]
    return mail


def _campaign_mail(deps, client, shop, endpoint, **offer):
    _customer(deps, shop.shop_id, 0)
    status, campaign = _planned(client, shop.shop_id, offer={**offer, **OFFER_WINDOW})
    assert status == 201, campaign
    campaigns.run_due_campaigns(deps, NOW)
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    return campaign, message, _send(deps, message, endpoint)


def _stats(client, shop, campaign_id):
    response = client.http.get(f"/admin/shops/{shop.shop_id}/campaigns/{campaign_id}/stats", headers=ADMIN)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _path(url: str) -> str:
    return urlsplit(url).path


def test_special_day_mail_link_lands_with_the_code_and_the_order_is_counted(deps, client, shopify_shop, moto_endpoint,
                                                                              clock):
    campaign, message, mail = _campaign_mail(deps, client, shopify_shop, moto_endpoint, codes="per_customer",
                                             discount_percent="10", free_shipping=True)
    code = message["data"]["code"]
    html, text = mail.part("text/html"), mail.part("text/plain")
    links = _LINK.findall(html)
    assert links and "https://shop.example" not in html.replace("https://shop.example/u/", "")
    assert all(link in text for link in set(links))  # the text part carries the same tracked links
    assert "/u/" in html and "/r/" not in html.split("/u/")[1][:20]  # unsubscribe is never wrapped

    first = client.http.get(_path(links[0]))
    assert first.status_code == 302
    landing = urlsplit(first.headers["Location"])
    assert (landing.netloc, landing.path) == ("shop.example", f"/discount/{code}")
    (redirect,) = parse_qs(landing.query)["redirect"]
    # The landing page carries the shop's campaign tags, so the shop's analytics credits this campaign too.
    assert urlsplit(redirect).path == "/" and parse_qs(urlsplit(redirect).query) == {
        "utm_source": ["loyalty"], "utm_medium": ["email"], "utm_campaign": [campaign["name"]]}
    assert first.headers["Cache-Control"] == "no-store"
    assert client.http.get(_path(links[-1])).status_code == 302  # a second click: counted, not unique

    clock[0] = DURING + timedelta(days=1)  # within the 5 days after the click
    result = deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload(
        "shopify", order_id="sd-1", email="c0@example.com", discount_codes=[code], created_at=clock[0]),
        "orders/paid")
    assert result["consumed_codes"] == [code] and result["attributed_to"] == f"campaign:{campaign['campaign_id']}"
    stats = _stats(client, shopify_shop, campaign["campaign_id"])
    assert (stats["sent"], stats["clicks"], stats["unique_clicks"], stats["orders"], stats["codes_redeemed"]) == \
           (1, 2, 1, 1, 1)
    assert stats["revenue_minor"] > 0 and stats["revenue"] == f"{stats['revenue_minor'] / 100:.2f}"
    assert stats["rates"]["click_rate"] == 1.0

    # The same order delivered again (another topic, a retry) counts nothing twice.
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload(
        "shopify", order_id="sd-1", email="c0@example.com", discount_codes=[code], created_at=clock[0]),
        "orders/updated")
    assert _stats(client, shopify_shop, campaign["campaign_id"])["orders"] == 1

    # A second order of the same customer is one more order, not one more converting recipient.
    clock[0] = DURING + timedelta(days=2)
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload(
        "shopify", order_id="sd-2", email="c0@example.com", created_at=clock[0]), "orders/paid")
    stats = _stats(client, shopify_shop, campaign["campaign_id"])
    assert (stats["sent"], stats["orders"], stats["converters"]) == (1, 2, 1)
    assert stats["rates"]["conversion_rate"] == 1.0


def test_attribution_window_edges(deps, client, shopify_shop, moto_endpoint, clock):
    campaign, _, mail = _campaign_mail(deps, client, shopify_shop, moto_endpoint, codes="shared", free_shipping=True)
    link = _LINK.findall(mail.part("text/html"))[0]
    clicked = clock[0]
    assert client.http.get(_path(link)).status_code == 302
    for order_id, paid_at, counted in (("edge-in", clicked + timedelta(days=5), True),
                                       ("edge-out", clicked + timedelta(days=5, seconds=1), False),
                                       ("before", clicked - timedelta(minutes=1), False)):
        clock[0] = max(paid_at, clicked) + timedelta(minutes=1)
        result = deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload(
            "shopify", order_id=order_id, email="c0@example.com", created_at=paid_at), "orders/paid")
        assert ("attributed_to" in result) is counted, order_id
    assert _stats(client, shopify_shop, campaign["campaign_id"])["orders"] == 1


def test_tampered_expired_and_foreign_links_get_a_friendly_404_never_a_redirect(deps, client, shopify_shop, moto_endpoint,
                                                                                 clock):
    _, _, mail = _campaign_mail(deps, client, shopify_shop, moto_endpoint, codes="shared", free_shipping=True)
    token = _path(_LINK.findall(mail.part("text/html"))[0]).rsplit("/", 1)[1]
    payload, signature = token.split(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    link = deps.tokens.read_tracked_link(token)
    foreign = deps.tokens.make_tracked_link(tokens.TrackedLink(**{**link.__dict__, "url": "https://evil.example/"}))
    sneaky = deps.tokens.make_tracked_link(tokens.TrackedLink(**{**link.__dict__, "url": "//evil.example/"}))
    other_shop = deps.tokens.make_tracked_link(tokens.TrackedLink(**{**link.__dict__, "shop_id": "no-such-shop"}))
    for bad in (tampered, "x" * 40, foreign, sneaky, other_shop, token + "A"):
        response = client.http.get(f"/r/{bad}")
        assert response.status_code == 404 and "Location" not in response.headers, bad
        assert "<h1>" in response.body.decode()
    clock[0] = DURING + timedelta(days=181)  # links in mail sent now work for 180 days
    expired = client.http.get(f"/r/{token}")
    assert expired.status_code == 404 and "Location" not in expired.headers
    assert "shop.example" in expired.body.decode()  # the page still leads to the shop


def test_a_link_cut_short_by_a_mail_client_answers_in_the_readers_language_with_the_shop(
        deps, client, shopify_shop, moto_endpoint, clock):
    _, _, mail = _campaign_mail(deps, client, shopify_shop, moto_endpoint, codes="shared", free_shipping=True)
    token = _path(_LINK.findall(mail.part("text/html"))[0]).rsplit("/", 1)[1]
    cut = token[:len(token) // 2]  # wrapped at a line end: the signature is gone
    page = client.http.get(f"/r/{cut}", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    body = page.body.decode()
    assert page.status_code == 404 and 'lang="de"' in body and 'href="https://shop.example"' in body
    # no language asked for: the shop's own (Ukrainian), with its storefront
    body = client.http.get(f"/r/{cut}").body.decode()
    assert 'lang="uk"' in body and 'href="https://shop.example"' in body
    # a token naming no shop of ours still answers in the reader's language
    body = client.http.get("/r/" + "x" * 40, headers={"Accept-Language": "ru"}).body.decode()
    assert 'lang="ru"' in body and "href=" not in body.split("<main>")[1]


def test_head_answers_like_get_without_counting_a_click(deps, client, shopify_shop, moto_endpoint, clock):
    campaign, _, mail = _campaign_mail(deps, client, shopify_shop, moto_endpoint, codes="shared", free_shipping=True)
    path = _path(_LINK.findall(mail.part("text/html"))[0])
    head = client.http.request("HEAD", path)
    assert head.status_code == 302 and "shop.example" in head.headers["Location"] and not head.body
    assert client.http.request("HEAD", "/r/" + "x" * 40).status_code == 404
    assert _stats(client, shopify_shop, campaign["campaign_id"])["clicks"] == 0  # a link checker is no reader
    assert client.http.get(path).status_code == 302
    assert _stats(client, shopify_shop, campaign["campaign_id"])["clicks"] == 1


def test_bonus_points_are_claimed_once_by_post_never_by_get(deps, client, shopify_shop, moto_endpoint, clock):
    campaign, message, mail = _campaign_mail(deps, client, shopify_shop, moto_endpoint, bonus_points=75)
    claim = next(link for link in _LINK.findall(mail.part("text/html"))
                 if (deps.tokens.read_tracked_link(_path(link).rsplit("/", 1)[1]).reward or {}).get("points"))
    balance = lambda: shopify_shop.customer("c0@example.com")[1]["points_balance"]  # noqa: E731
    before = balance()
    for _ in range(3):  # mail scanners, link previews, the customer twice
        page = client.http.get(_path(claim))
        assert page.status_code == 200 and 'method="post"' in page.body.decode()
    assert balance() == before

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    results = []
    threads = [threading.Thread(target=lambda: results.append(client.http.post(_path(claim), headers=form, body=b"")))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.status_code == 200 for r in results)
    assert balance() == before + 75
    again = client.http.get(_path(claim)).body.decode()
    assert 'method="post"' not in again  # the page now says it was claimed
    stats = _stats(client, shopify_shop, campaign["campaign_id"])
    assert (stats["claims"], stats["points_claimed"]) == (1, 75)
    history = shopify_shop.history("c0@example.com")[1]["entries"]
    assert [e["points"] for e in history if e["cause"].startswith("claim:")] == [75]


def test_two_orders_racing_for_one_single_use_code_use_it_once(deps, client, shopify_shop, moto_endpoint, clock):
    _, message, _ = _campaign_mail(deps, client, shopify_shop, moto_endpoint, codes="per_customer", discount_percent="10")
    code = message["data"]["code"]
    results = []

    def order(n):
        results.append(deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload(
            "shopify", order_id=f"race-{n}", email="c0@example.com", discount_codes=[code], created_at=clock[0]),
            "orders/paid"))

    threads = [threading.Thread(target=order, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    used = [r for r in results if r["consumed_codes"] == [code]]
    refused = [r for r in results if r.get("refused_codes")]
    assert len(used) == 1 and len(refused) == 1 and refused[0]["refused_codes"][code] == "the code was consumed"
    assert all(r["result"] == "applied" for r in results)  # both orders still earn their points
    assert check_code(client, shopify_shop, code)[1]["uses"] == 1


def test_minimum_order_is_checked_at_the_checkout_and_at_payment(deps, client, shopify_shop, moto_endpoint, clock):
    _, campaign = _planned(client, shopify_shop.shop_id, offer={"codes": "shared", "discount_percent": "5",
                                                               "min_order": "5000", **OFFER_WINDOW})
    code = campaign["data"]["code"]
    assert campaign["data"]["min_order_minor"] == 500000
    response = client.http.get(f"/shops/{shopify_shop.shop_id}/codes/{code}?order_total=4999.99",
                               headers={"X-Api-Key": shopify_shop.api_key})
    assert json.loads(response.body)["reason"] == "the order is below the code's minimum"
    response = client.http.get(f"/shops/{shopify_shop.shop_id}/codes/{code}?order_total=lots",
                               headers={"X-Api-Key": shopify_shop.api_key})
    assert response.status_code == 400 and json.loads(response.body)["field"] == "order_total"
    small = deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret, sample_order_payload(
        "shopify", order_id="small", email="c0@example.com", discount_codes=[code], created_at=clock[0]),
        "orders/paid")
    assert small["refused_codes"] == {code: "the order is below the code's minimum"}


def test_woocommerce_lands_with_the_coupon_parameter_and_generic_shows_the_code(deps, client, moto_endpoint, clock):
    for shop_id, platform in (("woo-links", "woocommerce"), ("generic-links", "generic")):
        shop = register_shop(client, shop_id, platform, sender_email=f"loyalty@{shop_id}.example")
        _, message, mail = _campaign_mail(deps, client, shop, moto_endpoint, codes="per_customer", discount_percent="10")
        response = client.http.get(_path(_LINK.findall(mail.part("text/html"))[0]))
        if platform == "woocommerce":
            assert response.status_code == 302
            assert parse_qs(urlsplit(response.headers["Location"]).query)["coupon_code"] == [message["data"]["code"]]
        else:
            page = response.body.decode()
            assert response.status_code == 200 and message["data"]["code"] in page and "https://shop.example" in page


def test_flow_results_count_sends_deliveries_and_unsubscribes(deps, client, shopify_shop, moto_endpoint, clock):
    from chalicelib.services.mail import delivery_events

    campaign, message, mail = _campaign_mail(deps, client, shopify_shop, moto_endpoint, codes="shared",
                                             free_shipping=True)
    unsubscribe = re.search(r"<(https?://[^>]+/u/[^>]+)>", mail.raw.replace("\n", "").replace(" ", "")).group(1)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(2):  # the second one-click unsubscribe changes nothing and counts nothing
        assert client.http.post(_path(unsubscribe), headers=form, body=b"List-Unsubscribe=One-Click").status_code == 200
    from chalicelib.store.mail.mail_store import MailStore

    send = MailStore(shopify_shop.shop_id).load_send(message["idempotency_key"])
    from chalicelib.domain.mail.message_tags import encode_key

    tags = {"shop": [shopify_shop.shop_id], "customer": [send.customer_id], "send": [encode_key(send.idempotency_key)]}
    for _ in range(2):  # SES may deliver an event twice (with the tags the message was sent with)
        delivery_events.handle_ses_event(deps, {"eventType": "Delivery",
                                                "mail": {"messageId": send.ses_message_id, "tags": tags}})
    stats = _stats(client, shopify_shop, campaign["campaign_id"])
    assert (stats["sent"], stats["delivered"], stats["unsubscribed"]) == (1, 1, 1), stats

    post_purchase = {"idempotency_key": "order-paid:pp-1", "shop_id": shopify_shop.shop_id,
                     "customer_id": message["customer_id"],
                     "template": "post_purchase", "category": "transactional", "created_at": NOW.isoformat(),
                     "data": {"order_name": "#1", "order_id": "pp-1", "points_earned": 10,
                              "items": [{"title": "Чохол", "quantity": 1, "total_minor": 20000}]}}
    from chalicelib.services.mail import send_consumer

    send_consumer.deliver(deps, json.dumps(post_purchase))
    flow = json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/flows/post_purchase/stats",
                                      headers=ADMIN).body)
    assert flow["sent"] == 1 and flow["template"] == "post_purchase"
    every = json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/flows/stats", headers=ADMIN).body)
    assert {f["template"]: f["sent"] for f in every["flows"]}["post_purchase"] == 1
    assert client.http.get(f"/admin/shops/{shopify_shop.shop_id}/flows/nope/stats", headers=ADMIN).status_code == 404


def test_the_offer_fills_the_mail_and_its_window_is_the_special_days(deps, client, shopify_shop, moto_endpoint,
                                                                       clock):
    _customer(deps, shopify_shop.shop_id, 0)
    status, campaign = _planned(client, shopify_shop.shop_id, data={"title": "Winter days"}, offer={
        "codes": "per_customer", "discount_percent": "10", "free_shipping": True, "min_order": "500",
        **OFFER_WINDOW})
    assert status == 201, campaign
    data = campaign["data"]  # asked once: the special days are the offer's window
    assert (data["starts_at"], data["ends_at"]) == ("2026-12-05T00:00:00+02:00", "2026-12-07T23:59:00+02:00")
    assert (data["free_shipping"], data["discount_percent"], data["min_order_minor"]) == (True, "10", 50000)
    campaigns.run_due_campaigns(deps, NOW)
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    mail = _send(deps, message, moto_endpoint)
    text = mail.part("text/plain")
    # The shop speaks Ukrainian: every word of the offer, in Ukrainian.
    assert "безкоштовна доставка" in mail.subject
    assert "і безкоштовна доставка за промокодом" in text and message["data"]["code"] in text
    assert "Для замовлень від" in text and "500" in text
