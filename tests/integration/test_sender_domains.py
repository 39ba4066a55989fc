"""A shop sends only as itself: sending domains through the admin API, one shop per domain,
mail held while the sender is unverified, test sends only to confirmed addresses, within a limit."""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlsplit

from chalicelib import composition
import pytest
from chalice.test import Client

from app import app
from devstack.samples import sample_order_payload
from devstack.emulator import hold_verification, publish_all_dns, publish_dns
from devstack.sent_mail import sent_mail
from tests.support.shops import ADMIN, confirm_test_recipient, register_shop
from tests.support.queues import drain_queue

T0 = datetime(2031, 3, 14, 9, 30, tzinfo=timezone.utc)  # any instant: nothing here reads today's date
MJML = ("<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}</mj-text>"
        "</mj-column></mj-section></mj-body></mjml>")


@pytest.fixture(autouse=True)
def _dns_published_after():
    yield
    publish_all_dns()


def _json(response):
    return response.status_code, json.loads(response.body)


def _post(client, path, body, headers=ADMIN):
    return _json(client.http.post(path, headers=headers, body=json.dumps(body).encode()))


def _run_send_handler(messages: list[dict]) -> None:
    with Client(app, stage_name="local") as client:
        for message in messages:
            event = client.events.generate_sqs_event(message_bodies=[json.dumps(message)],
                                                     queue_name=os.environ["LOYALTY_SEND_QUEUE"])
            client.lambda_.invoke("send_email", event)


def _order(shop, order_id: str, email: str):
    response = shop.deliver(sample_order_payload("shopify", order_id=order_id, email=email), topic="orders/paid")
    assert response.status_code == 200, response.body


# -- registering a domain ------------------------------------------------------------------

def test_a_shop_registers_an_idn_domain_and_gets_its_dns_records_and_ses_status(client, shopify_shop):
    status, domain = _post(client, f"/admin/shops/{shopify_shop.shop_id}/sender-domains",
                           {"domain": "Кава-Зерно.example.", "mail_from_subdomain": "mail"})
    assert status == 201, domain
    assert domain["domain"] == "xn----7sbahrlq4ajs.example" and domain["display_name"] == "кава-зерно.example"
    assert domain["status"] == "verified" and domain["verified"] is True  # the emulator verifies at once
    records = domain["records"]
    dkim = [r for r in records if r["type"] == "CNAME"]
    assert len(dkim) == 3
    for record in dkim:
        token = record["name"].split(".")[0]
        assert record["name"] == f"{token}._domainkey.xn----7sbahrlq4ajs.example"
        assert record["value"] == f"{token}.dkim.amazonses.com" and record["required"]
    assert {"name": "mail.xn----7sbahrlq4ajs.example", "type": "MX",
            "value": "10 feedback-smtp.eu-central-1.amazonses.com"}.items() <= \
        next(r for r in records if r["type"] == "MX").items()
    spf = next(r for r in records if r["type"] == "TXT" and r["name"].startswith("mail."))
    assert spf["value"] == '"v=spf1 include:amazonses.com ~all"'
    dmarc = next(r for r in records if r["name"].startswith("_dmarc."))
    assert dmarc["value"].startswith('"v=DMARC1; p=none; rua=mailto:') and dmarc["required"] is False
    assert domain["mail_from"] == {"domain": "mail.xn----7sbahrlq4ajs.example", "status": "SUCCESS"}

    again_status, again = _post(client, f"/admin/shops/{shopify_shop.shop_id}/sender-domains",
                                {"domain": "xn----7sbahrlq4ajs.example", "mail_from_subdomain": "mail"})
    assert again_status == 200 and again["records"] == records  # the same claim, not a second one
    status, listing = _json(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/sender-domains", headers=ADMIN))
    assert status == 200
    assert sorted(d["domain"] for d in listing["domains"]) == ["shop.example", "xn----7sbahrlq4ajs.example"]
    assert listing["sending"] == {"status": "ready", "reason": None, "held_messages": 0}
    one = _json(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/sender-domains/"
                                f"{quote('xn----7sbahrlq4ajs.example')}", headers=ADMIN))
    assert one[0] == 200 and one[1]["verified"]


