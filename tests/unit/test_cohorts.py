"""Cohort retention: first-order month, share ordering again in each later month, members apart."""
from __future__ import annotations

from datetime import date

from chalicelib.domain.loyalty.cohorts import OrderHistory, retention_table, whole_history_in


def _customer(*days: date, member: bool = False) -> OrderHistory:
    return OrderHistory(frozenset(days), member)


def test_shares_per_later_month_and_side():
    histories = [
        _customer(date(2031, 1, 31), date(2031, 2, 1), date(2031, 4, 9), member=True),  # again in Feb and April
        _customer(date(2031, 1, 5), date(2031, 1, 20)),  # again the same month only: no later month
        _customer(date(2031, 1, 12), date(2031, 3, 3)),
        _customer(date(2031, 3, 30)),
        _customer(),  # nothing paid (all refunded): in no cohort
    ]
    rows = retention_table(histories, today=date(2031, 4, 15))
    assert rows == [
        {"cohort": "2031-01", "members": {"customers": 1, "ordered_again": [1.0, 0.0, 1.0]},
         "non_members": {"customers": 2, "ordered_again": [0.0, 0.5, 0.0]}},
        {"cohort": "2031-03", "members": {"customers": 0, "ordered_again": [None]},
         "non_members": {"customers": 1, "ordered_again": [0.0]}}]


def test_a_customer_counts_only_when_the_days_hold_their_whole_history():
    assert whole_history_in({date(2031, 1, 5): 10_000, date(2031, 2, 1): 5_000}, 15_000)
    assert not whole_history_in({date(2031, 1, 5): 10_000}, 25_000)  # earlier orders left the window
    assert not whole_history_in({}, 0)
