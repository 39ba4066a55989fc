"""The send path from the send queue, on the in-memory store: idempotency, leases, failures
and poison, consent, suppression, the marketing cap (also under a race), SES delivery events.
What only the emulator can show (the raw MIME SES got, verification) is in
tests/integration/test_mailer.py."""
from __future__ import annotations

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Optional

import pytest

from chalicelib import composition
from chalicelib.domain.mail.message_tags import encode_key
from chalicelib.mail.messenger import PermanentSendError, TransientSendError
from chalicelib.services.mail import delivery_events
from chalicelib.services.mail import mailer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.mail.mailer import PoisonMessage, SendInProgress
from chalicelib.store import keys
from chalicelib.store.mail.mail_store import MailStore
from chalicelib.store.models import ProfileItem
from tests.support.dynamodb_requests import count_dynamodb_requests
from tests.support.shops import register_shop
from tests.support.mail import FakeTemplates, NOW, RecordingMessenger, SENDER, customer_id, deliver_order, queue_message
from tests.support.mail import mail_shop, olena, send_log  # noqa: F401 (fixtures)


def test_real_template_with_missing_data_is_poison(deps, mail_shop, olena):
    with pytest.raises(PoisonMessage, match="post_purchase"):
        mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, "bad-data", template="post_purchase",
                                          category="transactional", data={"order_id": "m-1"}),
                            messenger=RecordingMessenger(), now=NOW)
    assert send_log(mail_shop.shop_id, "bad-data").status == "failed"


def test_a_sender_ses_refuses_after_all_is_held_not_failed(deps, mail_shop, olena):
    class Refusing:
        def send_raw(self, **message):
            raise PermanentSendError("SES MessageRejected: Email address is not verified.", code="MessageRejected")

    result = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, "r-1", template="post_purchase",
                                               category="transactional"),
                                 messenger=Refusing(), templates=FakeTemplates(), now=NOW)
    assert result["status"] == "held" and send_log(mail_shop.shop_id, "r-1").status == "held"


# -- idempotency -------------------------------------------------------------------------
def test_a_retried_queue_message_sends_once(deps, mail_shop, olena):
    messenger = RecordingMessenger()
    message = queue_message(mail_shop.shop_id, olena, "order-1", template="post_purchase", category="transactional")

    first = mailer.send_message(deps, message, messenger=messenger, templates=FakeTemplates(), now=NOW)
    again = mailer.send_message(deps, json.dumps(message), messenger=messenger, templates=FakeTemplates(), now=NOW)

    assert first["status"] == "sent"
    assert again["status"] == "duplicate" and again["previous_status"] == "sent"
    assert len(messenger.sent) == 1


def test_a_claim_whose_lease_ran_out_without_sent_is_sent_again(deps, mail_shop, olena, monkeypatch):
    composition.use(config={"mail_lease_seconds": 60})
    message = queue_message(mail_shop.shop_id, olena, "order-2", template="post_purchase", category="transactional")

    class Crash(Exception):
        pass

    with pytest.raises(Crash):  # the worker dies after claiming, before SES took the message
        mailer.send_message(deps, message, messenger=RecordingMessenger(fail=Crash()), templates=FakeTemplates(), now=NOW)
    assert send_log(mail_shop.shop_id, "order-2").status == "claimed"

    messenger = RecordingMessenger()
    with pytest.raises(SendInProgress):  # lease still live: another worker may be sending
        mailer.send_message(deps, message, messenger=messenger, templates=FakeTemplates(), now=NOW + timedelta(seconds=30))
    result = mailer.send_message(deps, message, messenger=messenger, templates=FakeTemplates(),
                                 now=NOW + timedelta(seconds=61))

    assert result["status"] == "sent" and len(messenger.sent) == 1
    log = send_log(mail_shop.shop_id, "order-2")
    assert log.status == "sent" and log.attempts == 2


def test_transient_failure_raises_and_the_retry_sends(deps, mail_shop, olena):
    message = queue_message(mail_shop.shop_id, olena, "order-3", template="post_purchase", category="transactional")

    with pytest.raises(TransientSendError):
        mailer.send_message(deps, message, messenger=RecordingMessenger(fail=TransientSendError("slow down", code="TooManyRequestsException")),
                            templates=FakeTemplates(), now=NOW)
    assert send_log(mail_shop.shop_id, "order-3").status == "claimed"

    messenger = RecordingMessenger()  # SQS redelivers after the visibility timeout; the lease was released
    assert mailer.send_message(deps, message, messenger=messenger, templates=FakeTemplates(),
                               now=NOW + timedelta(seconds=5))["status"] == "sent"
    assert len(messenger.sent) == 1


