"""The SES events queue's handler a batch at a time, as Lambda calls it (routes/mail.py): each event's
send found from the message's tags (no read), or for e-mails sent before the tag through the SES id
lookups, the batch's in one read; its results counts in one ADD per campaign or flow at its end, and
every send's delivery, bounce or complaint counted exactly once however SQS redelivers the batch.
Most tests run twice (``era``): e-mails sent with the tag, and e-mails sent before it (no tag, the
lookup item written), as both kinds reach the handler while the old lookups live out their TTL."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.mail import message_tags
from chalicelib.routes import mail as mail_routes
from chalicelib.services.mail import delivery_events, mailer
from chalicelib.store import keys
from chalicelib.store.mail import mail_store
from chalicelib.store.mail.mail_store import MailStore
from tests.support.dynamodb_requests import count_dynamodb_requests
from tests.support.mail import FakeTemplates, NOW, RecordingMessenger, queue_message, send_log
from tests.support.mail import mail_shop, olena  # noqa: F401 (fixtures)
from tests.support.ses_events import ses_record, sqs_event

MOMENT = "2026-11-25T10:05:00.000Z"


@pytest.fixture(params=["tagged", "before_the_tag"])
def era(request, monkeypatch):
    """How the e-mails of a test are sent: with their key in the tags (today), or as before the tag
    existed (no tag: the final write puts the SES id lookup)."""
    if request.param == "before_the_tag":
        monkeypatch.setattr(message_tags, "encode_key", lambda key: None)
    return request.param


def _lookup_reads(era: str, batches: int) -> dict:
    return {"BatchGetItem": batches if era == "before_the_tag" else 0, "GetItem": 0}


def _reads(calls) -> dict:
    return {"BatchGetItem": calls.count("BatchGetItem"), "GetItem": calls.count("GetItem")}


def _send(deps, shop_id, customer, keys_and_templates, messenger):
    """Send each (key, template, category); returns what SES got, as the event builders take it."""
    sent = []
    for key, template, category in keys_and_templates:
        result = mailer.send_message(deps, queue_message(shop_id, customer, key, template=template, category=category),
                                     messenger=messenger, templates=FakeTemplates(), now=NOW)
        assert result["status"] == "sent"
        got = messenger.sent[-1]
        sent.append({"message_id": result["ses_message_id"], "source": got["sender"], "recipient": got["recipient"],
                     "configuration_set": got["configuration_set"], "tags": got["tags"], "key": key})
    return sent


def _receipts(deps, shop_id, customer, count, messenger, first=0):
    return _send(deps, shop_id, customer, [(f"receipt-{n}", "post_purchase", "transactional")
                                           for n in range(first, first + count)], messenger)


def _handle(event):
    return mail_routes.delivery_events_handler(event, None)


def _totals(deps, shop_id, subject):
    return deps.repos.results(shop_id, subject).totals()


def test_a_batch_finds_its_sends_with_at_most_one_read_and_counts_each_flow_in_one_add(deps, mail_shop, olena, era,
                                                                                      monkeypatch):
    messenger = RecordingMessenger()
    receipts = _receipts(deps, mail_shop.shop_id, olena, 7, messenger)
    promos = _send(deps, mail_shop.shop_id, olena, [("promo-1", "special_day", "marketing"),
                                                     ("promo-2", "special_day", "marketing")], messenger)
    event = sqs_event([ses_record("Delivery", sent, MOMENT) for sent in receipts + promos]
                      + [ses_record("Open", receipts[0], MOMENT)])
    calls = count_dynamodb_requests(monkeypatch)

    assert _handle(event) == {"batchItemFailures": []}

    # tagged: no read at all; before the tag: one BatchGetItem for the ten lookups. Then one UpdateItem
    # per send log, one ADD per flow or campaign
    assert _reads(calls) == _lookup_reads(era, 1)
    assert calls.count("UpdateItem") == 9 + 1 + 2
    assert _totals(deps, mail_shop.shop_id, "flow:post_purchase")["delivered"] == 7
    assert _totals(deps, mail_shop.shop_id, "campaign:spring-sale")["delivered"] == 2
    assert all(send_log(mail_shop.shop_id, sent["key"]).status == "delivered" for sent in receipts + promos)
    assert send_log(mail_shop.shop_id, receipts[0]["key"]).opens == 1


def test_a_redelivered_batch_moves_and_counts_nothing_again(deps, mail_shop, olena, era):
    receipts = _receipts(deps, mail_shop.shop_id, olena, 5, RecordingMessenger())
    event = sqs_event([ses_record("Delivery", sent, MOMENT) for sent in receipts])
    _handle(event)
    _handle(event)  # SQS brought the whole batch back (the invocation timed out after its writes)
    assert _totals(deps, mail_shop.shop_id, "flow:post_purchase")["delivered"] == 5


def test_a_failed_event_is_reported_its_batch_mates_counted_and_its_redelivery_counted_once(deps, mail_shop, olena,
                                                                                            era, monkeypatch):
    receipts = _receipts(deps, mail_shop.shop_id, olena, 4, RecordingMessenger())
    event = sqs_event([ses_record("Delivery", sent, MOMENT) for sent in receipts]
                      + [ses_record("Bounce:Permanent", receipts[2], MOMENT)])
    failing_key = receipts[1]["key"]
    moved = MailStore.set_send_status

    def throttled_once(self, idempotency_key, status, **options):
        if idempotency_key == failing_key:
            raise ConnectionError("DynamoDB throttled the request")
        return moved(self, idempotency_key, status, **options)

    monkeypatch.setattr(MailStore, "set_send_status", throttled_once)
    answer = _handle(event)
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    totals = _totals(deps, mail_shop.shop_id, "flow:post_purchase")
    assert (totals["delivered"], totals["bounced"]) == (3, 1)  # the hard bounce after its delivery moves it on

    monkeypatch.setattr(MailStore, "set_send_status", moved)
    _handle({"Records": [event["Records"][1]]})  # SQS brings back the failed one alone
    _handle(event)  # and, for good measure, the whole batch once more
    totals = _totals(deps, mail_shop.shop_id, "flow:post_purchase")
    assert (totals["delivered"], totals["bounced"]) == (4, 1)
    assert send_log(mail_shop.shop_id, failing_key).status == "delivered"


def test_bounces_and_complaints_in_one_batch_each_count_once_and_suppress(deps, mail_shop, olena, era):
    receipts = _receipts(deps, mail_shop.shop_id, olena, 3, RecordingMessenger())
    event = sqs_event([ses_record("Bounce:Permanent", receipts[0], MOMENT),
                       ses_record("Bounce:Transient", receipts[1], MOMENT),
                       ses_record("Delivery", receipts[2], MOMENT),
                       ses_record("Complaint", receipts[2], MOMENT)])
    _handle(event)
    _handle(event)
    totals = _totals(deps, mail_shop.shop_id, "flow:post_purchase")
    assert (totals["bounced"], totals["delivered"], totals["complained"]) == (2, 1, 1)
    assert [send_log(mail_shop.shop_id, sent["key"]).status for sent in receipts] == ["bounced", "bounced", "complained"]
    assert MailStore(mail_shop.shop_id).is_suppressed(receipts[0]["recipient"])
    assert MailStore(mail_shop.shop_id).load_prefs(olena).soft_bounces == 1  # the redelivered one found it moved


def test_a_batch_whose_lookups_cannot_be_read_at_once_reads_each_one(deps, mail_shop, olena, monkeypatch):
    monkeypatch.setattr(message_tags, "encode_key", lambda key: None)  # sent before the tag: the lookups decide
    receipts = _receipts(deps, mail_shop.shop_id, olena, 3, RecordingMessenger())

    def unavailable(message_ids):
        raise ConnectionError("BatchGetItem failed")

    monkeypatch.setattr(delivery_events, "find_ses_messages", unavailable)
    calls = count_dynamodb_requests(monkeypatch)
    assert _handle(sqs_event([ses_record("Delivery", sent, MOMENT) for sent in receipts])) == {"batchItemFailures": []}
    assert calls.count("GetItem") == 3
    assert _totals(deps, mail_shop.shop_id, "flow:post_purchase")["delivered"] == 3


def test_unknown_messages_and_bodies_that_are_no_ses_event_are_ignored_in_a_batch(deps, mail_shop, olena, era):
    receipts = _receipts(deps, mail_shop.shop_id, olena, 1, RecordingMessenger())
    stranger = dict(receipts[0], message_id="0102-not-ours")
    event = sqs_event([ses_record("Delivery", receipts[0], MOMENT), ses_record("Delivery", stranger, MOMENT)])
    event["Records"].append(dict(event["Records"][0], messageId="m-junk", body="{not json"))
    event["Records"].append(dict(event["Records"][0], messageId="m-confirm",
                                 body=json.dumps({"Type": "SubscriptionConfirmation", "Message": "confirm"})))
    assert _handle(event) == {"batchItemFailures": []}
    assert _totals(deps, mail_shop.shop_id, "flow:post_purchase")["delivered"] == 1


def test_a_lost_batch_count_is_logged_and_never_makes_the_events_come_back(deps, mail_shop, olena, era,
                                                                          monkeypatch):
    receipts = _receipts(deps, mail_shop.shop_id, olena, 2, RecordingMessenger())
    from chalicelib.store.campaigns.results import Results

    def unavailable(self, counts, spread_by, last_at=None):
        raise ConnectionError("throttled")

    monkeypatch.setattr(Results, "add_many", unavailable)
    assert _handle(sqs_event([ses_record("Delivery", sent, MOMENT) for sent in receipts])) == {"batchItemFailures": []}
    assert all(send_log(mail_shop.shop_id, sent["key"]).status == "delivered" for sent in receipts)


@pytest.mark.parametrize("found", [0, 1, 2])
def test_the_lookups_read_at_once_are_those_read_one_by_one(deps, mail_shop, olena, found, monkeypatch):
    monkeypatch.setattr(message_tags, "encode_key", lambda key: None)  # sent before the tag: lookups written
    sent = _receipts(deps, mail_shop.shop_id, olena, found, RecordingMessenger())
    ids = [s["message_id"] for s in sent] + ["0102-missing"]
    at_once = mail_store.find_ses_messages(ids + ids)  # duplicates asked once
    assert at_once == {message_id: mail_store.find_ses_message(message_id) for message_id in ids[:found]}
    assert all(ref.shop_id == mail_shop.shop_id and ref.customer_id == olena for ref in at_once.values())
    assert keys.ses_message_pk("x") == "SESMSG#x"


def test_every_kind_of_event_moves_its_send_once_however_often_the_batch_comes(deps, mail_shop, olena, era,
                                                                                 monkeypatch):
    receipts = _receipts(deps, mail_shop.shop_id, olena, 4, RecordingMessenger())
    event = sqs_event([ses_record("Delivery", receipts[0], MOMENT), ses_record("Open", receipts[0], MOMENT),
                       ses_record("Click", receipts[0], MOMENT), ses_record("Bounce:Permanent", receipts[1], MOMENT),
                       ses_record("Bounce:Transient", receipts[2], MOMENT), ses_record("Delivery", receipts[3], MOMENT),
                       ses_record("Complaint", receipts[3], MOMENT)])
    calls = count_dynamodb_requests(monkeypatch)

    assert _handle(event) == {"batchItemFailures": []}
    assert _reads(calls) == {**_lookup_reads(era, 1), "GetItem": 1}  # the soft bounce's preferences, as ever
    assert _handle(event) == {"batchItemFailures": []}  # SQS hands the whole batch over again

    logs = [send_log(mail_shop.shop_id, sent["key"]) for sent in receipts]
    assert [log.status for log in logs] == ["delivered", "bounced", "bounced", "complained"]
    assert (logs[0].opens, logs[0].clicks) == (2, 2)  # engagement is at least once, as it always was
    totals = _totals(deps, mail_shop.shop_id, "flow:post_purchase")
    assert (totals["delivered"], totals["bounced"], totals["complained"]) == (2, 2, 1)
    assert MailStore(mail_shop.shop_id).load_prefs(olena).soft_bounces == 1
    assert MailStore(mail_shop.shop_id).is_suppressed(receipts[1]["recipient"])
    assert (mail_store.find_ses_message(receipts[0]["message_id"]) is None) == (era == "tagged")


def test_a_batch_of_both_kinds_reads_the_lookups_of_the_old_ones_only(deps, mail_shop, olena, monkeypatch):
    messenger = RecordingMessenger()
    tagged = _receipts(deps, mail_shop.shop_id, olena, 3, messenger)
    with monkeypatch.context() as before_the_tag:
        before_the_tag.setattr(message_tags, "encode_key", lambda key: None)
        old = _receipts(deps, mail_shop.shop_id, olena, 2, messenger, first=3)
    assert all("send" in sent["tags"] for sent in tagged) and not any("send" in sent["tags"] for sent in old)
    asked = []
    read_at_once = delivery_events.find_ses_messages
    monkeypatch.setattr(delivery_events, "find_ses_messages", lambda ids: asked.extend(ids) or read_at_once(asked))
    calls = count_dynamodb_requests(monkeypatch)

    assert _handle(sqs_event([ses_record("Delivery", sent, MOMENT) for sent in tagged + old])) == {"batchItemFailures": []}

    assert asked == [sent["message_id"] for sent in old]
    assert _reads(calls) == {"BatchGetItem": 1, "GetItem": 0}
    assert _totals(deps, mail_shop.shop_id, "flow:post_purchase")["delivered"] == 5


def test_a_key_too_long_for_a_tag_keeps_its_lookup_and_its_events_find_it(deps, mail_shop, olena):
    long_key = "post_purchase:" + "é" * 100  # 6 tag characters each: past SES's 256
    (sent,) = _send(deps, mail_shop.shop_id, olena, [(long_key, "post_purchase", "transactional")],
                    RecordingMessenger())
    assert "send" not in sent["tags"]
    assert mail_store.find_ses_message(sent["message_id"]).idempotency_key == long_key

    _handle(sqs_event([ses_record("Delivery", sent, MOMENT)]))

    assert send_log(mail_shop.shop_id, long_key).status == "delivered"


@pytest.fixture
def other_shop(client, deps):
    """A second shop whose customer has e-mails with the very keys ``mail_shop``'s have."""
    from tests.support.mail import customer_id, deliver_order, verify_sender
    from tests.support.shops import register_shop

    shop = register_shop(client, "other-shop", "shopify", sender_email="news@other.example")
    verify_sender("news@other.example")
    deliver_order(deps, shop, "petro@example.com", "p-1")
    return shop, customer_id(deps, shop.shop_id, "petro@example.com")


