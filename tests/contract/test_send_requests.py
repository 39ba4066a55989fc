"""The claim's and the final write's TransactWriteItems, built from parts prepared once per table
(``mail_store._PreparedRequests``), are the very requests PynamoDB's objects build for them: the same
actions, conditions, names, values and items, byte for byte as JSON, for a new send, a lapsed lease,
marketing preferences with the cap, with and without the previous e-mail's final write riding along,
and the batch's last final write alone; a final write with the SES id lookup (a key too long for the
message's tags, domain/mail/message_tags.py) and without it (the key in the tags: today's sends). Each is also committed on the store (emulator and in-memory)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.store import counters, keys, lean_requests
from chalicelib.store.campaigns.results import counter_update
from chalicelib.store.connection import lean_connection
from chalicelib.store.mail import mail_store
from chalicelib.store.models import MailSendItem, OutboxItem, SesMessageItem, SuppressionItem, over_version
from chalicelib.store.transaction import Transaction

SHOP = "req-shop"
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
LEASE = timedelta(minutes=2)


def _models_claim(record, claimed, email, prefs, only_if_new, rider) -> Transaction:
    """The claim's transaction as PynamoDB's objects build it (the claim before its parts were prepared)."""
    write = _Collected()
    write.condition_check(SuppressionItem, keys.suppression_pk(SHOP, mail_store.email_hash(email)),
                          keys.SUPPRESSION_SK, condition=SuppressionItem.pk.does_not_exist())
    condition = MailSendItem.pk.does_not_exist() if only_if_new else (
        MailSendItem.pk.does_not_exist() | (MailSendItem.status == mail_store.HELD) | (
            (MailSendItem.status == mail_store.CLAIMED) & (MailSendItem.claimed_until < keys.iso(NOW))))
    write.put(MailSendItem, mail_store._send_values(claimed, NOW), condition=condition)
    if prefs is not None:
        write.save(over_version(mail_store._prefs_item(prefs), prefs.version))
    if rider is not None:
        _models_sent(write, rider)
    return write


def _models_sent(write, sent) -> None:
    send = sent.send
    if sent.outbox_key is not None:
        write.delete(OutboxItem(sent.outbox_key["pk"], sent.outbox_key["sk"]))
    if sent.lookup:
        write.put(SesMessageItem, {"pk": keys.ses_message_pk(sent.ses_message_id), "sk": keys.SES_MESSAGE_SK,
                                   "shop_id": send.shop_id, "idempotency_key": send.idempotency_key,
                                   "customer_id": send.customer_id, "created_at": keys.iso(sent.now),
                                   "ttl": int((sent.now + timedelta(days=mail_store.SES_LOOKUP_DAYS)).timestamp())})
    write.update(MailSendItem(keys.send_log_pk(send.shop_id, send.idempotency_key), keys.SEND_LOG_SK),
                 actions=[MailSendItem.status.set(mail_store.SENT), MailSendItem.ses_message_id.set(sent.ses_message_id),
                          MailSendItem.sent_at.set(keys.iso(sent.now)), MailSendItem.updated_at.set(keys.iso(sent.now)),
                          MailSendItem.claim_id.remove(), MailSendItem.claimed_until.remove(),
                          MailSendItem.reason.remove()])
    if sent.counter is not None:
        counters.add_in(write, sent.counter)


class _Collected(Transaction):
    """A transaction that only collects its actions: the request, made by ``lean_connection()``."""

    def __init__(self):
        super().__init__(lean_connection())

    def request(self) -> dict:
        sent = []

        def captured(client, operation, parameters, full_client_call=None):
            sent.append(parameters)
            return {}

        original = lean_requests.call
        lean_requests.call = captured
        try:
            self.commit()
        finally:
            lean_requests.call = original
        return sent[0]


@pytest.fixture
def sent_requests(monkeypatch):
    """Every TransactWriteItems the lean connection sends, as its parameters (the token left out)."""
    sent = []
    original = lean_requests.call

    def recorded(client, operation, parameters, full_client_call=None):
        if operation == "TransactWriteItems":
            sent.append(parameters)
        return original(client, operation, parameters, full_client_call)

    monkeypatch.setattr(lean_requests, "call", recorded)
    return sent


def _wire(parameters: dict) -> str:
    return json.dumps({k: v for k, v in parameters.items() if k != "ClientRequestToken"}, separators=(",", ":"))


def _record(key: str, customer: str = "c_ü+1", **changes) -> mail_store.SendRecord:
    return mail_store.SendRecord(**{**dict(shop_id=SHOP, idempotency_key=key, customer_id=customer,
                                           template="post_purchase", category="transactional", campaign_id=None,
                                           status="new", created_at=NOW), **changes})


def _rider(store, key: str, *, outbox: bool, counted: bool, lookup: bool = False) -> mail_store.SentWrite:
    send = store.claim(_record(key), None, "rider@example.com", NOW, LEASE, only_if_new=True)
    outbox_key = {"pk": f"OUTBOX#{SHOP}#{key}", "sk": "MAIL#1"} if outbox else None
    if outbox_key:
        OutboxItem(outbox_key["pk"], outbox_key["sk"], message={"kind": "x"}, created_at=keys.iso(NOW)).save()
    final = store.sent_write(send, f"ses-{key}", NOW + timedelta(seconds=3), outbox_key=outbox_key, lookup=lookup)
    if counted:
        final.counter = counter_update(SHOP, "flow:post_purchase", {"sent": 1}, send.customer_id, last_at=NOW)
    return final


@pytest.mark.parametrize("case", ["new", "lapsed lease", "marketing with the cap", "new with a rider",
                                  "lapsed lease with a rider, no outbox, no counter",
                                  "new with a rider and its lookup"])
def test_the_claim_sends_the_request_the_models_build(repos, sent_requests, case):
    store = repos.mail(SHOP)
    key = f"key-{case.replace(' ', '-')}-ї"
    previous, prefs, rider = None, None, None
    if "lapsed" in case:  # an earlier claim whose lease ran out: the claim goes by the claimable condition
        previous = store.claim(_record(key), None, "a@example.com", NOW - LEASE * 3, LEASE, only_if_new=True)
    if "marketing" in case:
        store.update_prefs("c_ü+1", lambda p: p.marketing_sends.update({"slot-a": keys.iso(NOW - timedelta(days=1))}))
        prefs = store.load_prefs("c_ü+1")
        prefs.marketing_sends = {**prefs.marketing_sends, "slot-b": keys.iso(NOW)}
    if "rider" in case:
        rider = _rider(store, key + "-before", outbox="no outbox" not in case, counted="no counter" not in case,
                       lookup="lookup" in case)
    record = _record(key, category="marketing" if prefs else "transactional")
    only_if_new = previous is None
    expected_prefs = None if prefs is None else mail_store.MailPrefs(**prefs.__dict__)
    sent_requests.clear()

    claimed = store.claim(record, previous, "Buyer+news@Example.com", NOW, LEASE, prefs, only_if_new=only_if_new,
                          rider=rider)

    expected_claim = mail_store.SendRecord(**{**claimed.__dict__})  # (its claim id and lease are the claim's own)
    expected_rider = None
    if rider is not None:
        assert rider.written
        expected_rider = mail_store.SentWrite(rider.send, rider.ses_message_id, rider.now, rider.outbox_key,
                                              rider.counter, lookup=rider.lookup)
    (request,) = sent_requests
    reference = _models_claim(record, expected_claim, "Buyer+news@Example.com", expected_prefs, only_if_new,
                              expected_rider).request()
    assert _wire(request) == _wire(reference)
    assert len(request["TransactItems"]) == 2 + (prefs is not None) + (0 if rider is None else 1 + rider.lookup + (
        rider.outbox_key is not None) + (rider.counter is not None))
    assert store.load_send(key).status == mail_store.CLAIMED
    if rider is not None:
        assert store.load_send(rider.send.idempotency_key).status == mail_store.SENT
        found = mail_store.find_ses_message(rider.ses_message_id)
        assert (found.idempotency_key if found else None) == (rider.send.idempotency_key if rider.lookup else None)


@pytest.mark.parametrize("outbox, counted, lookup", [(True, True, False), (False, False, False), (True, True, True),
                                                     (False, False, True)])
def test_the_final_write_alone_sends_the_request_the_models_build(repos, sent_requests, outbox, counted, lookup):
    store = repos.mail(SHOP)
    final = _rider(store, f"alone-{outbox}-{lookup}", outbox=outbox, counted=counted, lookup=lookup)
    sent_requests.clear()

    mail_store.write_sent(final)

    reference = _Collected()
    _models_sent(reference, final)
    (request,) = sent_requests
    assert _wire(request) == _wire(reference.request())
    assert len(request["TransactItems"]) == 1 + lookup + outbox + counted
    assert store.load_send(final.send.idempotency_key).status == mail_store.SENT
    assert store.load_send(final.send.idempotency_key).ses_message_id == final.ses_message_id
    found = mail_store.find_ses_message(final.ses_message_id)
    assert (found.idempotency_key if found else None) == (final.send.idempotency_key if lookup else None)


def test_two_sends_differ_only_in_their_own_values(sent_requests, repos):
    """The prepared parts are shared, never changed by a send: a second claim does not see the first's."""
    store = repos.mail(SHOP)
    store.claim(_record("one"), None, "one@example.com", NOW, LEASE, only_if_new=True)
    store.claim(_record("two", customer="c_2"), None, "two@example.com", NOW + timedelta(hours=1), LEASE,
                only_if_new=True)
    first, second = (json.loads(_wire(request)) for request in sent_requests)
    assert first["TransactItems"][1]["Put"]["Item"]["pk"] == {"S": keys.send_log_pk(SHOP, "one")}
    assert second["TransactItems"][1]["Put"]["Item"]["pk"] == {"S": keys.send_log_pk(SHOP, "two")}
    assert first["TransactItems"][0]["ConditionCheck"]["Key"] != second["TransactItems"][0]["ConditionCheck"]["Key"]


