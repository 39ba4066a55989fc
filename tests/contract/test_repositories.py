"""What services rely on from the repositories, whichever store holds the items: optimistic
versions refuse a stale writer, idempotency records refuse a second delivery, and a cancelled
conditional transaction leaves nothing of itself behind."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.domain.loyalty.account import Account
from chalicelib.store.loyalty.repository import Change, ConcurrentChange
from chalicelib.store.shops.shops import ShopChanged, StoredShop
from chalicelib.store.templates.templates import OverrideChanged
from chalicelib.store.templates.test_recipients import TestRecipient
from tests.support.clock import T0

SHOP = "contract-shop"


def _new_account(customer_id: str = "c_1") -> Account:
    return Account(SHOP, customer_id, created_at=T0, email="olena@example.com")


def _earning(account: Account, points: int, event_id: str) -> Change:
    account.earn(points, lot_id=event_id, cause=f"order:{event_id}", now=T0, expires_at=T0 + timedelta(days=365))
    return Change(account=account, event_id=event_id, event_topic="orders/paid")


def test_a_committed_change_reads_back_with_its_version_and_ledger(repos):
    loyalty = repos.loyalty(SHOP)
    loyalty.commit(_earning(_new_account(), 120, "e-1"), T0)
    stored = loyalty.load_account("c_1")
    assert (stored.points_balance, stored.version) == (120, 1)
    assert [(entry.kind, entry.points) for entry in loyalty.ledger_page("c_1", 10, None).entries] == [("earn", 120)]
    assert loyalty.event_seen("e-1") and not loyalty.event_seen("e-2")


def test_a_stale_account_is_refused_and_nothing_of_its_change_lands(repos):
    loyalty = repos.loyalty(SHOP)
    loyalty.commit(_earning(_new_account(), 100, "e-1"), T0)
    first, second = loyalty.load_account("c_1"), loyalty.load_account("c_1")
    loyalty.commit(_earning(first, 10, "e-2"), T0)
    with pytest.raises(ConcurrentChange):
        loyalty.commit(_earning(second, 5, "e-3"), T0)
    stored = loyalty.load_account("c_1")
    assert (stored.points_balance, stored.version) == (110, 2)
    assert not loyalty.event_seen("e-3")  # the event record was in the cancelled transaction
    assert len(loyalty.ledger_page("c_1", 10, None).entries) == 2


def test_a_second_account_created_from_nothing_is_refused(repos):
    loyalty = repos.loyalty(SHOP)
    loyalty.commit(_earning(_new_account(), 100, "e-1"), T0)
    with pytest.raises(ConcurrentChange):
        loyalty.commit(_earning(_new_account(), 7, "e-2"), T0)
    assert loyalty.load_account("c_1").points_balance == 100


def test_an_event_is_applied_once(repos):
    loyalty = repos.loyalty(SHOP)
    loyalty.commit(_earning(_new_account(), 100, "e-1"), T0)
    again = loyalty.load_account("c_1")
    with pytest.raises(ConcurrentChange):
        loyalty.commit(_earning(again, 100, "e-1"), T0)
    assert loyalty.load_account("c_1").points_balance == 100


def _shop(version: int, name: str) -> StoredShop:
    return StoredShop(SHOP, {"platform": "shopify", "created_at": T0.isoformat(), "name": name}, {}, version)


def test_a_shop_is_created_once_and_saved_only_on_the_version_read(repos):
    shops = repos.shops()
    created = _shop(0, "First")
    shops.save(created)
    assert created.version == 1
    with pytest.raises(ShopChanged):
        shops.save(_shop(0, "Second creation"))
    read_a, read_b = shops.get(SHOP), shops.get(SHOP)
    read_a.config["name"] = "Renamed"
    shops.save(read_a)
    read_b.config["name"] = "Stale rename"
    with pytest.raises(ShopChanged):
        shops.save(read_b)
    stored = shops.get(SHOP)
    assert (stored.config["name"], stored.version) == ("Renamed", 2)
    assert shops.list_ids() == [(SHOP, "shopify")]


def test_a_template_saved_on_a_stale_version_is_refused_with_its_revision(repos):
    templates = repos.templates(SHOP)
    templates.save("post_purchase", "<mjml>one</mjml>", 0, T0, saved_by="olena")
    templates.save("post_purchase", "<mjml>two</mjml>", 1, T0 + timedelta(minutes=1))
    with pytest.raises(OverrideChanged):
        templates.save("post_purchase", "<mjml>stale</mjml>", 1, T0 + timedelta(minutes=2))
    with pytest.raises(OverrideChanged):
        templates.save("special_day", "<mjml>x</mjml>", 3, T0)
    assert templates.get("post_purchase").mjml == "<mjml>two</mjml>"
    assert [revision.version for revision in templates.revisions("post_purchase")] in ([2, 1], [1, 2])
    assert templates.get("special_day") is None


def test_a_rate_counter_stops_at_its_limit(repos):
    counters = repos.rate_counters()
    taken = [counters.take("code-check", 7, 3, 1_000) for _ in range(5)]
    assert taken == [True, True, True, False, False]
    assert counters.take("code-check", 8, 3, 1_060)  # the next window starts empty


def test_idempotent_records_are_written_once(repos):
    recipients = repos.test_recipients(SHOP)
    recipient = TestRecipient(SHOP, "qa+1@example.com", "pending", "nonce-1", T0)
    assert recipients.save(recipient, only_if_new=True)
    assert not recipients.save(TestRecipient(SHOP, "QA+1@example.com", "pending", "nonce-2", T0), only_if_new=True)
    assert recipients.get("qa+1@example.com").nonce == "nonce-1"

    privacy = repos.privacy(SHOP)
    assert privacy.add_data_request("req-1", "c_1", T0, {"step": 1})
    assert not privacy.add_data_request("req-1", "c_1", T0, {"step": 2})
    assert privacy.data_request("req-1").state == {"step": 1}


def test_results_counters_add_up_across_shards(repos):
    results = repos.results(SHOP, "campaign:spring")
    for n in range(12):
        results.add("sent", spread_by=f"key-{n}")
    results.add_many({"opened": 3, "clicked": 1}, spread_by="key-x")
    assert results.totals() == Counter({"sent": 12, "opened": 3, "clicked": 1})


def test_results_note_when_an_outcome_was_last_counted_the_latest_over_the_shards(repos):
    from datetime import datetime, timedelta, timezone

    results = repos.results(SHOP, "flow:winback")
    first = datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=timezone.utc)
    results.add_many({"sent": 1}, spread_by="key-1", last_at=first + timedelta(hours=2))
    results.add_many({"sent": 1}, spread_by="key-2", last_at=first)  # counted later, sent earlier
    results.add_many({"skipped_flow_off": 1}, spread_by="key-3")
    totals, last = results.totals_and_last()
    assert totals == Counter({"sent": 2, "skipped_flow_off": 1})
    assert last == {"sent": first + timedelta(hours=2)}


def test_job_checkpoints_and_imports_read_back(repos):
    checkpoints = repos.checkpoints(SHOP)
    assert checkpoints.last_day("expiry") is None
    checkpoints.complete("expiry", "2031-03-14")
    assert checkpoints.last_day("expiry") == "2031-03-14"
    imports = repos.imports(SHOP)
    imports.save("imp-1", {"status": "running", "pages": 2})
    assert imports.get("imp-1")["status"] == "running"
    assert imports.get("imp-2") is None


def test_ledger_pages_follow_each_other_newest_first(repos):
    loyalty = repos.loyalty(SHOP)
    account = _new_account()
    for n in range(5):
        loyalty.commit(_earning(account, 10 + n, f"e-{n}"), T0 + timedelta(minutes=n))
    seen, cursor, sizes = [], None, []
    while True:
        page = loyalty.ledger_page("c_1", 2, cursor)
        sizes.append(len(page.entries))
        seen += [entry.points for entry in page.entries]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [14, 13, 12, 11, 10]
    assert sizes[:3] == [2, 2, 1] and sum(sizes) == 5


def test_the_customer_directory_pages_through_its_index_in_id_order(repos):
    loyalty = repos.loyalty(SHOP)
    for n in range(30):
        loyalty.commit(_earning(_new_account(f"c_{n:03d}"), 5, f"e-{n}"), T0)
    from chalicelib.store import keys

    found = []
    for shard in range(keys.CUSTOMER_SHARDS):
        cursor, previous = None, ""
        while True:
            accounts, cursor = loyalty.customer_page(shard, cursor, 4)
            ids = [account.customer_id for account in accounts]
            assert ids == sorted(ids) and (not ids or ids[0] > previous)
            previous = ids[-1] if ids else previous
            found += ids
            if cursor is None:
                break
    assert sorted(found) == [f"c_{n:03d}" for n in range(30)]


def test_only_one_of_two_racing_writers_wins(repos):
    from tests.support.webhooks import run_together

    loyalty = repos.loyalty(SHOP)
    loyalty.commit(_earning(_new_account(), 100, "e-0"), T0)
    readers = [loyalty.load_account("c_1") for _ in range(4)]

    def writer(account, n):
        def write():
            try:
                loyalty.commit(_earning(account, 1, f"race-{n}"), T0)
                return "won"
            except ConcurrentChange:
                return "lost"
        return write

    outcomes = run_together([writer(account, n) for n, account in enumerate(readers)])
    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]
    assert loyalty.load_account("c_1").points_balance == 101


def test_the_outbox_sweeper_sees_only_what_was_written_before_its_instant(repos):
    from chalicelib.store import keys

    message = {"idempotency_key": "post_purchase:o-1", "shop_id": SHOP, "customer_id": "c_1",
               "template": "post_purchase", "category": "transactional", "data": {}}
    change = _earning(_new_account(), 10, "e-1")
    change.outbox.append(message)
    repos.loyalty(SHOP).commit(change, T0)
    shard = keys.outbox_shard(message["idempotency_key"])
    outbox = repos.outbox()
    assert outbox.lingering(SHOP, shard, keys.iso(T0 - timedelta(seconds=1))) == []
    [lingering] = outbox.lingering(SHOP, shard, keys.iso(T0 + timedelta(seconds=1)))
    assert lingering["idempotency_key"] == "post_purchase:o-1"
    outbox.clear(lingering["outbox_key"])
    assert outbox.lingering(SHOP, shard, keys.iso(T0 + timedelta(seconds=1))) == []


def test_a_change_counts_on_the_dashboard_once_in_its_transaction(repos):
    from chalicelib.domain.loyalty.dashboard import change_counts, day_of
    from chalicelib.store.loyalty.dashboard import daily_counts

    account = _new_account()
    change = _earning(account, 120, "e-1")
    expected = change_counts(account, T0)
    repos.loyalty(SHOP).commit(change, T0)
    with pytest.raises(ConcurrentChange):  # the same event again: cancelled, so counted nothing
        repos.loyalty(SHOP).commit(_earning(_new_account(), 120, "e-1"), T0)
    assert expected and daily_counts(SHOP, day_of(T0))[day_of(T0)] == Counter(expected)


def test_the_send_reads_account_lots_and_mail_preferences_in_one_query_and_claims_only_new(repos):
    from chalicelib.store.mail.mail_store import ClaimRefused, SendRecord

    loyalty, mail = repos.loyalty(SHOP), repos.mail(SHOP)
    loyalty.commit(_earning(_new_account(), 120, "e-1"), T0)
    account, prefs_item = loyalty.load_account_for_send("c_1")
    assert (account.points_balance, len(account.lots)) == (120, 1) and prefs_item is None  # no preferences yet
    mail.update_prefs("c_1", lambda prefs: setattr(prefs, "unsubscribed", True))
    account, prefs_item = loyalty.load_account_for_send("c_1")
    prefs = mail.prefs_from_item("c_1", prefs_item)
    assert prefs.unsubscribed and prefs.version == 1 and account.points_balance == 120
    assert loyalty.load_account_for_send("c_unknown") == (None, None)

    record = SendRecord(shop_id=SHOP, idempotency_key="k-1", customer_id="c_1", template="post_purchase",
                        category="transactional", campaign_id=None, status="new", created_at=T0)
    claimed = mail.claim(record, None, "olena@example.com", T0, timedelta(seconds=120), only_if_new=True)
    # a second claim on the same key, even after the lease ran out, is refused when only new ones may claim
    with pytest.raises(ClaimRefused) as refused:
        mail.claim(record, None, "olena@example.com", T0 + timedelta(hours=1), timedelta(seconds=120),
                   only_if_new=True)
    assert refused.value.suppressed is False
    assert not mail.record_final(record, "skipped", "test", T0 + timedelta(hours=1), only_if_new=True)
    assert mail.load_send("k-1").claim_id == claimed.claim_id


def test_spend_days_round_trip_and_month_buckets_of_older_items_read_onto_days(repos):
    """Rolling tiers (domain/loyalty/tier_window.py): day buckets read back as written; a profile
    and an order record stored with calendar months read as their months' first days."""
    from datetime import date

    from chalicelib.domain.loyalty.order_record import PAID, OrderRecord
    from chalicelib.store import keys
    from chalicelib.store.models import OrderItem, ProfileItem

    loyalty = repos.loyalty(SHOP)
    account = _new_account()
    account.spend_by_day = {date(2031, 2, 28): 1_500, date(2031, 3, 1): 2_500}
    order = OrderRecord(SHOP, "o-1", customer_id="c_1", status=PAID, paid_at=T0, spend_day=date(2031, 3, 1))
    loyalty.commit(Change(account=account, order=order), T0)
    assert loyalty.load_profile("c_1").spend_by_day == {date(2031, 2, 28): 1_500, date(2031, 3, 1): 2_500}
    assert loyalty.load_order("o-1").spend_day == date(2031, 3, 1)

    profile = ProfileItem.get(keys.customer_pk(SHOP, "c_1"), keys.PROFILE_SK)
    profile.spend_by_day, profile.spend_by_month = {"2031-03-01": 100}, {"2031-02": 4_000, "2031-03": 2_400}
    profile.save()
    item = OrderItem.get(keys.order_pk(SHOP, "o-1"), keys.ORDER_SK)
    item.state = {**{k: v for k, v in item.state.items() if k != "spend_day"}, "spend_month": "2031-02"}
    item.save()
    assert loyalty.load_profile("c_1").spend_by_day == {date(2031, 2, 1): 4_000, date(2031, 3, 1): 2_500}
    assert loyalty.load_order("o-1").spend_day == date(2031, 2, 1)