def test_permanent_failure_marks_failed_and_is_not_retried(deps, mail_shop, olena):
    message = queue_message(mail_shop.shop_id, olena, "order-4", template="post_purchase", category="transactional")

    result = mailer.send_message(deps, message, messenger=RecordingMessenger(fail=PermanentSendError("no", code="MessageRejected")),
                                 templates=FakeTemplates(), now=NOW)

    assert result["status"] == "failed"
    log = send_log(mail_shop.shop_id, "order-4")
    assert log.status == "failed" and "MessageRejected" in log.reason
    messenger = RecordingMessenger()
    assert mailer.send_message(deps, message, messenger=messenger, templates=FakeTemplates(), now=NOW)["status"] == "duplicate"
    assert messenger.sent == []


def test_template_error_marks_failed_and_poisons_the_message(deps, mail_shop, olena):
    message = queue_message(mail_shop.shop_id, olena, "order-5", template="broken", category="transactional")
    messenger = RecordingMessenger()

    with pytest.raises(PoisonMessage, match="broken"):
        mailer.send_message(deps, message, messenger=messenger, templates=FakeTemplates(), now=NOW)

    log = send_log(mail_shop.shop_id, "order-5")
    assert log.status == "failed" and "line 7" in log.reason
    assert messenger.sent == []


@pytest.mark.parametrize("body", [
    "not json",
    "[1, 2]",
    {"shop_id": "mail-shop"},
    {"idempotency_key": "k", "shop_id": "mail-shop", "customer_id": "c_1", "template": "special_day",
     "category": "spam", "data": {}, "created_at": "2026-11-25T10:00:00Z"},
    {"idempotency_key": "k", "shop_id": "no-such-shop", "customer_id": "c_1", "template": "special_day",
     "category": "marketing", "data": {}, "created_at": "2026-11-25T10:00:00Z"},
])
def test_malformed_messages_are_poison(deps, mail_shop, body):
    with pytest.raises(PoisonMessage):
        mailer.send_message(deps, body, messenger=RecordingMessenger(), templates=FakeTemplates(), now=NOW)


def test_unknown_customer_is_skipped_and_recorded(deps, mail_shop):
    result = mailer.send_message(deps, queue_message(mail_shop.shop_id, "c_" + "0" * 32, "ghost-1"),
                                 messenger=RecordingMessenger(), templates=FakeTemplates(), now=NOW)
    assert result["status"] == "skipped" and result["reason"] == "unknown_customer"
    assert send_log(mail_shop.shop_id, "ghost-1").status == "skipped"


# -- consent, unsubscribe, suppression -----------------------------------------------------
def test_no_consent_means_no_marketing_but_transactional_still_goes(deps, mail_shop):
    deliver_order(deps, mail_shop, "taras@example.com", "c-1", marketing_consent=False)
    deliver_order(deps, mail_shop, "iryna@example.com", "c-2")
    taras, iryna = (customer_id(deps, mail_shop.shop_id, e) for e in ("taras@example.com", "iryna@example.com"))
    ProfileItem.get(keys.customer_pk(mail_shop.shop_id, iryna), keys.PROFILE_SK).update(
        actions=[ProfileItem.marketing_consent.remove()])  # consent unknown (None), on the version read
    messenger = RecordingMessenger()

    for customer in (taras, iryna):
        result = mailer.send_message(deps, queue_message(mail_shop.shop_id, customer, f"promo-{customer}"),
                                     messenger=messenger, templates=FakeTemplates(), now=NOW)
        assert result["status"] == "skipped" and result["reason"] == "no_consent"
        receipt = mailer.send_message(deps, queue_message(mail_shop.shop_id, customer, f"receipt-{customer}",
                                                    template="post_purchase", category="transactional"),
                                      messenger=messenger, templates=FakeTemplates(), now=NOW)
        assert receipt["status"] == "sent"
    assert sorted(m["recipient"] for m in messenger.sent) == ["iryna@example.com", "taras@example.com"]


def test_marketing_template_sent_as_transactional_is_still_treated_as_marketing(deps, mail_shop):
    deliver_order(deps, mail_shop, "taras@example.com", "c-3", marketing_consent=False)
    taras = customer_id(deps, mail_shop.shop_id, "taras@example.com")
    result = mailer.send_message(deps, queue_message(mail_shop.shop_id, taras, "winback-1", template="winback",
                                               category="transactional"),
                                 messenger=RecordingMessenger(), templates=FakeTemplates(), now=NOW)
    assert result["status"] == "skipped" and result["reason"] == "no_consent"


