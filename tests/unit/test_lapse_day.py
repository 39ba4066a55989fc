"""Points are honoured through the whole day the mail names (domain/loyalty/lapse.py): for any
stored expiry instant, any moment and a shop anywhere (Kyiv and its clock changes, UTC+14
Kiritimati, St John's half an hour off the hour, Santiago whose clock changes at midnight, Lord
Howe's half-hour summer time), the points are spendable exactly while the shop's day is at most
the day its mails show."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.lapse import SETTLED_AFTER, has_lapsed, last_day, lapses_at, utc_days_of
from chalicelib.mail.formatting import formatter
from tests.support.examples import examples

UTC = timezone.utc
ZONES = ("Europe/Kyiv", "Pacific/Kiritimati", "America/St_Johns", "America/Santiago", "Australia/Lord_Howe",
         "Pacific/Pago_Pago", "UTC")
SETTINGS = settings(max_examples=examples(300), deadline=None, database=None)
instants = st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2036, 12, 31), timezones=st.just(UTC))
# Moments around the expiry instant, to the microsecond: the day's last one and the next day's first.
offsets = st.one_of(st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)),
                    st.integers(-3, 3).map(lambda hours: timedelta(hours=hours)))


@SETTINGS
@given(expires_at=instants, zone=st.sampled_from(ZONES), offset=offsets)
@example(datetime(2032, 3, 28, 0, 30, tzinfo=UTC), "Europe/Kyiv", timedelta(hours=21))  # Kyiv springs forward
@example(datetime(2032, 10, 31, 0, 30, tzinfo=UTC), "Europe/Kyiv", timedelta(hours=21))  # and falls back
@example(datetime(2032, 4, 3, 12, 0, tzinfo=UTC), "America/Santiago", timedelta(hours=16))  # 24:00 → 23:00
@example(datetime(2032, 9, 4, 12, 0, tzinfo=UTC), "America/Santiago", timedelta(hours=16))  # 24:00 → 01:00
@example(datetime(2032, 6, 7, 10, 59, 59, tzinfo=UTC), "Pacific/Kiritimati", timedelta(0))
@example(datetime(2032, 11, 7, 2, 0, tzinfo=UTC), "America/St_Johns", timedelta(hours=23, minutes=30))
def test_points_are_spendable_exactly_while_the_shops_day_is_at_most_their_last_day(expires_at, zone, offset):
    now = expires_at + offset
    day = last_day(expires_at, zone)
    assert has_lapsed(expires_at, zone, now) == (now.astimezone(ZoneInfo(zone)).date() > day)
    lapse = lapses_at(expires_at, zone)
    # The first instant of a later day: a microsecond before it the last day still runs.
    assert lapse.astimezone(ZoneInfo(zone)).date() > day
    assert (lapse - timedelta(microseconds=1)).astimezone(ZoneInfo(zone)).date() == day
    assert lapse > expires_at  # never less than the stored instant promised


@SETTINGS
@given(expires_at=instants, zone=st.sampled_from(ZONES), locale=st.sampled_from(["uk", "en", "de", "ru"]))
def test_the_day_a_mail_shows_is_the_last_day_the_ledger_honours(expires_at, zone, locale):
    shown = formatter(locale, "UAH", 2, zone)
    assert shown.date(expires_at) == shown.date(last_day(expires_at, zone))


@SETTINGS
@given(expires_at=instants, zone=st.sampled_from(ZONES))
def test_the_jobs_find_every_lot_by_the_index_day_of_its_instant(expires_at, zone):
    # The expiry warnings read the UTC index days of a shop's day; the sweep counts an index day
    # done SETTLED_AFTER it began, when every lot on it has lapsed in any zone.
    index_day = expires_at.date()
    assert index_day in utc_days_of(last_day(expires_at, zone), zone)
    assert lapses_at(expires_at, zone) <= datetime.combine(index_day, datetime.min.time(), UTC) + SETTLED_AFTER