def test_a_customers_sends_list_newest_first_with_their_state_and_texts_stay_with_versions(repos):
    from chalicelib.store.mail.mail_store import SendRecord

    mail = repos.mail(SHOP)
    for minutes, (customer, key) in enumerate([("c_1", "flow:post_purchase:o1"), ("c_2", "flow:post_purchase:o2"),
                                               ("c_1", "campaign:day1:c_1")]):
        now = T0 + timedelta(minutes=minutes)
        record = SendRecord(SHOP, key, customer, key.split(":")[1], "marketing", None, "claimed", now)
        claimed = mail.claim(record, None, f"{customer}@example.com", now, timedelta(minutes=5))
        mail.mark_sent(claimed, f"ses-{minutes}", now)
    sends = mail.customer_sends("c_1")
    assert [s.idempotency_key for s in sends] == ["campaign:day1:c_1", "flow:post_purchase:o1"]
    assert all(s.status == "sent" for s in sends)
    assert mail.customer_sends("c_1", limit=1)[0].idempotency_key == "campaign:day1:c_1"
    assert mail.customer_sends("c_3") == []

    templates = repos.templates(SHOP)
    templates.save("welcome", None, 0, T0, texts={"de": {"welcome.subject": "Willkommen!"}})
    stored = templates.get("welcome")
    assert stored.mjml is None and stored.texts == {"de": {"welcome.subject": "Willkommen!"}}
    (revision,) = templates.revisions("welcome")
    assert templates.revision("welcome", revision.revision).texts == stored.texts