def _paged_answers(monkeypatch, pages: list[dict]) -> list[dict]:
    """The lean connection's Query answered with ``pages`` in turn; each request recorded."""
    asked = []

    def answer(client, operation, parameters, full_client_call=None):
        asked.append(parameters)
        return dict(pages[(len(asked) - 1) % len(pages)])

    monkeypatch.setattr(lean_requests, "call", answer)
    return asked


def test_the_send_reads_query_is_the_one_pynamodb_builds_page_after_page(monkeypatch):
    from chalicelib.store.connection import partition_range_raw_items
    from tests.support.partition_query import partition_raw_items
    from chalicelib.store.models import Item

    low, high = keys.MAIL_PREF_SK, keys.LOT_SK_PREFIX + "\uffff"
    start = {"pk": {"S": "CUST#x"}, "sk": {"S": "P#LOT#1"}}
    pages = [{"Items": [{"sk": {"S": "A"}}], "Count": 1, "ScannedCount": 1, "LastEvaluatedKey": start},
             {"Items": [{"sk": {"S": "B"}}], "Count": 1, "ScannedCount": 1}]
    reads = []
    for pk in ("CUST#req-shop#c_ü+1", "CUST#other#c_2"):
        asked = _paged_answers(monkeypatch, pages)
        theirs = list(partition_raw_items(pk, Item.sk.between(low, high), consistent_read=True))
        ours = list(partition_range_raw_items(pk, low, high, consistent_read=True))
        assert ours == theirs == [{"sk": {"S": "A"}}, {"sk": {"S": "B"}}]
        assert len(asked) == 4
        assert [json.dumps(request) for request in asked[2:]] == [json.dumps(request) for request in asked[:2]]
        assert asked[1]["ExclusiveStartKey"] == start and "ExclusiveStartKey" not in asked[0]
        reads.append(asked[2])
    assert reads[0]["ExpressionAttributeValues"] != reads[1]["ExpressionAttributeValues"]  # nothing shared


def test_the_send_reads_query_gives_the_items_the_condition_gives(repos):
    from chalicelib.store.connection import partition_range_raw_items
    from tests.support.partition_query import partition_raw_items
    from chalicelib.store.models import Item, LotItem

    pk = keys.customer_pk(SHOP, "c_ü+1")
    store = repos.mail(SHOP)
    store.update_prefs("c_ü+1", lambda prefs: setattr(prefs, "soft_bounces", 1))
    for n in (1, 2):
        LotItem(pk, f"{keys.LOT_SK_PREFIX}2027-06-0{n}#l{n}", lot_id=f"l{n}", points=n, earned_at=keys.iso(NOW),
                expires_at=keys.iso(NOW + timedelta(days=365)), source="order:1", customer_id="c_ü+1").save()
    low, high = keys.MAIL_PREF_SK, keys.LOT_SK_PREFIX + "\uffff"
    ours = list(partition_range_raw_items(pk, low, high, consistent_read=True))
    assert ours == list(partition_raw_items(pk, Item.sk.between(low, high), consistent_read=True))
    assert [item["sk"]["S"] for item in ours][0] == keys.MAIL_PREF_SK and len(ours) == 3
