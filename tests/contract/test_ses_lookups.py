"""``store/mail/mail_store.py`` ``find_ses_messages``: a batch's SES id lookups in one read, the same
answers ``find_ses_message`` gives one by one; missing ids left out, duplicates asked once."""
from __future__ import annotations

from chalicelib.store import keys
from chalicelib.store.mail import mail_store
from chalicelib.store.models import SesMessageItem


def _lookup(message_id: str, shop_id: str, key: str, customer_id: str) -> None:
    SesMessageItem(keys.ses_message_pk(message_id), keys.SES_MESSAGE_SK, shop_id=shop_id, idempotency_key=key,
                   customer_id=customer_id, created_at="2026-11-25T10:00:00.000000Z").save()


def test_a_batch_of_lookups_read_at_once_answers_as_one_by_one(repos):
    _lookup("0102-a", "shop-a", "receipt:1", "c_1")
    _lookup("0102-b", "shop-b", "special_day:c_2:spring", "c_2")
    ids = ["0102-a", "0102-missing", "0102-b", "0102-a", ""]
    found = mail_store.find_ses_messages(ids)
    assert found == {"0102-a": mail_store.find_ses_message("0102-a"), "0102-b": mail_store.find_ses_message("0102-b")}
    assert found["0102-b"] == mail_store.SesMessageRef("shop-b", "special_day:c_2:spring", "c_2")
    assert mail_store.find_ses_messages([]) == {}


def test_more_lookups_than_one_request_holds_are_all_read(repos):
    for n in range(0, 130, 3):
        _lookup(f"0102-{n}", "shop-a", f"k{n}", "c_1")
    found = mail_store.find_ses_messages(f"0102-{n}" for n in range(130))
    assert sorted(found) == sorted(f"0102-{n}" for n in range(0, 130, 3))
    assert all(found[f"0102-{n}"].idempotency_key == f"k{n}" for n in range(0, 130, 3))