def test_a_customers_sends_come_from_the_keys_only_index_and_older_sends_from_by_due_day(repos):
    """The send log's entry in its customer's list is keys only (a sent mark or an SES event rewrites
    no copy of it); send logs written before, in by_due_day, are listed with the new ones until
    their TTL removes them."""
    from chalicelib.store import keys
    from chalicelib.store.mail.mail_store import SendRecord
    from chalicelib.store.models import MailSendItem

    mail = repos.mail(SHOP)
    older = T0 - timedelta(days=3)
    MailSendItem(keys.send_log_pk(SHOP, "welcome:c_1"), keys.SEND_LOG_SK, shop_id=SHOP, idempotency_key="welcome:c_1",
                 customer_id="c_1", template="welcome", category="transactional", status="delivered",
                 created_at=keys.iso(older), updated_at=keys.iso(older), ses_message_id="ses-old",
                 gsi1pk=keys.customer_sends_pk(SHOP, "c_1"), gsi1sk=f"{keys.iso(older)}#welcome:c_1").save()
    for minutes, key in enumerate(["flow:post_purchase:o1", "campaign:day1:c_1"]):
        now = T0 + timedelta(minutes=minutes)
        record = SendRecord(SHOP, key, "c_1", key.split(":")[1], "marketing", None, "claimed", now)
        mail.mark_sent(mail.claim(record, None, "c_1@example.com", now, timedelta(minutes=5)), f"ses-{minutes}", now)

    assert [s.idempotency_key for s in mail.customer_sends("c_1")] == [
        "campaign:day1:c_1", "flow:post_purchase:o1", "welcome:c_1"]
    assert [s.status for s in mail.customer_sends("c_1")] == ["sent", "sent", "delivered"]
    assert [s.idempotency_key for s in mail.customer_sends("c_1", limit=2)] == [
        "campaign:day1:c_1", "flow:post_purchase:o1"]
    sent = MailSendItem.get(keys.send_log_pk(SHOP, "campaign:day1:c_1"), keys.SEND_LOG_SK)
    assert (sent.gsi1pk, sent.gsi5pk) == (None, keys.customer_sends_pk(SHOP, "c_1"))

