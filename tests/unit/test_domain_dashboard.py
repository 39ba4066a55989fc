"""What one committed change adds to the dashboard: plain rules over entries and before/after state."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.loyalty.dashboard import change_counts

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=180)


def _paid(account: Account, order: str, spend: int, points: int) -> None:
    account.earn(points, lot_id=f"order-{order}", cause=f"order:{order}", now=NOW, expires_at=LATER,
                 spend_minor=spend)
    account.orders_count += 1
    account.last_order_at = NOW


def test_a_new_customers_first_order():
    account = Account("s", "c1", created_at=NOW, lots=[])
    _paid(account, "1", 50_000, 25)
    account.credit_cashback(1_000, cause="order:1", now=NOW)
    counts = change_counts(account, NOW)
    assert counts == {"points_issued": 25, "points_outstanding": 25, "cashback_issued_minor": 1_000,
                      "customers": 1, "orders_non_member": 1, "revenue_non_member_minor": 50_000,
                      "active_customers": 1}


def test_a_members_repeat_order_the_same_day_and_joining_a_tier():
    account = Account("s", "c1", created_at=NOW, lots=[], version=3, orders_count=1, tier_name="Silver",
                      stored_tier_name="Silver", stored_last_order_at=NOW - timedelta(hours=2))
    _paid(account, "2", 20_000, 10)
    counts = change_counts(account, NOW)
    assert counts["orders_member"] == 1 and counts["repeat_orders_member"] == 1
    assert "active_customers" not in counts  # already counted for today
    assert "customers" not in counts and "members" not in counts

    joining = Account("s", "c2", created_at=NOW, lots=[], version=1, tier_name="Silver", stored_tier_name=None)
    joining.earn(5, lot_id="b", cause="birthday:2026", now=NOW, expires_at=LATER, kind="bonus")
    assert change_counts(joining, NOW)["members"] == 1
    leaving = Account("s", "c3", created_at=NOW, lots=[], version=1, tier_name=None, stored_tier_name="Gold")
    assert change_counts(leaving, NOW) == {"members": -1}


def test_spending_expiry_refunds_and_adjustments():
    account = Account("s", "c1", created_at=NOW, lots=[], version=2)
    account.earn(300, lot_id="l1", cause="order:1", now=NOW - timedelta(days=200), expires_at=NOW - timedelta(days=1))
    account.new_entries.clear()
    account.stored_last_order_at = NOW
    account.expire_due(NOW, "UTC")
    account.earn(200, lot_id="l2", cause="x", now=NOW, expires_at=LATER, kind="bonus")
    account.reverse(20, cause="refund:9", now=NOW, spend_minor=4_000)
    account.adjust(-10, cause="adjust:r1", now=NOW, expires_at=LATER, reason="typo")
    counts = change_counts(account, NOW)
    assert counts["points_expired"] == 300 and counts["points_issued"] == 200
    assert counts["points_taken_back"] == 20 and counts["points_adjusted"] == -10
    assert counts["points_outstanding"] == -300 + 200 - 20 - 10
    assert counts["revenue_non_member_minor"] == -4_000
    assert sum(e.points for e in account.new_entries) == counts["points_outstanding"]


def test_imported_history_is_counted_on_its_own_dates_not_the_import_day():
    # Orders paid in the spring, imported in December: each on its paid day (one spike of
    # "active buyers" on the import day was the old picture).
    from chalicelib.domain.loyalty.dashboard import counts_by_day
    from chalicelib.domain.loyalty.order_record import OrderRecord
    from chalicelib.domain.loyalty.program import ProgramRules
    from chalicelib.domain.loyalty.rules import Program, apply_order
    from chalicelib.domain.platform_events import CustomerFacts, Order, OrderLine

    account = Account("s", "c1", created_at=NOW, lots=[])
    paid = NOW - timedelta(days=200)
    order = Order(order_id="H1", customer=CustomerFacts(), currency="EUR", paid=True, paid_at=paid,
                  lines=(OrderLine(line_id="L1", quantity=1, paid_minor=30_000),))
    apply_order(order, OrderRecord("s", "H1"), account, Program(ProgramRules(earn_rate=1), 2, "Europe/Kyiv"), NOW)
    days = counts_by_day(account, NOW)
    assert days[paid.date().isoformat()] == {"orders_non_member": 1, "revenue_non_member_minor": 30_000,
                                             "active_customers": 1}
    assert days[NOW.date().isoformat()]["customers"] == 1  # the customer joined us today
    assert "active_customers" not in days[NOW.date().isoformat()]
