"""Time: stored in UTC, counted in the city's calendar (a Beijing day for caps, reports and expiry)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Aware datetimes pass through converted; naive ones are refused (they hide bugs)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: say which time zone it is in")
    return moment.astimezone(UTC)


def city_day(moment: datetime) -> date:
    """The Beijing calendar day a moment falls on."""
    return as_utc(moment).astimezone(CITY_TZ).date()


def city_day_start(day: date) -> datetime:
    """Midnight at the start of a Beijing day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=CITY_TZ).astimezone(UTC)


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment ``months`` later; days past a month's end clamp to its last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def expiry_for(earned_at: datetime, months: int) -> datetime:
    """Points expire at the end of the Beijing day ``months`` after they were earned.

    Residents read an expiry as a date; ending on a day boundary means a lot never expires
    part-way through the day printed on it.
    """
    local = as_utc(earned_at).astimezone(CITY_TZ)
    return city_day_start(add_months(local, months).date() + timedelta(days=1))