def test_many_customers_mail_preferences_read_in_batches(repos):
    mail = repos.mail(SHOP)
    mail.update_prefs("c_1", lambda prefs: setattr(prefs, "marketing_sends", {"slot-a": "2031-03-14T09:00:00.000000Z"}))
    mail.update_prefs("c_150", lambda prefs: setattr(prefs, "unsubscribed", True))
    wanted = [f"c_{n}" for n in range(1, 251)] + ["c_1"]  # more than one BatchGetItem; a repeat
    prefs = mail.load_prefs_many(wanted)
    assert len(prefs) == 250
    assert prefs["c_1"].marketing_sends == {"slot-a": "2031-03-14T09:00:00.000000Z"}
    assert prefs["c_150"].unsubscribed and not prefs["c_2"].unsubscribed and prefs["c_2"].marketing_sends == {}
    assert repos.mail("other-shop").load_prefs_many(["c_1"])["c_1"].marketing_sends == {}  # one shop's only


def test_results_counters_in_a_change_land_with_it_or_not_at_all(repos):
    from chalicelib.store.campaigns.results import counter_update

    loyalty = repos.loyalty(SHOP)
    first = _earning(_new_account(), 50, "e-1")
    first.counters.append(counter_update(SHOP, "campaign:spring", {"orders": 1, "revenue_minor": 4_990}, "o-1"))
    loyalty.commit(first, T0)
    stale = _earning(_new_account(), 70, "e-2")  # a second "new" account: its transaction is cancelled
    stale.counters.append(counter_update(SHOP, "campaign:spring", {"orders": 1, "revenue_minor": 9_990}, "o-2"))
    with pytest.raises(ConcurrentChange):
        loyalty.commit(stale, T0)
    assert repos.results(SHOP, "campaign:spring").totals() == Counter({"orders": 1, "revenue_minor": 4_990})


