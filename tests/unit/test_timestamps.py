"""The stored timestamp format is read and written as ``strptime``/``strftime`` with FORMAT did,
by the cheaper ``isoformat``/``fromisoformat`` where they agree."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from chalicelib.domain.timestamps import FORMAT, iso, parse_iso
from tests.support.examples import examples

KYIV = timezone(timedelta(hours=2))


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([timezone.utc, KYIV, timezone(timedelta(hours=-9, minutes=-30))])))
def test_iso_and_parse_iso_are_strftime_and_strptime_of_the_format(moment):
    text = iso(moment)
    assert text == moment.astimezone(timezone.utc).strftime(FORMAT)
    if moment.astimezone(timezone.utc).year >= 1000:
        assert parse_iso(text) == datetime.strptime(text, FORMAT).replace(tzinfo=timezone.utc) == moment
        assert parse_iso(text).tzinfo is timezone.utc


@pytest.mark.parametrize("text", [
    "2026-06-01T09:30:00.123Z",  # fewer fraction digits: strptime's %f reads them
    "2026-06-01T09:30:00.1Z",
])
def test_other_spellings_strptime_reads_are_still_read(text):
    assert parse_iso(text) == datetime.strptime(text, FORMAT).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("text", [
    "2026-06-01 09:30:00.123456Z",  # fromisoformat would read these; the format does not
    "2026-06-01T09:30:00.123456+01:00",
    "2026-W22-1T09:30:00.123456Z",
    "2026-06-01T09:30:00,123456Z",
    "2026-06-01T09:30:00.123456",
])
def test_what_the_format_refuses_is_still_refused(text):
    with pytest.raises(ValueError):
        parse_iso(text)


@settings(max_examples=examples(100))
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([timezone.utc, KYIV, ZoneInfo("Europe/Kyiv")])), st.integers(0, 3))
def test_a_moment_formatted_again_is_written_the_same_and_equal_instants_alike(moment, repeats):
    first = iso(moment)
    for _ in range(repeats):
        assert iso(moment) == first
    same_instant = moment.astimezone(KYIV if moment.tzinfo is timezone.utc else timezone.utc)
    assert iso(same_instant) == first == moment.astimezone(timezone.utc).strftime(FORMAT)
    assert iso(moment.replace(microsecond=(moment.microsecond + 1) % 1_000_000)) != first


def test_the_two_instants_of_a_repeated_wall_time_are_written_apart():
    """Equal as datetimes in one zone (the hour the clocks go back), yet an hour apart."""
    kyiv = ZoneInfo("Europe/Kyiv")
    first, second = (datetime(2026, 10, 25, 3, 30, tzinfo=kyiv, fold=fold) for fold in (0, 1))
    assert first == second
    assert (iso(first), iso(second), iso(first)) == \
        ("2026-10-25T00:30:00.000000Z", "2026-10-25T01:30:00.000000Z", "2026-10-25T00:30:00.000000Z")
