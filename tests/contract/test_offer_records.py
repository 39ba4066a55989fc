"""An offer's record keeps the same promises on the emulator and in memory: it saves only over
the version read (0: only if new), it reads back whole, its e-mail is listed as due while it is
scheduled or half-queued (by its moment) and no longer once sent, and one shop never sees another's."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.store import keys
from chalicelib.store.loyalty.offers import OfferRecord, due_offer_mailings
from tests.support.clock import T0

SHOP = "contract-shop"
TERMS = {"name": "Тиждень навушників", "product_skus": ["JBL-T520BT-BLU"], "discount_percent": "15",
         "value_minor": 0, "min_order_minor": 50_000, "expires_at": keys.iso(T0 + timedelta(days=10))}


def test_an_offer_record_saves_over_its_version_and_reads_back_whole(repos):
    records = repos.offer_records(SHOP)
    assert records.load("of_1") is None
    record = OfferRecord(SHOP, "of_1", TERMS, {"c_1": "GIFT-A", "c_2": "GIFT-B"})
    records.save(record)
    assert record.version == 1
    with pytest.raises(ValueError):  # "new" again: it exists
        records.save(OfferRecord(SHOP, "of_1", TERMS, {}))
    loaded = records.load("of_1")
    assert (loaded.terms, loaded.recipients, loaded.mailing, loaded.version) == (TERMS, record.recipients, {}, 1)
    loaded.mailing = {"status": "sent", "queued": 2}
    records.save(loaded)
    with pytest.raises(ValueError):  # a second sender still holding version 1
        records.save(record)
    assert repos.offer_records("another-shop").load("of_1") is None


def test_scheduled_and_half_queued_mailings_are_due_by_their_moment_until_sent(repos):
    records = repos.offer_records(SHOP)
    later = OfferRecord(SHOP, "of_later", TERMS, {"c_1": "GIFT-A"},
                        {"status": "scheduled", "send_at": keys.iso(T0 + timedelta(hours=3)), "queued": 0})
    half = OfferRecord(SHOP, "of_half", TERMS, {"c_1": "GIFT-B", "c_2": "GIFT-C"},
                       {"status": "sending", "started_at": keys.iso(T0 - timedelta(minutes=1)), "queued": 1})
    records.save(later)
    records.save(half)
    records.save(OfferRecord(SHOP, "of_never", TERMS, {"c_3": "GIFT-D"}))
    assert due_offer_mailings(T0) == [(SHOP, "of_half")]
    assert due_offer_mailings(T0 + timedelta(hours=3)) == [(SHOP, "of_half"), (SHOP, "of_later")]
    half.mailing = {**half.mailing, "status": "sent", "queued": 2}
    records.save(half)
    assert due_offer_mailings(T0 + timedelta(hours=3)) == [(SHOP, "of_later")]
