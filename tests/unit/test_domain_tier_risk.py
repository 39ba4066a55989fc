"""When a rolling-period tier drops, what keeps it, and when the warning is due."""
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

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)  # window: 2025-12 .. 2026-11
ROLLING = ProgramRules(tier_period="rolling_12_months")  # Silver from 2,000, Gold from 5,000 (× 100 minor)


def _account(spend: dict[str, int]) -> Account:
    return Account("shop", "c1", created_at=NOW, spend_by_month=dict(spend),
                   lifetime_spend_minor=sum(spend.values()))


def test_lifetime_period_never_drops():
    assert tier_drop(_account({"2025-12": 900_000}), ProgramRules(), NOW, 2) is None


def test_no_tier_no_drop():
    assert tier_drop(_account({"2026-10": 199_999}), ROLLING, NOW, 2) is None
    assert tier_drop(_account({}), ROLLING, NOW, 2) is None


def test_exact_threshold_drops_when_the_oldest_month_leaves_the_window():
    drop = tier_drop(_account({"2025-12": 50_000, "2026-06": 150_000}), ROLLING, NOW, 2)
    assert drop == TierDrop(date(2026, 12, 1), "Silver", None, 50_000)
    assert warning_day(drop) == date(2026, 11, 1)


def test_still_exactly_at_the_threshold_after_a_boundary_keeps_the_tier():
    drop = tier_drop(_account({"2025-12": 10_000, "2026-06": 200_000}), ROLLING, NOW, 2)
    assert drop == TierDrop(date(2027, 6, 1), "Silver", None, 200_000)


def test_a_drop_to_the_lower_tier_names_it():
    drop = tier_drop(_account({"2025-12": 300_000, "2026-05": 250_000}), ROLLING, NOW, 2)
    assert drop == TierDrop(date(2026, 12, 1), "Gold", "Silver", 250_000)


def test_far_above_the_threshold_drops_only_when_the_spend_leaves_the_window():
    account = _account({"2026-10": 900_000})
    drop = tier_drop(account, ROLLING, NOW, 2)
    assert drop == TierDrop(date(2027, 10, 1), "Gold", None, 500_000)
    assert warning_day(drop) == date(2027, 9, 1)
    assert due_warning(account, ROLLING, NOW, 2) is None  # far off: nothing to say yet
    assert review_day(account, ROLLING, NOW, 2) == date(2027, 9, 1)


def test_spend_this_month_counts_until_its_month_leaves():
    drop = tier_drop(_account({"2026-11": 200_000}), ROLLING, NOW, 2)
    assert drop.date_drops == date(2027, 11, 1)


def test_due_warning_once_per_drop_and_review_day():
    account = _account({"2025-12": 50_000, "2026-06": 150_000})
    assert review_day(account, ROLLING, NOW, 2) == NOW.date()  # the warning day (1 Nov) has passed
    drop = due_warning(account, ROLLING, NOW, 2)
    assert drop is not None and drop.spend_needed_minor == 50_000
    mark_warned(account, drop)
    assert account.tier_risk_warned_for == "2026-12-01" and account.tier_review_on == date(2026, 12, 1)
    assert due_warning(account, ROLLING, NOW, 2) is None
    assert review_day(account, ROLLING, NOW, 2) == date(2026, 12, 1)


def test_warning_message():
    message = warning_message("shop", "c1", TierDrop(date(2026, 12, 1), "Gold", "Silver", 250_000), NOW.isoformat())
    assert message["idempotency_key"] == "tier_at_risk:c1:2026-12-01"
    assert message["template"] == "tier_at_risk" and message["category"] == "marketing"
    assert message["data"] == {"tier": "Gold", "spend_needed_minor": 250_000, "by": "2026-11-30",
                               "next_lower_tier": "Silver"}
