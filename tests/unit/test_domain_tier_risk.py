"""When a rolling-period tier drops (to the day), what keeps it, and when the warning is due."""
from __future__ import annotations

from datetime import date, datetime, timezone

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.loyalty.tier_risk import (
    TierDrop,
    due_warning,
    mark_warned,
    review_day,
    tier_drop,
    warning_day,
    warning_message,
)

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)  # window: paid 2025-11-26 .. 2026-11-25
ROLLING = ProgramRules(tier_period="rolling_12_months")  # Silver from 2,000, Gold from 5,000 (× 100 minor)


def _account(spend: dict[date, int]) -> Account:
    return Account("shop", "c1", created_at=NOW, spend_by_day=dict(spend),
                   lifetime_spend_minor=sum(spend.values()))


def test_lifetime_period_never_drops():
    assert tier_drop(_account({date(2025, 12, 3): 900_000}), ProgramRules(), NOW, 2) is None


def test_no_tier_no_drop():
    assert tier_drop(_account({date(2026, 10, 2): 199_999}), ROLLING, NOW, 2) is None
    assert tier_drop(_account({}), ROLLING, NOW, 2) is None


def test_exact_threshold_drops_on_the_anniversary_of_the_oldest_paid_day():
    drop = tier_drop(_account({date(2025, 12, 17): 50_000, date(2026, 6, 3): 150_000}), ROLLING, NOW, 2)
    assert drop == TierDrop(date(2026, 12, 17), "Silver", None, 50_000)  # not 1 December: a month-start
    assert warning_day(drop) == date(2026, 11, 17)


def test_spend_paid_a_year_ago_today_has_left_the_window():
    account = _account({date(2025, 11, 25): 300_000, date(2025, 11, 26): 200_000})
    assert account.tier_spend(ROLLING, NOW) == 200_000
    assert tier_drop(account, ROLLING, NOW, 2) == TierDrop(date(2026, 11, 26), "Silver", None, 200_000)


def test_still_exactly_at_the_threshold_after_a_drop_day_keeps_the_tier():
    drop = tier_drop(_account({date(2025, 12, 9): 10_000, date(2026, 6, 20): 200_000}), ROLLING, NOW, 2)
    assert drop == TierDrop(date(2027, 6, 20), "Silver", None, 200_000)


def test_a_drop_to_the_lower_tier_names_it():
    drop = tier_drop(_account({date(2025, 12, 31): 300_000, date(2026, 5, 1): 250_000}), ROLLING, NOW, 2)
    assert drop == TierDrop(date(2026, 12, 31), "Gold", "Silver", 250_000)


def test_spend_of_several_days_leaving_on_one_day_leaves_together():
    # 29 February 2024 and 28 February 2024 both leave on 28 February 2025
    account = _account({date(2024, 2, 28): 100_000, date(2024, 2, 29): 100_000, date(2024, 3, 1): 100_000})
    drop = tier_drop(account, ROLLING, datetime(2025, 1, 10, tzinfo=timezone.utc), 2)
    assert drop == TierDrop(date(2025, 2, 28), "Silver", None, 100_000)


def test_far_above_the_threshold_drops_only_when_the_spend_leaves_the_window():
    account = _account({date(2026, 10, 14): 900_000})
    drop = tier_drop(account, ROLLING, NOW, 2)
    assert drop == TierDrop(date(2027, 10, 14), "Gold", None, 500_000)
    assert warning_day(drop) == date(2027, 9, 14)
    assert due_warning(account, ROLLING, NOW, 2) is None  # far off: nothing to say yet
    assert review_day(account, ROLLING, NOW, 2) == date(2027, 9, 14)


def test_spend_today_counts_for_a_year():
    drop = tier_drop(_account({NOW.date(): 200_000}), ROLLING, NOW, 2)
    assert drop.date_drops == date(2027, 11, 25)


def test_due_warning_once_per_drop_and_review_day():
    account = _account({date(2025, 12, 10): 50_000, date(2026, 6, 1): 150_000})
    assert review_day(account, ROLLING, NOW, 2) == NOW.date()  # the warning day (10 Nov) has passed
    drop = due_warning(account, ROLLING, NOW, 2)
    assert drop is not None and drop.spend_needed_minor == 50_000 and drop.date_drops == date(2026, 12, 10)
    mark_warned(account, drop)
    assert account.tier_risk_warned_for == "2026-12-10" and account.tier_review_on == date(2026, 12, 10)
    assert due_warning(account, ROLLING, NOW, 2) is None
    assert review_day(account, ROLLING, NOW, 2) == date(2026, 12, 10)
    message = warning_message("shop", "c1", drop, NOW.isoformat())
    assert message["data"]["by"] == "2026-12-09"  # the last day the tier still holds


def test_warning_message():
    message = warning_message("shop", "c1", TierDrop(date(2026, 12, 1), "Gold", "Silver", 250_000), NOW.isoformat())
    assert message["idempotency_key"] == "tier_at_risk:c1:2026-12-01"
    assert message["template"] == "tier_at_risk" and message["category"] == "marketing"
    assert message["data"] == {"tier": "Gold", "spend_needed_minor": 250_000, "by": "2026-11-30",
                               "next_lower_tier": "Silver"}
