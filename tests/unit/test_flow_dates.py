"""Which occurrence a date trigger starts on a customer's day (domain/flows/dates.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.flows.dates import occurrence_on
from chalicelib.domain.flows.definitions import Trigger

KYIV, AUCKLAND = ZoneInfo("Europe/Kyiv"), ZoneInfo("Pacific/Auckland")


@dataclass
class Customer:
    birthday: Optional[date] = None
    created_at: Optional[datetime] = None
    member_until: Optional[datetime] = None


def trigger(**fields) -> Trigger:
    return Trigger(kind="date", **fields)


def test_a_leap_day_birthday_is_kept_on_28_february_and_an_offset_moves_the_start():
    born = Customer(birthday=date(2000, 2, 29))
    assert occurrence_on(trigger(date_field="birthday"), born, date(2031, 2, 28), KYIV) == date(2031, 2, 28)
    assert occurrence_on(trigger(date_field="birthday"), born, date(2032, 2, 28), KYIV) is None
    assert occurrence_on(trigger(date_field="birthday"), born, date(2032, 2, 29), KYIV) == date(2032, 2, 29)
    three_before = trigger(date_field="birthday", offset_days=-3)
    assert occurrence_on(three_before, born, date(2031, 2, 25), KYIV) == date(2031, 2, 28)
    assert occurrence_on(three_before, born, date(2031, 2, 28), KYIV) is None


def test_sign_up_anniversaries_count_from_the_customers_own_day():
    # 23:30 UTC on 1 June is 2 June in Kyiv.
    joined = Customer(created_at=datetime(2029, 6, 1, 23, 30, tzinfo=timezone.utc))
    anniversary = trigger(date_field="signed_up")
    assert occurrence_on(anniversary, joined, date(2030, 6, 2), KYIV) == date(2030, 6, 2)
    assert occurrence_on(anniversary, joined, date(2030, 6, 1), KYIV) is None
    assert occurrence_on(anniversary, joined, date(2029, 6, 2), KYIV) is None  # the sign-up day is no anniversary
    thirty_days_after = trigger(date_field="signed_up", every_year=False, offset_days=30)
    assert occurrence_on(thirty_days_after, joined, date(2029, 7, 2), KYIV) == date(2029, 6, 2)
    assert occurrence_on(thirty_days_after, joined, date(2030, 7, 2), KYIV) is None  # once


def test_a_membership_end_and_the_shops_calendar_day():
    member = Customer(member_until=datetime(2031, 3, 21, 20, 0, tzinfo=timezone.utc))  # 22 March in Auckland
    week_before = trigger(date_field="membership_ends", offset_days=-7)
    assert occurrence_on(week_before, member, date(2031, 3, 15), AUCKLAND) == date(2031, 3, 22)
    assert occurrence_on(week_before, member, date(2031, 3, 14), KYIV) == date(2031, 3, 21)
    assert occurrence_on(week_before, Customer(), date(2031, 3, 15), AUCKLAND) is None
    yearly = trigger(date_field="calendar", calendar_date="11-27")
    assert occurrence_on(yearly, Customer(), date(2032, 11, 27), KYIV) == date(2032, 11, 27)
    once = trigger(date_field="calendar", calendar_date="2031-11-28", offset_days=-1)
    assert occurrence_on(once, Customer(), date(2031, 11, 27), KYIV) == date(2031, 11, 28)
    assert occurrence_on(once, Customer(), date(2032, 11, 27), KYIV) is None


@pytest.mark.parametrize("fields", [{}, {"date_field": "calendar"}, {"date_field": "calendar", "calendar_date": "2-3"},
                                    {"date_field": "membership_ends", "every_year": True}])
def test_a_date_trigger_names_a_day(fields):
    with pytest.raises(ValueError):
        trigger(**fields)
