"""The send path's test doubles and inputs: a stand-in renderer, a messenger that records,
orders delivered straight to the use case, and send-queue messages."""
from __future__ import annotations

import dataclasses
import email
import threading
from datetime import datetime, timedelta, timezone
from email import policy

import pytest

from chalicelib.mail.base import RenderedEmail, TemplateError
from chalicelib.services.orders import webhooks
from chalicelib.services.shops.lookup import load_shop
from devstack.samples import sample_order_payload, signed_request

SENDER = "loyalty@shop.example"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


class FakeTemplates:
    """A stand-in renderer: the message shows which template, locale and links it got."""

    def __init__(self):
        self.calls: list[tuple[str, str, dict]] = []

    def build_context(self, template, *, shop, account, data, links, now):
        return {"shop_name": shop.name, "first_name": account.first_name, "links": links, "data": data}

    def render(self, template, locale, context):
        self.calls.append((template, locale, context))
        if template == "broken":
            raise TemplateError(template, locale, 7, "unexpected '}'")
        unsubscribe = context["links"]["unsubscribe"]
        return RenderedEmail(
            subject=f"{context['first_name']}, ваші бали чекають [{template}/{locale}]",
            preheader="preheader",
            html=f"<html><body><span style=\"display:none\">preheader</span><p>Привіт, {context['first_name']}!</p>"
                 f"<a href=\"{unsubscribe}\">unsubscribe</a></body></html>",
            text=f"Привіт, {context['first_name']}!\nUnsubscribe: {unsubscribe}\n")


class RecordingMessenger:
    """Collects what would go to SES; ``fail`` may be an exception to raise instead."""

    def __init__(self, fail: Exception | None = None):
        self.sent: list[dict] = []
        self.fail = fail
        self._lock = threading.Lock()

    def send_raw(self, *, sender, recipient, raw, configuration_set, tags):
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self.sent.append({"sender": sender, "recipient": recipient, "raw": raw,
                              "configuration_set": configuration_set, "tags": dict(tags)})
            return f"fake-{len(self.sent):04d}"

    def messages(self):
        return [email.message_from_bytes(item["raw"], policy=policy.default) for item in self.sent]


# One phone case (450 UAH): an order below the first tier, so it queues its own e-mail and no
# tier_upgrade beside it (the default sample order, 3,799 UAH, reaches Silver).
BELOW_FIRST_TIER = [{"id": "1", "sku": "CASE-IP15-BLK", "title": "Phone case", "quantity": 1, "unit_price": "450.00",
                     "discount": "0.00", "gift_card": False, "categories": []}]


def deliver_order(deps, shop, email_address: str, order_id: str, **order) -> dict:
    order.setdefault("created_at", NOW - timedelta(days=1))  # the tests' clock, never today
    payload = sample_order_payload("shopify", order_id=order_id, email=email_address, **order)
    headers, raw = signed_request("shopify", shop.secret, payload, topic="orders/paid")
    # The webhook arrives minutes after the payment, whatever today is: an order delivered over a
    # year after it was paid credits no points (they would already have lapsed).
    delivered = dataclasses.replace(deps, clock=lambda: order["created_at"] + timedelta(minutes=2))
    return webhooks.receive_webhook(delivered, "shopify", shop.shop_id, headers, raw, "application/json")


def customer_id(deps, shop_id: str, email_address: str) -> str:
    return load_shop(deps, shop_id).customer_id_for(email_address)


def queue_message(shop_id: str, customer: str, key: str, *, template: str = "special_day",
                  category: str = "marketing", campaign_id: str | None = "spring-sale", data: dict | None = None) -> dict:
    return {"idempotency_key": key, "shop_id": shop_id, "customer_id": customer, "template": template,
            "category": category, "campaign_id": campaign_id if category == "marketing" else None,
            "data": data or {}, "created_at": NOW.isoformat()}


def verify_sender(address: str = SENDER) -> None:
    import boto3

    client = boto3.client("sesv2")
    try:
        client.create_email_identity(EmailIdentity=address)
    except client.exceptions.AlreadyExistsException:
        pass


# -- the send path's shop and customer (fixtures: a test module imports the ones it uses) ------
def send_log(shop_id: str, key: str):
    from chalicelib.store.mail.mail_store import MailStore

    return MailStore(shop_id).load_send(key)


@pytest.fixture
def mail_shop(client):
    """A Shopify shop whose sender is verified, with a marketing cap of 3 e-mails in 7 days."""
    from tests.support.shops import register_shop

    shop = register_shop(client, "mail-shop", "shopify", name="Demo «Електроніка»",
                         marketing_cap={"max_messages": 3, "per_days": 7})
    verify_sender()
    return shop


@pytest.fixture
def olena(deps, mail_shop):
    """A customer of ``mail_shop`` (one delivered order), by id."""
    deliver_order(deps, mail_shop, "olena@example.com", "m-1")
    return customer_id(deps, mail_shop.shop_id, "olena@example.com")