def test_a_template_override_is_deleted_whatever_its_version_and_saved_anew_from_zero(repos):
    templates = repos.templates(SHOP)
    templates.save("post_purchase", "<mjml>one</mjml>", 0, T0)
    assert templates.save("post_purchase", "<mjml>two</mjml>", 1, T0 + timedelta(minutes=1)).version == 2
    templates.delete("post_purchase")
    assert templates.get("post_purchase") is None
    assert templates.save("post_purchase", "<mjml>three</mjml>", 0, T0 + timedelta(minutes=2)).version == 1


def test_sends_marked_sent_one_by_one_add_their_counts_up_on_a_shared_shard(repos):
    from chalicelib.store.mail import mail_store
    from chalicelib.store.mail.mail_store import SendRecord

    mail, results = repos.mail(SHOP), repos.results(SHOP, "flow:post_purchase")
    for n in range(3):
        now = T0 + timedelta(seconds=n)
        record = SendRecord(SHOP, f"post_purchase:o{n}", "c_1", "post_purchase", "transactional", None, "new", now)
        claimed = mail.claim(record, None, "olena@example.com", now, timedelta(minutes=2), only_if_new=True)
        write = mail.sent_write(claimed, f"ses-batch-{n}", now)
        # one customer: every count lands on the same shard item
        write.counter = results.addition({"sent": 1}, "c_1", last_at=now)
        mail_store.write_sent(write)
        assert write.written and claimed.status == "sent"

    for n in range(3):
        log = mail.load_send(f"post_purchase:o{n}")
        assert (log.status, log.ses_message_id, log.claim_id) == ("sent", f"ses-batch-{n}", None)
        assert mail_store.find_ses_message(f"ses-batch-{n}").idempotency_key == f"post_purchase:o{n}"
    totals, last = results.totals_and_last()
    assert totals["sent"] == 3 and last["sent"] == T0 + timedelta(seconds=2)  # the latest of the three