@pytest.mark.parametrize("body, field", [
    ({"domain": "co.uk"}, "domain"),  # a public suffix
    ({"domain": "github.io"}, "domain"),
    ({"domain": "https://shop.example/"}, "domain"),
    ({"domain": "127.0.0.1"}, "domain"),
    ({"domain": "bad_label.example"}, "domain"),
    ({"domain": "a.b.c.d.e.shop.example"}, "domain"),  # too deep below the registered domain
    ({"domain": 42}, "domain"),
    ({"domain": "shop.example", "mail_from_subdomain": "two.labels"}, "mail_from_subdomain"),
    ({"domain": "shop.example", "extra": 1}, "extra"),
])
def test_domains_that_cannot_send_are_refused_naming_the_field(client, shopify_shop, body, field):
    status, error = _post(client, f"/admin/shops/{shopify_shop.shop_id}/sender-domains", body)
    assert status == 400 and error["field"] == field, error


# -- one shop per domain ---------------------------------------------------------------------

def test_another_shop_can_neither_claim_nor_send_as_a_shops_domain(client, shopify_shop, moto_endpoint):
    rival = register_shop(client, "rival-shop", "shopify", sender_email="news@rival.example")
    base = f"/admin/shops/{rival.shop_id}"

    for domain in ("shop.example", "SHOP.EXAMPLE.", "news.shop.example"):
        status, error = _post(client, f"{base}/sender-domains", {"domain": domain})
        assert status == 409 and error["field"] == "domain", error
    status, error = _json(client.http.put(base, headers=ADMIN, body=json.dumps({
        "platform": "shopify", "currency": "UAH", "sender_email": "loyalty@shop.example",
        "storefront_url": "https://rival.example"}).encode()))
    assert status == 409 and error["field"] == "sender_email" and error["reason"] == "domain_taken"
    assert _json(client.http.get(base, headers=ADMIN))[1]["sender_email"] == "news@rival.example"
    # a new shop cannot start out on it either, and is not created
    status, error = _json(client.http.put("/admin/shops/squatter", headers=ADMIN, body=json.dumps({
        "platform": "shopify", "currency": "UAH", "webhook_secret": "whsec-squatter-0123456789",
        "sender_email": "Loyalty@Shop.Example", "storefront_url": "https://squat.example"}).encode()))
    assert status == 409 and error["field"] == "sender_email"
    assert client.http.get("/admin/shops/squatter", headers=ADMIN).status_code == 404
    # nor read or remove the owner's domain
    assert client.http.get(f"{base}/sender-domains/shop.example", headers=ADMIN).status_code == 404
    assert client.http.delete(f"{base}/sender-domains/shop.example", headers=ADMIN).status_code == 404
    owner = _json(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/sender-domains/shop.example", headers=ADMIN))
    assert owner[0] == 200 and owner[1]["verified"]
    # the owner cannot drop the domain its sender is on
    status, error = _json(client.http.delete(f"/admin/shops/{shopify_shop.shop_id}/sender-domains/shop.example",
                                             headers=ADMIN))
    assert status == 409 and error["reason"] == "sender_uses_domain"


def test_two_shops_claiming_one_domain_at_once_get_one_claim(deps, client):
    from chalicelib.errors import Conflict
    from chalicelib.services.shops import sender_domains
    from tests.support.webhooks import run_together

    shops = [register_shop(client, f"racer-{n}", "generic", sender_email=f"a@racer-{n}.example") for n in range(4)]

    def claim(shop_id):
        def call():
            try:
                return sender_domains.register_domain(deps, shop_id, {"domain": "contested.example"})[1]
            except Conflict:
                return "conflict"
        return call

    outcomes = run_together([claim(shop.shop_id) for shop in shops])
    assert sorted(outcomes, key=str) == [True, "conflict", "conflict", "conflict"]
    owners = [shop.shop_id for shop in shops
              if client.http.get(f"/admin/shops/{shop.shop_id}/sender-domains/contested.example",
                                 headers=ADMIN).status_code == 200]
    assert len(owners) == 1


def test_an_unverified_claim_frees_the_domain_after_ses_verification_window(deps, client):
    from chalicelib.errors import Conflict
    from chalicelib.services.shops import sender_domains

    hold_verification("brand.example")
    squatter = register_shop(client, "squatter", "generic", sender_email="a@squatter.example")
    owner = register_shop(client, "brand", "generic", sender_email="a@brand-owner.example")
    sender_domains.register_domain(deps, squatter.shop_id, {"domain": "brand.example"}, now=T0)
    with pytest.raises(Conflict):
        sender_domains.register_domain(deps, owner.shop_id, {"domain": "brand.example"}, now=T0 + timedelta(hours=71))
    view, created = sender_domains.register_domain(deps, owner.shop_id, {"domain": "brand.example"},
                                                   now=T0 + timedelta(hours=73))
    assert created and view["status"] == "pending"
    squatters = _json(client.http.get(f"/admin/shops/{squatter.shop_id}/sender-domains", headers=ADMIN))[1]
    assert "brand.example" not in [d["domain"] for d in squatters["domains"]]
    publish_dns("brand.example")
    assert _json(client.http.get(f"/admin/shops/{owner.shop_id}/sender-domains/brand.example",
                                 headers=ADMIN))[1]["verified"]


# -- mail of a shop registered through the API ------------------------------------------------

def test_a_new_shop_registered_through_the_api_gets_its_post_purchase_mail_delivered(client, moto_endpoint):
    shop = register_shop(client, "fresh-shop", "shopify", sender_email="hello@fresh-roastery.example",
                         name="Fresh Roastery")
    before = len(sent_mail(moto_endpoint))
    _order(shop, "5001", "mila+orders@example.com")
    _run_send_handler(drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "post_purchase"))

    (mail,) = sent_mail(moto_endpoint)[before:]
    assert mail.recipients == ["mila+orders@example.com"]
    assert mail.sender == "hello@fresh-roastery.example" and "hello@fresh-roastery.example" in mail.headers()["From"]


