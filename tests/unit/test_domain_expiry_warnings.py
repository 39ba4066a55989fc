from datetime import date, datetime, timezone

from chalicelib.domain.loyalty.account import Lot
from chalicelib.domain.lifecycle.expiry_warnings import lots_to_warn


def lot(lot_id, day, points=10, warned=()):
    moment = datetime(2026, 12, day, 12, tzinfo=timezone.utc)
    return Lot(lot_id, points, moment, moment, "order", frozenset(warned))


def test_lots_within_a_week_of_the_first_are_merged():
    lots = [lot("a", 10), lot("b", 12), lot("c", 17), lot("d", 25)]
    assert [x.lot_id for x in lots_to_warn(lots, 30, date(2026, 12, 10), "Europe/Kyiv")] == ["a", "b"] + []  # 17 is 7 days on
    assert [x.lot_id for x in lots_to_warn(lots, 30, date(2026, 12, 17), "Europe/Kyiv")] == ["c"]


def test_no_warning_unless_an_unwarned_lot_expires_on_the_day():
    assert lots_to_warn([lot("a", 11)], 30, date(2026, 12, 10), "Europe/Kyiv") == []
    assert lots_to_warn([lot("a", 10, warned={30})], 30, date(2026, 12, 10), "Europe/Kyiv") == []
    assert [x.lot_id for x in lots_to_warn([lot("a", 10, warned={30})], 7, date(2026, 12, 10), "Europe/Kyiv")] == ["a"]
    assert lots_to_warn([lot("a", 10, points=0)], 30, date(2026, 12, 10), "Europe/Kyiv") == []
