"""What one committed change to a customer adds to the shop's dashboard for its day.

Plain rules over the ledger entries a change writes and the account before and after:
the store adds the counts inside the change's own transaction, so each is counted
exactly once, and the dashboard reads sums, never customers.

A *member* is a customer in a tier (as segments define it; paid membership, a
separate benefit, is reported with the program). An order counts as a member's when
the customer was in a tier before it; a repeat order is any order after the
customer's first. An order is counted on the day it was paid, not the day we learnt
of it: imported history and late webhooks land on their own dates.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from chalicelib.domain.loyalty.account import Account

ISSUED_KINDS = {"earn", "bonus"}
COUNTERS = (
    "points_issued", "points_redeemed", "points_expired", "points_taken_back", "points_adjusted",
    "points_outstanding", "cashback_issued_minor", "customers", "members", "orders_member", "orders_non_member",
    "revenue_member_minor", "revenue_non_member_minor", "repeat_orders_member", "repeat_orders_non_member",
    "active_customers", "codes_discount_minor",
)


def change_counts(account: Account, now: datetime) -> Counter:
    """The dashboard counts of committing ``account``'s new entries (and its new state) at ``now``,
    all days together."""
    total: Counter = Counter()
    for counts in counts_by_day(account, now).values():
        total.update(counts)
    return Counter({name: n for name, n in total.items() if n})


def counts_by_day(account: Account, now: datetime) -> dict[str, Counter]:
    """The dashboard counts of committing ``account``'s change, by the UTC day they belong to:
    orders, revenue, repeat orders and active customers on the order's paid day, the rest
    (points, customers, members) on the day of the change."""
    counts: Counter = Counter()
    by_day: dict[str, Counter] = {}
    orders = 0
    for entry in account.new_entries:
        counts["points_outstanding"] += entry.points
        if entry.kind in ISSUED_KINDS and entry.points > 0:
            counts["points_issued"] += entry.points
        elif entry.kind == "adjust":
            counts["points_adjusted"] += entry.points
        elif entry.kind == "redeem":
            counts["points_redeemed"] -= entry.points
        elif entry.kind == "release":  # an unused redemption code gave its points back
            counts["points_redeemed"] -= entry.points
        elif entry.kind == "expire":
            counts["points_expired"] -= entry.points
        elif entry.kind == "reverse":
            counts["points_taken_back"] -= entry.points
        elif entry.kind == "erase":  # the customer's data was erased (docs/security.md)
            counts["customers"] -= 1
        if entry.cashback_minor > 0:
            counts["cashback_issued_minor"] += entry.cashback_minor
        discounts = (entry.detail or {}).get("code_discounts")
        if discounts and entry.cause.startswith("order:"):  # the program's codes at the checkout, on the paid day
            by_day.setdefault(_paid_day(entry.detail, now), Counter())["codes_discount_minor"] += sum(
                int(minor) for minor in discounts.values())
        if entry.kind == "earn" and entry.cause.startswith("order:") and entry.spend_minor > 0:
            orders += 1
            paid_day = _paid_day(entry.detail, now)
            on_day = by_day.setdefault(paid_day, Counter())
            side = "member" if account.stored_tier_name else "non_member"
            on_day[f"orders_{side}"] += 1
            on_day[f"revenue_{side}_minor"] += entry.spend_minor
            if account.orders_count > orders:  # the customer had ordered before this one
                on_day[f"repeat_orders_{side}"] += 1
            if _day(account.stored_last_order_at) != paid_day:  # the customer's first order that day
                on_day["active_customers"] += 1
        elif entry.kind == "reverse" and entry.spend_minor < 0:  # refunds take revenue back
            side = "member" if account.stored_tier_name else "non_member"
            counts[f"revenue_{side}_minor"] += entry.spend_minor
    if account.is_new:
        counts["customers"] += 1
    counts["members"] += int(account.tier_name is not None) - int(account.stored_tier_name is not None)
    by_day.setdefault(day_of(now), Counter()).update(counts)
    return {day: Counter({name: n for name, n in day_counts.items() if n})
            for day, day_counts in by_day.items() if any(day_counts.values())}


def _paid_day(detail: dict, now: datetime) -> str:
    paid_at = (detail or {}).get("paid_at")
    try:
        return day_of(datetime.fromisoformat(paid_at)) if paid_at else day_of(now)
    except ValueError:
        return day_of(now)


def _day(moment) -> str | None:
    return moment.astimezone(timezone.utc).date().isoformat() if moment else None


def day_of(now: datetime) -> str:
    return now.astimezone(timezone.utc).date().isoformat()
