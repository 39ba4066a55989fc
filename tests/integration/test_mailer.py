"""Sending against the moto server where only it can tell: the raw MIME SES was handed, a
sender SES has not verified yet, the reply-to header; the SES adapter's error mapping and MIME
edges. The rest of the send path (idempotency, consent, suppression, the cap and its race, SES
events) runs on the in-memory store: tests/services/test_send_path.py."""
from __future__ import annotations

import email
import json
import urllib.request
from email import policy

import pytest

from chalicelib import composition
from chalicelib.mail.messenger import PermanentSendError, SesMessenger, TransientSendError
from chalicelib.services.mail import mailer
from tests.support.aws_clients import registered
from tests.support.ses import ses_messenger
from tests.support.shops import register_shop
from tests.support.mail import FakeTemplates, NOW, SENDER, customer_id, deliver_order, queue_message
from tests.support.mail import mail_shop, olena, send_log  # noqa: F401 (fixtures)


def moto_raw_message(endpoint: str, message_id: str) -> bytes:
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json") as response:
        data = json.load(response)
    for message in data["ses"]["RawMessage"]:
        if message["id"] == message_id:
            return message["raw_data"].encode()
    raise AssertionError(f"moto has no message {message_id}")


@pytest.fixture
def spied_ses(moto_endpoint):
    """A messenger to the emulator's SES, and the SendEmail parameters it is given during the test
    (its client is shared across tests: the spy is taken off again, tests/support/aws_clients.py)."""
    messenger, calls = ses_messenger(), []
    with registered(messenger.client, "provide-client-params.sesv2.SendEmail", lambda params, **_: calls.append(params)):
        yield messenger, calls


def test_marketing_mail_through_moto_ses_carries_one_click_unsubscribe(deps, mail_shop, olena, moto_endpoint, spied_ses,
                                                                      monkeypatch):
    composition.use(config={"public_url": "https://loyalty.example.com",
                            "unsubscribe_mailbox": "unsubscribe@mail.loyalty.example.com"})
    messenger, calls = spied_ses

    result = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, "spring-1"), messenger=messenger,
                                 templates=FakeTemplates(), now=NOW)

    assert result["status"] == "sent"
    message = email.message_from_bytes(moto_raw_message(moto_endpoint, result["ses_message_id"]),
                                       policy=policy.default)
    assert message["From"].addresses[0].display_name == "Demo «Електроніка»"
    assert message["From"].addresses[0].addr_spec == SENDER
    assert message["To"] == "olena@example.com"
    assert message["Subject"] == "Olena, ваші бали чекають [special_day/uk]"
    assert message["Date"] and message["Message-ID"].endswith("@shop.example>")
    unsubscribe = str(message["List-Unsubscribe"])
    https, mailto = [uri.strip().strip("<>") for uri in unsubscribe.split(",")]
    assert https.startswith("https://loyalty.example.com/u/")
    token = https.rsplit("/", 1)[1]
    assert mailto == f"mailto:unsubscribe@mail.loyalty.example.com?subject=unsubscribe%20{token}"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert "Привіт, Olena!" in message.get_body(("plain",)).get_content()
    assert "Привіт, Olena!" in message.get_body(("html",)).get_content()
    assert https in message.get_body(("html",)).get_content()

    [params] = calls
    assert params["ConfigurationSetName"] == "loyalty-mail"
    assert params["FromEmailAddress"] == SENDER
    assert params["Destination"] == {"ToAddresses": ["olena@example.com"]}
    assert {tag["Name"]: tag["Value"] for tag in params["EmailTags"]} == {
        "shop": "mail-shop", "template": "special_day", "campaign": "spring-sale", "customer": olena,
        "category": "marketing", "send": "spring-2d1"}  # the idempotency key "spring-1", for SES's events
    log = send_log(mail_shop.shop_id, "spring-1")
    assert log.status == "sent" and log.ses_message_id == result["ses_message_id"]


def test_transactional_mail_through_moto_ses_has_no_list_unsubscribe(deps, mail_shop, olena, moto_endpoint, spied_ses, monkeypatch):
    composition.use(config={"ses_configuration_set": "shop-receipts"})
    messenger, calls = spied_ses

    result = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, "order-m-1", template="post_purchase",
                                               category="transactional"),
                                 messenger=messenger, templates=FakeTemplates(), now=NOW)

    assert result["status"] == "sent"
    message = email.message_from_bytes(moto_raw_message(moto_endpoint, result["ses_message_id"]),
                                       policy=policy.default)
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    assert message["To"] == "olena@example.com"
    assert {part.get_content_type() for part in message.iter_parts()} == {"text/plain", "text/html"}
    assert calls[0]["ConfigurationSetName"] == "shop-receipts"
    assert {tag["Name"]: tag["Value"] for tag in calls[0]["EmailTags"]}["campaign"] == "none"


