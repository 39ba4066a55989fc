"""Each customer's own clock: the zone from an order's country and province, quiet hours and the
instants of a local-time campaign, on fixed dates across the clock changes, east and west of UTC."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.campaigns import local_time
from chalicelib.domain.campaigns.campaigns import Campaign, DONE, SCHEDULED
from chalicelib.domain.mail.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours, next_allowed
from chalicelib.domain.places.subdivisions import SUBDIVISION_ZONES
from chalicelib.domain.places.zones import country_code, country_zones, zone_for, zone_of

UTC = timezone.utc


@pytest.mark.parametrize("country, province, shop_zone, expected", [
    ("US", "CA", "Europe/Berlin", "America/Los_Angeles"),  # Shopify: country_code + province_code
    ("US", "US-AZ", "Europe/Berlin", "America/Phoenix"),  # ISO 3166-2 with its prefix
    ("United States", "ny", "Europe/Berlin", "America/New_York"),  # a name and a lower-case code
    ("CA", "ON", "UTC", "America/Toronto"),
    ("CA", "BC", "UTC", "America/Vancouver"),
    ("AU", "NSW", "UTC", "Australia/Sydney"),
    ("AU", "WA", "UTC", "Australia/Perth"),
    ("MX", "Q ROO", "UTC", "America/Cancun"),  # Shopify's code for Quintana Roo
    ("MX", "QR", "UTC", "America/Cancun"),  # WooCommerce's
    ("MX", "ROO", "UTC", "America/Cancun"),  # ISO's
    ("BR", "AM", "UTC", "America/Manaus"),
    ("RU", "NVS", "UTC", "Asia/Novosibirsk"),
    ("ES", "TF", "Europe/Madrid", "Atlantic/Canary"),
    ("ES", "B", "Europe/Madrid", "Europe/Madrid"),  # a province the exceptions table does not list
    ("UA", "", "America/New_York", "Europe/Kyiv"),  # one zone: the country alone is exact
    ("de", None, "America/New_York", "Europe/Berlin"),
    ("Germany", "BY", "UTC", "Europe/Berlin"),
    ("US", "", "America/Chicago", "America/Chicago"),  # no state: the shop's zone, which is in the US
    ("US", "ZZ", "Europe/Kyiv", "America/New_York"),  # unknown state, shop abroad: the principal zone
    ("", "", "Europe/Kyiv", "Europe/Kyiv"),  # no country: the shop's
    ("Atlantis", "X", "Europe/Kyiv", "Europe/Kyiv"),
])
def test_a_customers_zone_comes_from_country_and_province(country, province, shop_zone, expected):
    assert zone_for(country, province, shop_zone) == expected


def test_every_subdivision_zone_exists_and_belongs_to_its_country_or_territory():
    for country, table in SUBDIVISION_ZONES.items():
        for code, zone in table.items():
            ZoneInfo(zone)
            assert zone in country_zones()[country] or code in {"PR", "VI", "GU", "AS", "MP"}, (country, code, zone)


def test_hostile_places_fall_back_without_crashing():
    for country in ("../../etc/passwd", "x" * 10_000, "🇺🇸", "\x00"):
        assert zone_for(country, "CA", "Europe/Kyiv") == "Europe/Kyiv"
    assert country_code(None) is None
    assert zone_of("../../etc/passwd", "Europe/Kyiv") == ZoneInfo("Europe/Kyiv")
    assert zone_of("Mars/Olympus", "UTC") == ZoneInfo("UTC")


def test_quiet_hours_end_at_the_local_morning_across_the_spring_change_west_of_utc():
    new_york = ZoneInfo("America/New_York")
    # Saturday 8 March 2031 21:30 EST; the clocks go forward at 02:00 on Sunday the 9th.
    evening = datetime(2031, 3, 9, 2, 30, tzinfo=UTC)
    morning = next_allowed(evening, new_york, DEFAULT_QUIET_HOURS)
    assert morning == datetime(2031, 3, 9, 12, 0, tzinfo=UTC)  # 08:00 EDT, not 13:00 (EST)
    assert morning.astimezone(new_york).hour == 8
    assert next_allowed(morning, new_york, DEFAULT_QUIET_HOURS) == morning  # 08:00 itself is allowed
    assert next_allowed(morning - timedelta(seconds=1), new_york, DEFAULT_QUIET_HOURS) == morning


def test_quiet_hours_end_at_the_local_morning_across_the_autumn_change_east_of_utc():
    kyiv = ZoneInfo("Europe/Kyiv")
    # Saturday 25 October 2031 22:30 EEST (UTC+3); the clocks go back at 04:00 on the 26th.
    evening = datetime(2031, 10, 25, 19, 30, tzinfo=UTC)
    assert next_allowed(evening, kyiv, DEFAULT_QUIET_HOURS) == datetime(2031, 10, 26, 6, 0, tzinfo=UTC)  # 08:00 EET
    tokyo = ZoneInfo("Asia/Tokyo")  # 02:00 in Tokyo (17:00 UTC the day before)
    assert next_allowed(datetime(2031, 10, 25, 17, 0, tzinfo=UTC), tokyo, DEFAULT_QUIET_HOURS) == \
        datetime(2031, 10, 25, 23, 0, tzinfo=UTC)
    afternoon = datetime(2031, 10, 25, 12, 0, tzinfo=UTC)  # 15:00 in Kyiv: not quiet
    assert next_allowed(afternoon, kyiv, DEFAULT_QUIET_HOURS) == afternoon


def test_a_shop_may_move_or_remove_its_quiet_hours():
    kyiv = ZoneInfo("Europe/Kyiv")
    at_2130 = datetime(2031, 6, 10, 18, 30, tzinfo=UTC)  # 21:30 EEST
    assert next_allowed(at_2130, kyiv, QuietHours(time(22, 0), time(7, 0))) == at_2130
    assert next_allowed(at_2130, kyiv, None) == at_2130
    lunch = QuietHours(time(12, 0), time(14, 0))  # a window within one day
    assert next_allowed(datetime(2031, 6, 10, 9, 30, tzinfo=UTC), kyiv, lunch) == datetime(2031, 6, 10, 11, 0, tzinfo=UTC)


def test_a_morning_inside_the_spring_gap_is_the_first_instant_after_it():
    berlin = ZoneInfo("Europe/Berlin")  # 30 March 2031: 02:00 → 03:00
    quiet = QuietHours(time(21, 0), time(2, 30))
    assert next_allowed(datetime(2031, 3, 29, 22, 0, tzinfo=UTC), berlin, quiet) == datetime(2031, 3, 30, 1, 30, tzinfo=UTC)


def test_a_local_time_is_reached_zone_by_zone_east_to_west():
    wall = datetime(2031, 3, 14, 10, 0)
    window = local_time.send_window(wall, ["America/Los_Angeles", "Asia/Tokyo", "Europe/Kyiv"])
    assert [(w["zone"], w["sends_at"], w["utc_offset"]) for w in window] == [
        ("Asia/Tokyo", datetime(2031, 3, 14, 1, 0, tzinfo=UTC), "+09:00"),
        ("Europe/Kyiv", datetime(2031, 3, 14, 8, 0, tzinfo=UTC), "+02:00"),
        ("America/Los_Angeles", datetime(2031, 3, 14, 17, 0, tzinfo=UTC), "-07:00"),  # PDT since 9 March
    ]
    assert local_time.first_release(wall) == datetime(2031, 3, 13, 20, 0, tzinfo=UTC)


def _campaign(**fields) -> Campaign:
    return Campaign(campaign_id="c1", shop_id="s", name="n", template="special_day", segment={},
                    send_at=local_time.first_release(datetime(2031, 3, 14, 10, 0)),
                    local_send_at=datetime(2031, 3, 14, 10, 0), **fields)


def test_a_local_time_campaign_goes_in_one_pass_per_instant_and_a_late_pass_catches_up():
    zones = [ZoneInfo(z) for z in ("Asia/Tokyo", "Europe/Kyiv", "Europe/Kyiv", "America/Los_Angeles")]
    campaign = _campaign()
    campaign.claim(datetime(2031, 3, 14, 1, 0, tzinfo=UTC))
    campaign.begin_pass(datetime(2031, 3, 14, 1, 0, tzinfo=UTC))
    assert [campaign.due_in_this_pass(z) for z in zones] == [True, False, False, False]
    assert campaign.pass_done() and campaign.status == SCHEDULED
    assert campaign.send_at == datetime(2031, 3, 14, 8, 0, tzinfo=UTC)  # Kyiv's 10:00 is next
    late = datetime(2031, 3, 14, 18, 0, tzinfo=UTC)  # the sender missed Kyiv's and Los Angeles's hour
    campaign.claim(late)
    campaign.begin_pass(late)
    assert [campaign.due_in_this_pass(z) for z in zones] == [False, True, True, True]
    assert not campaign.pass_done()
    campaign.finish(late)
    assert campaign.status == DONE


def test_every_multi_zone_country_has_a_principal_zone_of_its_own():
    from chalicelib.domain.places.subdivisions import PRINCIPAL_ZONES

    for country, zones in country_zones().items():
        if len(zones) > 1 and country not in ("AQ", "UM"):
            assert PRINCIPAL_ZONES[country] in zones, country