def test_tags_never_reach_another_shops_send_log(deps, mail_shop, olena, other_shop):
    shop, petro = other_shop
    messenger = RecordingMessenger()
    (ours,) = _receipts(deps, mail_shop.shop_id, olena, 1, messenger)
    theirs = _receipts(deps, shop.shop_id, petro, 2, messenger)  # receipt-0 (as ours) and receipt-1
    for forged_tags in (dict(theirs[0]["tags"], shop=mail_shop.shop_id),  # their message, our shop named
                        dict(theirs[1]["tags"], shop=mail_shop.shop_id, customer=olena)):  # a key we lack
        forged = dict(theirs[0], tags=forged_tags)
        for kind in ("Delivery", "Open", "Bounce:Transient", "Complaint"):
            _handle(sqs_event([ses_record(kind, forged, MOMENT)]))

    assert [send_log(shop.shop_id, sent["key"]).status for sent in theirs] == ["sent", "sent"]
    assert send_log(shop.shop_id, theirs[0]["key"]).opens == 0
    assert send_log(mail_shop.shop_id, ours["key"]).status == "sent"  # same key, not its message
    assert _totals(deps, shop.shop_id, "flow:post_purchase")["delivered"] == 0
    assert _totals(deps, mail_shop.shop_id, "flow:post_purchase")["delivered"] == 0