def test_real_templates_end_to_end_through_moto_ses(deps, mail_shop, olena, moto_endpoint):
    """The real renderer (MJML + Jinja, the customer's locale) into raw MIME into moto's SES."""
    special = {"title": "Весняний розпродаж", "starts_at": "2026-11-25T00:00:00Z", "ends_at": "2026-11-28T23:59:00Z",
               "free_shipping": True}
    order = {"order_id": "m-1", "order_name": "#m-1", "points_earned": 189,
             "items": [{"title": "Чохол для iPhone 15", "quantity": 2, "total_minor": 90000}]}

    promo = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, "real-promo", data=special),
                                messenger=ses_messenger(), now=NOW)
    receipt = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, "real-receipt", template="post_purchase",
                                                category="transactional", data=order),
                                  messenger=ses_messenger(), now=NOW)

    marketing = email.message_from_bytes(moto_raw_message(moto_endpoint, promo["ses_message_id"]), policy=policy.default)
    transactional = email.message_from_bytes(moto_raw_message(moto_endpoint, receipt["ses_message_id"]),
                                             policy=policy.default)
    assert "Весняний розпродаж" in marketing["Subject"]
    unsubscribe_url = str(marketing["List-Unsubscribe"]).strip("<>")
    assert unsubscribe_url in marketing.get_body(("plain",)).get_content()
    assert unsubscribe_url in marketing.get_body(("html",)).get_content()
    assert "#m-1" in transactional["Subject"] and transactional["List-Unsubscribe"] is None
    text = transactional.get_body(("plain",)).get_content()
    assert "Чохол для iPhone 15" in text and "189" in text
    assert "2027" in text  # the nearest expiry, from the account's lots


def test_unverified_sender_is_held_not_failed(deps, client, moto_endpoint):
    from devstack.emulator import hold_verification, publish_dns

    hold_verification("unverified.example")
    try:
        shop = register_shop(client, "unverified-shop", "shopify", sender_email="nobody@unverified.example")
        deliver_order(deps, shop, "olena@example.com", "u-1")
        customer = customer_id(deps, shop.shop_id, "olena@example.com")

        result = mailer.send_message(deps, queue_message(shop.shop_id, customer, "u-1", template="post_purchase",
                                                   category="transactional"),
                                     messenger=ses_messenger(), templates=FakeTemplates(), now=NOW)
    finally:
        publish_dns("unverified.example")

    assert result["status"] == "held" and result["reason"] == "sender_unverified"
    assert (send_log(shop.shop_id, "u-1").status, send_log(shop.shop_id, "u-1").reason) == ("held",
                                                                                         "sender_unverified")


# -- the SES adapter's error mapping and the MIME edges ----------------------------------
@pytest.mark.parametrize("code, status, expected", [
    ("TooManyRequestsException", 429, TransientSendError),
    ("Throttling", 400, TransientSendError),
    ("LimitExceededException", 400, TransientSendError),
    ("InternalFailure", 500, TransientSendError),
    ("SomethingNew", 503, TransientSendError),
    ("MessageRejected", 400, PermanentSendError),
    ("MailFromDomainNotVerifiedException", 400, PermanentSendError),
    ("AccountSuspendedException", 400, PermanentSendError),
    ("BadRequestException", 400, PermanentSendError),
])
def test_ses_errors_are_sorted_into_transient_and_permanent(code, status, expected):
    from botocore.exceptions import ClientError

    from chalicelib.mail.messenger import classify_client_error

    error = ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                        "SendEmail")
    assert type(classify_client_error(error)) is expected


def test_unreachable_ses_is_transient():
    import boto3
    from botocore.config import Config

    client = boto3.client("sesv2", endpoint_url="http://127.0.0.1:9", region_name="eu-central-1",
                          config=Config(retries={"max_attempts": 0}, connect_timeout=1))
    with pytest.raises(TransientSendError):
        SesMessenger(client).send_raw(sender=SENDER, recipient="a@example.com", raw=b"x", configuration_set=None,
                                      tags={})


def test_tag_values_are_sanitized():
    from chalicelib.mail.messenger import sanitize_tag

    assert sanitize_tag("Весна 2026: -20%") == "______2026__-20_"
    assert sanitize_tag(None) == "none" and len(sanitize_tag("x" * 300)) == 256


def test_subject_cannot_inject_headers():
    from tests.support.clock import T0

    from chalicelib.mail.mime import build_message

    raw = build_message(from_name="Shop\r\nBcc: evil@example.com", from_address=SENDER, to_address="a@example.com",
                        subject="Hi\r\nBcc: evil@example.com", html="<p>x</p>", text="x", now=T0)
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Bcc"] is None and "evil" not in str(message["To"])
    assert all(len(line) <= 78 for line in raw.split(b"\r\n")[:12])


def test_replies_go_to_the_shops_reply_to_address(deps, client, mail_shop, olena, moto_endpoint):
    from tests.support.shops import ADMIN, shop_document

    for bad in ("not an address", "ольга@shop.example"):
        response = client.http.put(f"/admin/shops/{mail_shop.shop_id}", headers=ADMIN,
                                   body=json.dumps(shop_document("shopify", reply_to=bad)).encode())
        assert response.status_code == 400 and json.loads(response.body)["field"] == "reply_to", bad
    response = client.http.put(f"/admin/shops/{mail_shop.shop_id}", headers=ADMIN, body=json.dumps(
        shop_document("shopify", name="Demo «Електроніка»", reply_to="Support@Shop.Example")).encode())
    assert response.status_code == 200, response.body
    result = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, "reply-1"), messenger=ses_messenger(),
                                 templates=FakeTemplates(), now=NOW)
    message = email.message_from_bytes(moto_raw_message(moto_endpoint, result["ses_message_id"]),
                                       policy=policy.default)
    assert message["Reply-To"] == "support@shop.example"
    assert message["From"].addresses[0].addr_spec == SENDER  # the sender stays the verified one
