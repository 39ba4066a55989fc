"""``store/mail/mail_store.py`` ``set_send_status`` and ``count_engagement`` as SES's events call them, on
both stores: found from the message's tags they name the SES message (``ses_message_id``) and move only
the send log marked sent with it; found through the SES id lookup they name none, as before."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.store.mail import mail_store

SHOP = "events-shop"
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)


def _sent(store, key: str, ses_message_id: str, *, campaign_id=None) -> None:
    record = mail_store.SendRecord(shop_id=SHOP, idempotency_key=key, customer_id="c_1", template="special_day",
                                   category="marketing", campaign_id=campaign_id, status="new", created_at=NOW)
    claimed = store.claim(record, None, "c_1@example.com", NOW, timedelta(minutes=2), only_if_new=True)
    mail_store.write_sent(store.sent_write(claimed, ses_message_id, NOW, lookup=False))


def test_a_move_named_by_its_message_happens_only_on_the_send_marked_with_it(repos):
    store = repos.mail(SHOP)
    _sent(store, "k:1", "0102-a", campaign_id="spring")
    later = NOW + timedelta(minutes=1)

    assert store.set_send_status("k:1", mail_store.DELIVERED, allowed_from=(mail_store.SENT,), now=later,
                                 ses_message_id="0102-other") is None
    assert store.load_send("k:1").status == mail_store.SENT
    assert store.set_send_status("k:1", mail_store.DELIVERED, allowed_from=(mail_store.SENT,), now=later,
                                 ses_message_id="0102-a") == "campaign:spring"
    assert store.load_send("k:1").status == mail_store.DELIVERED
    assert store.set_send_status("k:missing", mail_store.DELIVERED, allowed_from=(mail_store.SENT,), now=later,
                                 ses_message_id="0102-a") is None
    assert store.load_send("k:missing") is None  # no send log made up by an update


def test_a_move_found_through_the_lookup_names_no_message(repos):
    store = repos.mail(SHOP)
    _sent(store, "k:2", "0102-b")
    assert store.set_send_status("k:2", mail_store.BOUNCED, allowed_from=(mail_store.SENT,), now=NOW,
                                 reason="hard bounce: General") == "flow:special_day"
    assert store.load_send("k:2").status == mail_store.BOUNCED


def test_engagement_named_by_its_message_counts_only_on_the_send_marked_with_it(repos):
    store = repos.mail(SHOP)
    _sent(store, "k:3", "0102-c")
    store.count_engagement("k:3", "open", NOW, ses_message_id="0102-c")
    store.count_engagement("k:3", "open", NOW, ses_message_id="0102-stranger")
    store.count_engagement("k:3", "click", NOW, ses_message_id="0102-stranger")
    store.count_engagement("k:3", "click", NOW)
    store.count_engagement("k:missing", "open", NOW, ses_message_id="0102-c")
    log = store.load_send("k:3")
    assert (log.opens, log.clicks) == (1, 1)
    assert store.load_send("k:missing") is None