def test_unsubscribed_customer_gets_transactional_but_no_marketing(deps, mail_shop, olena):
    MailStore(mail_shop.shop_id).update_prefs(olena, lambda prefs: setattr(prefs, "unsubscribed", True))
    messenger = RecordingMessenger()

    marketing = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, "promo-1"), messenger=messenger,
                                    templates=FakeTemplates(), now=NOW)
    receipt = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, "receipt-1", template="post_purchase",
                                                category="transactional"),
                                  messenger=messenger, templates=FakeTemplates(), now=NOW)

    assert marketing["status"] == "skipped" and marketing["reason"] == "unsubscribed"
    assert receipt["status"] == "sent" and len(messenger.sent) == 1
    assert "List-Unsubscribe" not in messenger.messages()[0]


def test_suppressed_address_gets_no_mail_at_all(deps, mail_shop, olena):
    MailStore(mail_shop.shop_id).suppress("Olena@Example.com ", "complaint", "abuse", NOW)
    messenger = RecordingMessenger()

    for key, template, category in (("promo-2", "special_day", "marketing"),
                                    ("receipt-2", "post_purchase", "transactional")):
        result = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, key, template=template, category=category),
                                     messenger=messenger, templates=FakeTemplates(), now=NOW)
        assert result["status"] == "skipped" and result["reason"] == "suppressed"
        assert send_log(mail_shop.shop_id, key).status == "skipped"
    assert messenger.sent == []


def test_suppression_is_per_shop(deps, client, mail_shop, olena):
    other = register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    deliver_order(deps, other, "olena@example.com", "o-1")
    MailStore(mail_shop.shop_id).suppress("olena@example.com", "hard_bounce", None, NOW)
    result = mailer.send_message(deps, queue_message(other.shop_id, customer_id(deps, other.shop_id, "olena@example.com"), "x-1",
                                               template="post_purchase", category="transactional"),
                                 messenger=RecordingMessenger(), templates=FakeTemplates(), now=NOW)
    assert result["status"] == "sent"


# -- the marketing cap ---------------------------------------------------------------------
def test_cap_allows_three_marketing_mails_per_seven_days(deps, mail_shop, olena):
    messenger = RecordingMessenger()
    templates = FakeTemplates()

    def send(key, when, **kwargs):
        return mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, key, **kwargs), messenger=messenger,
                                   templates=templates, now=when)

    old = [send(f"old-{n}", NOW - timedelta(days=20, hours=n)) for n in range(3)]  # long before the window
    recent = [send(f"new-{n}", NOW - timedelta(days=2 - n)) for n in range(3)]
    fourth = send("new-3", NOW)
    receipt = send("receipt-3", NOW, template="post_purchase", category="transactional")

    assert [r["status"] for r in old + recent] == ["sent"] * 6
    assert fourth["status"] == "skipped" and fourth["reason"] == "marketing_cap"
    assert receipt["status"] == "sent"  # transactional mail is never capped
    assert send("new-4", NOW + timedelta(days=5, hours=1))["status"] == "sent"  # the oldest of the three left the window
    prefs = MailStore(mail_shop.shop_id).load_prefs(olena)
    assert len(prefs.marketing_sends) == 3  # pruned to the window


def test_two_parallel_sends_racing_for_the_last_slot_one_wins(deps, mail_shop, olena):
    messenger = RecordingMessenger()
    for n in range(2):
        assert mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, f"pre-{n}"), messenger=messenger,
                                   templates=FakeTemplates(), now=NOW - timedelta(hours=n + 1))["status"] == "sent"
    barrier = threading.Barrier(2)

    def race(key):
        barrier.wait()
        return mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, key), messenger=messenger,
                                   templates=FakeTemplates(), now=NOW)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(race, ["race-a", "race-b"]))

    assert sorted(r["status"] for r in results) == ["sent", "skipped"]
    assert [r["reason"] for r in results if r["status"] == "skipped"] == ["marketing_cap"]
    assert len(messenger.sent) == 3


def test_the_same_message_twice_in_parallel_sends_once(deps, mail_shop, olena):
    messenger = RecordingMessenger()
    message = queue_message(mail_shop.shop_id, olena, "twin-1")
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            return mailer.send_message(deps, message, messenger=messenger, templates=FakeTemplates(), now=NOW)["status"]
        except SendInProgress:
            return "in_progress"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(lambda _: run(), range(2)))

    assert outcomes in (["duplicate", "sent"], ["in_progress", "sent"])
    assert len(messenger.sent) == 1