def test_mail_of_an_unverified_sender_is_held_with_its_reason_and_sent_once_verified(client, moto_endpoint):
    hold_verification("slow-dns.example")
    shop = register_shop(client, "slow-shop", "shopify", sender_email="club@slow-dns.example")
    base = f"/admin/shops/{shop.shop_id}"
    status, listing = _json(client.http.get(f"{base}/sender-domains", headers=ADMIN))
    (domain,) = listing["domains"]
    assert domain["status"] == "pending" and domain["dkim"]["status"] == "PENDING" and len(domain["records"]) == 6
    before = len(sent_mail(moto_endpoint))

    _order(shop, "7001", "olena@example.com")
    _run_send_handler(drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "post_purchase"))

    assert sent_mail(moto_endpoint)[before:] == []
    from chalicelib.store.mail.mail_store import MailStore

    held = MailStore(shop.shop_id).load_send("post_purchase:7001")
    assert (held.status, held.reason) == ("held", "sender_unverified")
    flow = _json(client.http.get(f"{base}/flows/post_purchase/stats", headers=ADMIN))[1]
    assert flow["held"] == {"sender_unverified": 1} and flow["sent"] == 0 and flow["failed"] == 0
    listing = _json(client.http.get(f"{base}/sender-domains", headers=ADMIN))[1]
    assert listing["sending"] == {"status": "held", "reason": "sender_unverified", "held_messages": 1}
    # nothing else goes from it either: not even a test recipient's confirmation
    status, error = _post(client, f"{base}/test-recipients", {"email": "qa@agency.example"})
    assert (status, error["field"], error["reason"]) == (409, "sender_email", "sender_unverified")

    publish_dns("slow-dns.example")  # the shop published its records; the status refresh sees it
    assert _json(client.http.get(f"{base}/sender-domains/slow-dns.example", headers=ADMIN))[1]["verified"]
    released = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert [m["idempotency_key"] for m in released] == ["post_purchase:7001"]
    _run_send_handler(released)
    _run_send_handler(released)  # released twice: still sent once

    (mail,) = sent_mail(moto_endpoint)[before:]
    assert mail.recipients == ["olena@example.com"] and mail.sender == "club@slow-dns.example"
    flow = _json(client.http.get(f"{base}/flows/post_purchase/stats", headers=ADMIN))[1]
    assert flow["sent"] == 1 and flow["held_total"] == 0
    assert _json(client.http.get(f"{base}/sender-domains", headers=ADMIN))[1]["sending"]["held_messages"] == 0