def test_an_event_for_another_message_with_a_sends_tags_moves_nothing(deps, mail_shop, olena):
    # A copy sent again after a crash (its first send never marked) has the same tags, its own id:
    # as with the lookup, only the message the send log was marked sent with moves it.
    (sent,) = _receipts(deps, mail_shop.shop_id, olena, 1, RecordingMessenger())
    copy = dict(sent, message_id="0102-the-copy-nobody-marked")

    _handle(sqs_event([ses_record(kind, copy, MOMENT) for kind in ("Delivery", "Open", "Bounce:Transient")]))

    log = send_log(mail_shop.shop_id, sent["key"])
    assert (log.status, log.opens) == ("sent", 0)
    assert MailStore(mail_shop.shop_id).load_prefs(olena).soft_bounces == 0
    _handle(sqs_event([ses_record("Delivery", sent, MOMENT)]))
    assert send_log(mail_shop.shop_id, sent["key"]).status == "delivered"


@pytest.mark.parametrize("send_tag", ["", "receipt-3A0", "post_purchase:1", "-zz", "x" * 300])
def test_a_send_tag_that_no_key_was_encoded_to_falls_back_to_the_lookup(deps, mail_shop, olena, send_tag):
    (sent,) = _receipts(deps, mail_shop.shop_id, olena, 1, RecordingMessenger())
    garbled = dict(sent, tags=dict(sent["tags"], send=send_tag))

    result = delivery_events.handle_ses_event(deps, sqs_event([ses_record("Delivery", garbled, MOMENT)])
                                              ["Records"][0]["body"])

    assert result == {"status": "ignored", "reason": "unknown_message", "event": "Delivery"}
    assert send_log(mail_shop.shop_id, sent["key"]).status == "sent"