def test_request_counts_per_send(deps, mail_shop, olena, monkeypatch):
    from chalicelib.services.shops.sender_domains import hold_reason

    calls = count_dynamodb_requests(monkeypatch)

    hold_reason(deps, load_shop(deps, mail_shop.shop_id))  # warm the shop and sender caches, as in a running Lambda
    calls.clear()
    message = queue_message(mail_shop.shop_id, olena, "count-1")
    mailer.send_message(deps, message, messenger=RecordingMessenger(), templates=FakeTemplates(), now=NOW)
    # one read (profile, lots, preferences), the claim (no send log yet), the final write
    assert calls == ["Query", "TransactWriteItems", "TransactWriteItems"]
    calls.clear()
    sent = RecordingMessenger()
    result = mailer.send_message(deps, message, messenger=sent, templates=FakeTemplates(), now=NOW)
    # a redelivery: the claim is refused, and only then is the send log read
    assert result["status"] == "duplicate" and sent.sent == []
    assert calls == ["Query", "TransactWriteItems", "TransactGetItems"]


# -- SES delivery events -------------------------------------------------------------------
def _ses_event(event_type: str, message_id: str, recipient: str, shop_id: str, customer: str, *,
               send_key: Optional[str] = None, **body) -> dict:
    """``send_key``: the idempotency key the sender put in the tags (none: an e-mail sent before the tag)."""
    tags = {"shop": [shop_id], "customer": [customer], "template": ["special_day"],
            "ses:configuration-set": ["loyalty-mail"]}
    if send_key is not None:
        tags["send"] = [encode_key(send_key)]
    event = {
        "eventType": event_type,
        "mail": {"timestamp": "2026-11-25T10:00:01.000Z", "source": f"Demo <{SENDER}>", "messageId": message_id,
                 "destination": [recipient], "headersTruncated": False, "tags": tags},
    }
    event.update(body)
    return event