def test_the_schedule_releases_held_mail_once_ses_verifies(client, moto_endpoint):
    hold_verification("later.example")
    shop = register_shop(client, "later-shop", "generic", sender_email="hi@later.example")
    before = len(sent_mail(moto_endpoint))
    shop.deliver(sample_order_payload("generic", order_id="g-1", email="ivan@example.com"))
    _run_send_handler(drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "post_purchase"))
    assert sent_mail(moto_endpoint)[before:] == []

    publish_dns("later.example")
    with Client(app, stage_name="local") as lambdas:
        lambdas.lambda_.invoke("refresh_sender_domains", lambdas.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    _run_send_handler(drain_queue(os.environ["LOYALTY_SEND_QUEUE"]))
    assert [m.recipients for m in sent_mail(moto_endpoint)[before:]] == [["ivan@example.com"]]


# -- test sends -------------------------------------------------------------------------------

def test_test_sends_go_only_to_confirmed_addresses_through_the_configuration_set(client, shopify_shop,
                                                                                 moto_endpoint, monkeypatch):
    used = []
    real = composition.dependencies().messenger

    class Recording:
        def send_raw(self, **message):
            used.append(message["configuration_set"])
            return real.send_raw(**message)

    composition.use(messenger=Recording())
    base = f"/admin/shops/{shopify_shop.shop_id}"
    test_send = f"{base}/templates/post_purchase/test-send"

    status, error = _post(client, test_send, {"mjml": MJML, "to": "anyone@victim.example"})
    assert status == 403 and error["field"] == "to" and error["reason"] == "recipient_unconfirmed"

    before = len(sent_mail(moto_endpoint))
    status, added = _post(client, f"{base}/test-recipients", {"email": "Marketer+Tests@Agency.example"})
    assert status == 202 and added["status"] == "pending"
    (confirmation,) = sent_mail(moto_endpoint)[before:]
    assert confirmation.recipients == ["Marketer+Tests@agency.example"]
    link = re.search(r"http\S+/test-recipients/confirm/\S+", confirmation.part("text/plain")).group(0)
    assert _post(client, test_send, {"mjml": MJML, "to": "marketer+tests@agency.example"})[0] == 403  # pending

    page = client.http.get(urlsplit(link).path)  # a link scanner's GET confirms nothing
    assert page.status_code == 200 and b'method="post"' in page.body
    assert _json(client.http.get(f"{base}/test-recipients", headers=ADMIN))[1]["recipients"][0]["status"] == "pending"
    confirmed = client.http.post(urlsplit(link).path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                                 body=b"")
    assert confirmed.status_code == 200
    forged = client.http.post(urlsplit(link).path[:-3] + "abc",
                              headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"")
    assert forged.status_code == 404

    status, sent = _post(client, test_send, {"mjml": MJML, "to": "MARKETER+tests@agency.example", "locale": "en"})
    assert status == 200 and sent["subject"].startswith("[TEST] ")
    assert used and set(used) == {"loyalty-mail"}  # confirmation and test: through the configuration set

    # removing the address voids it (and its old link)
    # (path parameters arrive percent-encoded from API Gateway: decoding them is the routes' one place, issue 14.8)
    assert client.http.delete(f"{base}/test-recipients/marketer+tests@agency.example",
                              headers=ADMIN).status_code == 200
    assert _post(client, test_send, {"mjml": MJML, "to": "marketer+tests@agency.example"})[0] == 403
    assert client.http.post(urlsplit(link).path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                            body=b"").status_code == 410


def test_test_sends_are_limited_per_shop_with_retry_after(client, shopify_shop, moto_endpoint, monkeypatch):

    composition.use(config={"test_sends_per_hour": 3})
    composition.use_clock(lambda: T0)  # 09:30: the hour's window has 30 minutes left
    confirm_test_recipient(client, shopify_shop.shop_id, "qa@agency.example", moto_endpoint)  # 1 of 3
    test_send = f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase/test-send"
    assert [_post(client, test_send, {"mjml": MJML, "to": "qa@agency.example"})[0] for _ in range(2)] == [200, 200]

    response = client.http.post(test_send, headers=ADMIN, body=json.dumps({"mjml": MJML,
                                                                            "to": "qa@agency.example"}).encode())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1800" and json.loads(response.body)["retry_after"] == 1800
    assert json.loads(response.body)["reason"] == "test_send_limit"
    # adding recipients draws on the same allowance
    assert _post(client, f"/admin/shops/{shopify_shop.shop_id}/test-recipients", {"email": "b@agency.example"})[0] \
        == 429
    # another shop's allowance is its own
    other = register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    assert _post(client, f"/admin/shops/{other.shop_id}/test-recipients", {"email": "qa@agency.example"})[0] == 202


# -- SES identities made before sender onboarding ------------------------------------------------

class _AccountWithOldIdentities:
    """An SES account where some domains were verified by hand before shops registered them."""

    region = "eu-central-1"

    def __init__(self, *existing: str):
        self.identities = {domain: self._verified() for domain in existing}

    @staticmethod
    def _verified() -> dict:
        return {"VerifiedForSendingStatus": True, "DkimAttributes": {"Status": "SUCCESS", "Tokens": ["a", "b", "c"]}}

    def create_domain(self, domain):
        if domain in self.identities:
            return self.identities[domain], False
        self.identities[domain] = self._verified()
        return self.identities[domain], True

    def get(self, domain):
        return self.identities.get(domain)

    def set_mail_from(self, domain, mail_from_domain):
        self.identities[domain]["MailFromAttributes"] = {"MailFromDomain": mail_from_domain,
                                                         "MailFromDomainStatus": "SUCCESS"}

    def delete(self, domain):
        self.identities.pop(domain, None)


def test_an_identity_verified_before_onboarding_goes_only_to_the_shop_that_used_it(deps, client, monkeypatch):
    from chalicelib.errors import Conflict
    from chalicelib.services.shops import sender_domains
    from chalicelib.store.shops.sender_domains import SenderDomainStore
    from chalicelib.store.shops.shops import ShopRepository

    legacy = register_shop(client, "legacy-shop", "generic", sender_email="shop@legacy.example")
    newcomer = register_shop(client, "newcomer", "generic", sender_email="a@newcomer.example")
    # Before this feature: the legacy shop's domain was verified by hand and no claim exists.
    SenderDomainStore().release("legacy.example", legacy.shop_id)
    account = _AccountWithOldIdentities("legacy.example")

    with pytest.raises(Conflict) as refused:
        sender_domains.register_domain(deps, newcomer.shop_id, {"domain": "legacy.example"}, identities=account, now=T0)
    assert refused.value.details["reason"] == "identity_exists_unowned"
    assert SenderDomainStore().get("legacy.example") is None  # the attempt left no claim

    report = sender_domains.refresh_all(deps, identities=account, now=T0)
    assert report["adopted"] == 1
    claim = SenderDomainStore().get("legacy.example")
    assert claim.shop_id == legacy.shop_id and claim.verified
    assert ShopRepository().get(legacy.shop_id).config["sender_email"] == "shop@legacy.example"
