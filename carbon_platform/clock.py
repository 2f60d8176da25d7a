"""Time: stored in UTC, counted in the city's calendar (``points_rules.periods`` defines the calendar)."""

from __future__ import annotations

from datetime import UTC, datetime

from points_rules.periods import CITY_TZ, add_months, as_utc, city_day, city_day_start, expiry_for

__all__ = ["CITY_TZ", "add_months", "as_utc", "city_day", "city_day_start", "expiry_for", "utc_or_now", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_or_now(moment: datetime | None) -> datetime:
    """``moment`` in UTC, or the present when it is None (services take ``now`` for tests and replays)."""
    return utcnow() if moment is None else as_utc(moment)
