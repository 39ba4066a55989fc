"""Points expire on time, exactly once, and the job reads only what is due."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.loyalty.account import Account, Lot
from chalicelib.services.lifecycle.expiry import expire_points
from chalicelib.store.models import Item
from chalicelib.store.loyalty.repository import LoyaltyRepository, _lot_item, _profile_item
from tests.support.profiles import stored_profile

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
KYIV = "Europe/Kyiv"


def _seed(shop_id: str, customers: int, due: int) -> None:
    """Customers with one lot each; the first ``due`` of them expired yesterday."""
    LoyaltyRepository(shop_id)  # points the models at the test's table
    with Item.batch_write() as batch:
        for n in range(customers):
            expires = NOW - timedelta(days=1) if n < due else NOW + timedelta(days=150)
            lot = Lot(f"order-{n}", 100 + n, expires - timedelta(days=180), expires, f"order:{n}")
            account = Account(shop_id, f"c_{n:05d}", created_at=NOW - timedelta(days=200), email=f"c{n}@example.com",
                              points_balance=lot.points, lifetime_spend_minor=200000, orders_count=1)
            batch.save(stored_profile(shop_id, account))
            batch.save(_lot_item(shop_id, account.customer_id, lot))


def test_expiry_reads_only_the_customers_with_points_due(deps, table):
    _seed("shop-a", customers=1000, due=10)
    report = expire_points(deps, "shop-a", NOW, KYIV)
    assert report.index_items_read == 10
    assert report.customers_read == 10
    assert report.customers_expired == 10
    assert report.points_expired == sum(100 + n for n in range(10))

    repo = LoyaltyRepository("shop-a")
    expired = repo.load_account("c_00003")
    assert expired.points_balance == 0 and expired.lots == []
    entries = repo.ledger_page("c_00003", 10, None).entries
    assert [(e.kind, e.points) for e in entries] == [("expire", -103)]
    untouched = repo.load_account("c_00500")
    assert untouched.points_balance == 600 and len(untouched.lots) == 1

    again = expire_points(deps, "shop-a", NOW, KYIV)
    assert (again.index_items_read, again.customers_read, again.points_expired) == (0, 0, 0)


def test_a_lot_lapses_when_its_last_day_ends_on_the_shops_clock_not_at_its_hour(deps, table):
    shop_id = "shop-b"
    moment = NOW + timedelta(hours=5)  # 10:00 in Kyiv on 25 November
    kyiv_midnight = datetime(2026, 11, 25, 22, 0, tzinfo=timezone.utc)  # 26 November begins there
    account = Account(shop_id, "c_1", created_at=NOW, email="c1@example.com", points_balance=50)
    LoyaltyRepository(shop_id)
    with Item.batch_write() as batch:
        batch.save(stored_profile(shop_id, account))
        batch.save(_lot_item(shop_id, "c_1", Lot("l1", 50, NOW - timedelta(days=180), moment, "order:1")))
    assert expire_points(deps, shop_id, NOW, KYIV).points_expired == 0
    assert expire_points(deps, shop_id, moment, KYIV).points_expired == 0
    assert expire_points(deps, shop_id, kyiv_midnight - timedelta(seconds=1), KYIV).points_expired == 0
    assert expire_points(deps, shop_id, kyiv_midnight, KYIV).points_expired == 50


def test_a_lot_lapsing_a_day_after_its_index_day_is_not_left_behind(deps, table):
    # Kiritimati is UTC+14: a lot stored at 11:00 UTC on 24 November is valid through the 25th
    # there, which ends at 10:00 UTC on the 25th, after a run that day has already looked.
    shop_id, zone = "shop-c", "Pacific/Kiritimati"
    expires = datetime(2026, 11, 24, 11, 0, tzinfo=timezone.utc)
    account = Account(shop_id, "c_1", created_at=NOW, email="c1@example.com", points_balance=70)
    LoyaltyRepository(shop_id)
    with Item.batch_write() as batch:
        batch.save(stored_profile(shop_id, account))
        batch.save(_lot_item(shop_id, "c_1", Lot("l1", 70, expires - timedelta(days=180), expires, "order:1")))
    assert expire_points(deps, shop_id, datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc), zone).points_expired == 0
    assert expire_points(deps, shop_id, datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc), zone).points_expired == 70