def _bounce(bounce_type: str, recipient: str, sub_type: str = "General") -> dict:
    return {"bounce": {"bounceType": bounce_type, "bounceSubType": sub_type, "timestamp": "2026-11-25T10:00:05.000Z",
                       "feedbackId": "0100-feedback",
                       "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "status": "5.1.1",
                                              "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}}


def _sns(event: dict) -> dict:
    return {"Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn:aws:sns:eu-central-1:123456789012:ses",
            "Message": json.dumps(event), "Timestamp": "2026-11-25T10:00:06.000Z"}


def _eventbridge(event: dict, detail_type: str) -> dict:
    return {"version": "0", "id": "eb-1", "detail-type": detail_type, "source": "aws.ses",
            "account": "123456789012", "time": "2026-11-25T10:00:06Z", "region": "eu-central-1",
            "resources": [], "detail": event}


def _sent(deps, shop, customer, key, messenger, **kwargs) -> str:
    result = mailer.send_message(deps, queue_message(shop.shop_id, customer, key, **kwargs), messenger=messenger,
                                 templates=FakeTemplates(), now=NOW)
    assert result["status"] == "sent"
    return result["ses_message_id"]


def test_hard_bounce_via_sns_suppresses_all_further_mail(deps, mail_shop, olena):
    messenger = RecordingMessenger()
    message_id = _sent(deps, mail_shop, olena, "promo-b1", messenger)

    result = delivery_events.handle_ses_event(deps, json.dumps(_sns(_ses_event(
        "Bounce", message_id, "olena@example.com", mail_shop.shop_id, olena, send_key="promo-b1",
        **_bounce("Permanent", "olena@example.com")))))

    assert result["status"] == "applied" and result["effects"] == ["suppressed", "bounced"]
    log = send_log(mail_shop.shop_id, "promo-b1")
    assert log.status == "bounced" and "General" in log.reason
    for key, template, category in (("promo-b2", "special_day", "marketing"),
                                    ("receipt-b2", "post_purchase", "transactional")):
        after = mailer.send_message(deps, queue_message(mail_shop.shop_id, olena, key, template=template, category=category),
                                    messenger=messenger, templates=FakeTemplates(), now=NOW)
        assert after["status"] == "skipped" and after["reason"] == "suppressed"
    assert len(messenger.sent) == 1


def test_complaint_via_eventbridge_suppresses(deps, mail_shop, olena):
    messenger = RecordingMessenger()
    message_id = _sent(deps, mail_shop, olena, "promo-c1", messenger)
    complaint = {"complaint": {"complainedRecipients": [{"emailAddress": "olena@example.com"}],
                               "timestamp": "2026-11-25T11:00:00.000Z", "feedbackId": "0100-c",
                               "complaintFeedbackType": "abuse"}}

    result = delivery_events.handle_ses_event(deps, _eventbridge(
        _ses_event("Complaint", message_id, "olena@example.com", mail_shop.shop_id, olena, send_key="promo-c1",
                   **complaint),
        "Email Complaint Received"))

    assert result["effects"] == ["suppressed", "complained"]
    assert send_log(mail_shop.shop_id, "promo-c1").status == "complained"
    assert MailStore(mail_shop.shop_id).is_suppressed("olena@example.com")
    late_delivery = _eventbridge(_ses_event("Delivery", message_id, "olena@example.com", mail_shop.shop_id, olena,
                                            send_key="promo-c1",
                                            delivery={"recipients": ["olena@example.com"]}), "Email Delivered")
    delivery_events.handle_ses_event(deps, late_delivery)  # events come unordered: no step back to "delivered"
    assert send_log(mail_shop.shop_id, "promo-c1").status == "complained"


def test_soft_bounce_is_counted_not_suppressed(deps, mail_shop, olena):
    message_id = _sent(deps, mail_shop, olena, "promo-s1", RecordingMessenger())

    result = delivery_events.handle_ses_event(deps, _ses_event(
        "Bounce", message_id, "olena@example.com", mail_shop.shop_id, olena, send_key="promo-s1",
        **_bounce("Transient", "olena@example.com", "MailboxFull")))

    assert result["effects"] == ["soft_bounce_counted", "bounced"]
    assert MailStore(mail_shop.shop_id).load_prefs(olena).soft_bounces == 1
    assert not MailStore(mail_shop.shop_id).is_suppressed("olena@example.com")


def test_delivery_open_and_click_are_recorded(deps, mail_shop, olena):
    message_id = _sent(deps, mail_shop, olena, "promo-d1", RecordingMessenger())
    common = (message_id, "olena@example.com", mail_shop.shop_id, olena)

    delivery_events.handle_ses_event(deps, _sns(_ses_event("Delivery", *common, send_key="promo-d1",
                                                           delivery={"recipients": ["olena@example.com"]})))
    for _ in range(2):
        delivery_events.handle_ses_event(deps, _ses_event("Open", *common, send_key="promo-d1",
                                                          open={"ipAddress": "192.0.2.1"}))
    delivery_events.handle_ses_event(deps, _eventbridge(_ses_event("Click", *common, send_key="promo-d1",
                                                                   click={"link": "https://shop.example"}),
                                                        "Email Clicked"))

    log = send_log(mail_shop.shop_id, "promo-d1")
    assert (log.status, log.opens, log.clicks) == ("delivered", 2, 1)


def test_events_for_unknown_messages_are_ignored(deps, mail_shop):
    event = {"eventType": "Bounce", "mail": {"messageId": "not-ours"}, **_bounce("Permanent", "x@example.com")}
    assert delivery_events.handle_ses_event(deps, event)["status"] == "ignored"
    assert delivery_events.handle_ses_event(deps, {"Type": "SubscriptionConfirmation"})["status"] == "ignored"
    assert delivery_events.handle_ses_event(deps, "{broken")["status"] == "ignored"
    assert not MailStore(mail_shop.shop_id).is_suppressed("x@example.com")


def test_hard_bounce_without_the_lookup_still_suppresses_by_the_shop_tag(deps, mail_shop, olena):
    # The sender died after SES took the message, so no SESMSG lookup exists.
    event = _ses_event("Bounce", "lost-message", "olena@example.com", mail_shop.shop_id, olena,
                       **_bounce("Permanent", "olena@example.com"))
    assert delivery_events.handle_ses_event(deps, _sns(event))["effects"] == ["suppressed"]
    assert MailStore(mail_shop.shop_id).is_suppressed("olena@example.com")


def test_token_in_the_message_carries_no_email(deps, mail_shop, olena):
    messenger = RecordingMessenger()
    _sent(deps, mail_shop, olena, "promo-t1", messenger)
    header = str(messenger.messages()[0]["List-Unsubscribe"])
    token = header.split("/u/", 1)[1].split(">", 1)[0]
    payload = base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()
    assert "olena" not in payload.lower() and "@" not in payload and "olena" not in token.lower()
    assert olena in payload and mail_shop.shop_id in payload