def test_a_sent_mark_rides_in_the_next_claim_and_is_written_alone_when_that_claim_is_refused(repos):
    from chalicelib.store.mail import mail_store
    from chalicelib.store.mail.mail_store import ClaimRefused, SendRecord

    mail, results = repos.mail(SHOP), repos.results(SHOP, "flow:post_purchase")

    def record(n):
        return SendRecord(SHOP, f"post_purchase:r{n}", "c_1", "post_purchase", "transactional", None, "new", T0)

    first = mail.claim(record(0), None, "olena@example.com", T0, timedelta(minutes=2), only_if_new=True)
    rider = mail.sent_write(first, "ses-ride-0", T0)
    rider.counter = results.addition({"sent": 1}, "c_1", last_at=T0)
    second = mail.claim(record(1), None, "olena@example.com", T0, timedelta(minutes=2), only_if_new=True,
                        rider=rider)

    assert rider.written  # with the claim
    assert (mail.load_send("post_purchase:r0").status, mail.load_send("post_purchase:r1").status) == ("sent", "claimed")
    assert mail_store.find_ses_message("ses-ride-0").idempotency_key == "post_purchase:r0"
    assert results.totals()["sent"] == 1

    # the next claim's condition fails (a copy of r0: its send log exists): the mark is written alone,
    # and the refusal raised as without it
    rider = mail.sent_write(second, "ses-ride-1", T0)
    with pytest.raises(ClaimRefused) as refusal:
        mail.claim(record(0), None, "olena@example.com", T0, timedelta(minutes=2), only_if_new=True, rider=rider)
    assert not refusal.value.suppressed and rider.written
    assert mail.load_send("post_purchase:r1").status == "sent"
    assert mail_store.find_ses_message("ses-ride-1").idempotency_key == "post_purchase:r1"


def test_the_send_reads_the_same_account_as_the_models_give(repos):
    """``load_account_for_send`` maps the profile and lots from DynamoDB JSON without models
    (store/raw_items.py): the very account ``load_account`` builds from the models, every field set."""
    from dataclasses import replace
    from datetime import date

    loyalty = repos.loyalty(SHOP)
    account = _new_account()
    account.first_name, account.last_name, account.locale, account.timezone = "Олена", "Ко", "uk", "Europe/Kyiv"
    account.marketing_consent, account.birthday = True, date(1990, 2, 28)
    account.platform_customer_ids, account.facts_updated_at = {"shopify:1", "woo:ü"}, T0
    account.points_debt, account.cashback_minor, account.lifetime_spend_minor = 3, 250, 12_345
    account.spend_by_day, account.orders_count, account.last_order_at = {date(2026, 1, 2): 12_345}, 2, T0
    account.birthday_bonus_year, account.winback_for_order_at = 2025, T0 - timedelta(days=3)
    account.tier_name, account.discount_percent, account.tier_review_on = "Gold", "7.5", date(2026, 6, 1)
    account.tier_risk_warned_for, account.bought_skus, account.bought_categories = "Gold", {"SKU-1"}, {"tea"}
    account.referral_code, account.referred_by, account.address_keys = "OLENA1", "c_9", {"kyiv|1"}
    account.signup_bonus_given, account.reviews_count, account.achievements = True, 4, {"first_order"}
    account.member_orders, account.member_shipping_code = {"o-1": {"at": "2026-01-02"}}, "FREESHIP"
    account.converted_subjects = {"campaign:x"}
    change = _earning(account, 120, "e-1")
    account.earn(30, lot_id="e-2", cause="order:e-2", now=T0, expires_at=T0 + timedelta(days=30))
    account.saved_lots["e-1"] = replace(account.saved_lots["e-1"], warned=frozenset({30, 7}))  # a number set
    loyalty.commit(change, T0)

    from_models = loyalty.load_account("c_1")
    for_send, _ = loyalty.load_account_for_send("c_1")
    assert for_send == from_models
    assert for_send.version == 1 and for_send.referral_code == "OLENA1" and for_send.birthday == date(1990, 2, 28)
    assert sorted(lot.warned for lot in for_send.lots) == [frozenset(), frozenset({30, 7})]
