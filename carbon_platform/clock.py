"""Time: stored in UTC, counted in the city's calendar (``points_rules.periods`` defines the calendar)."""

from __future__ import annotations

from datetime import UTC, datetime

from points_rules.periods import CITY_TZ, add_months, as_utc, city_day, city_day_start, expiry_for

__all__ = ["CITY_TZ", "add_months", "as_utc", "city_day", "city_day_start", "expiry_for", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)
