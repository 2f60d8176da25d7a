"""The city's calendar: the fast path that adds +8 hours must agree with the zone database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from points_rules.periods import CITY_TZ, _fixed_offset, city_day, expiry_for

MOMENTS = st.datetimes(min_value=datetime(1985, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC))


@given(MOMENTS)
def test_city_day_equals_the_zone_database(moment):
    # Before 1992 the fast path is off (China had summer time in 1986–1991): both paths are covered.
    assert city_day(moment) == moment.astimezone(CITY_TZ).date()
    assert city_day(moment.astimezone(CITY_TZ)) == moment.astimezone(CITY_TZ).date()


def test_a_zone_with_summer_time_has_no_fixed_offset():
    from zoneinfo import ZoneInfo

    assert _fixed_offset(CITY_TZ) == timedelta(hours=8)
    assert _fixed_offset(ZoneInfo("Europe/Berlin")) is None


def test_expiry_ends_on_a_beijing_midnight():
    # Earned 2026-03-31 20:00 UTC = 2026-04-01 04:00 Beijing; 12 months on is 2027-04-01, so the lot
    # expires at the end of that Beijing day: 2027-04-02 00:00 Beijing = 2027-04-01 16:00 UTC.
    assert expiry_for(datetime(2026, 3, 31, 20, tzinfo=UTC), 12) == datetime(2027, 4, 1, 16, tzinfo=UTC)
