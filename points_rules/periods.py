"""The city's calendar: caps, streaks, reports and expiry count Beijing days, weeks, months and years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")


def _fixed_offset(zone: ZoneInfo, since: int = 1992, until: int = 2100) -> timedelta | None:
    """The zone's UTC offset if it is the same all year round from ``since`` on (China: +8, no summer time
    since 1991), else None. Lets the hot path find a Beijing day by adding hours instead of a zone lookup."""
    offsets = {datetime(year, month, 1, tzinfo=UTC).astimezone(zone).utcoffset()
               for year in range(since, until) for month in (1, 4, 7, 10)}
    return offsets.pop() if len(offsets) == 1 else None


_CITY_OFFSET = _fixed_offset(CITY_TZ)
_FIXED_SINCE = datetime(1992, 1, 1, tzinfo=UTC)


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO week, Monday to Sunday
    MONTH = "month"
    YEAR = "year"
    EVER = "ever"  # for one-off incentives (a PV installation is rewarded once)


def as_utc(moment: datetime) -> datetime:
    """Aware datetimes pass through converted; naive ones are refused (they hide bugs)."""
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        raise ValueError("naive datetime: say which time zone it is in")
    return moment.astimezone(UTC)


def city_day(moment: datetime) -> date:
    """The Beijing calendar day a moment falls on."""
    if moment.tzinfo is UTC and _CITY_OFFSET is not None and moment >= _FIXED_SINCE:
        return (moment + _CITY_OFFSET).date()
    if moment.tzinfo is None:
        raise ValueError("naive datetime: say which time zone it is in")
    return moment.astimezone(CITY_TZ).date()


def city_day_start(day: date) -> datetime:
    """Midnight at the start of a Beijing day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=CITY_TZ).astimezone(UTC)


def period_key(moment: datetime, period: Period) -> str:
    """A stable name for the Beijing period containing ``moment``: '2026-06-15', '2026-W25', '2026-06', '2026'."""
    day = city_day(moment)
    if period is Period.DAY:
        return day.isoformat()
    if period is Period.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period is Period.MONTH:
        return f"{day.year}-{day.month:02d}"
    if period is Period.YEAR:
        return str(day.year)
    return "ever"


def period_bounds(moment: datetime, period: Period) -> tuple[datetime, datetime | None]:
    """[start, end) in UTC of the Beijing period containing ``moment`` (end None for EVER)."""
    day = city_day(moment)
    if period is Period.DAY:
        start = day
        end = day + timedelta(days=1)
    elif period is Period.WEEK:
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif period is Period.MONTH:
        start = day.replace(day=1)
        end = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    elif period is Period.YEAR:
        start, end = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    else:
        return datetime(1970, 1, 1, tzinfo=UTC), None
    return city_day_start(start), city_day_start(end)


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
    return _expiry_of_day(city_day(earned_at), months)


@lru_cache(maxsize=4096)
def _expiry_of_day(day: date, months: int) -> datetime:
    # Depends only on the day: cached, since every credit of a day shares it.
    return city_day_start(add_months(datetime.combine(day, time(0)), months).date() + timedelta(days=1))
