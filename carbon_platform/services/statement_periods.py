"""The months an enterprise statement covers: from one month to another, inclusive, in Beijing time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from carbon_platform.clock import city_day, utcnow
from carbon_platform.errors import InvalidInput
from carbon_platform.models import EnterpriseStatement

MAX_MONTHS = 36
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    first: tuple[int, int]  # (year, month)
    last: tuple[int, int]

    @property
    def text(self) -> tuple[str, str]:
        return f"{self.first[0]}-{self.first[1]:02d}", f"{self.last[0]}-{self.last[1]:02d}"

    @property
    def whole_year(self) -> int | None:
        """The calendar year the period is, if it is exactly one."""
        year = self.first[0]
        return year if self.first == (year, 1) and self.last == (year, 12) else None

    def months(self) -> list[tuple[int, int]]:
        year, month = self.first
        out = []
        while (year, month) <= self.last:
            out.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def contains(self, year: int, month: int | None) -> bool:
        """Whether a report of ``year``'s ``month`` (None: the whole year) belongs to the period: a month within it,
        or a yearly report of a year it covers entirely."""
        if month is None:
            return year in self.whole_years()
        return self.first <= (year, month) <= self.last

    def whole_years(self) -> set[int]:
        """The calendar years the period covers entirely (their yearly reports belong to it)."""
        months = set(self.months())
        return {year for year in range(self.first[0], self.last[0] + 1)
                if all((year, m) in months for m in range(1, 13))}


def period(first: str, last: str, *, now: datetime | None = None) -> Period:
    """``first`` to ``last`` ("2025-01" to "2025-06", inclusive), months that are over in Beijing time."""
    parsed = []
    for name, text in (("period_from", first), ("period_to", last)):
        match = PERIOD.match(text) if isinstance(text, str) else None
        if match is None or int(match[1]) < 2000:
            raise InvalidInput(f"{name} is a month written YYYY-MM, from 2000", code="statement_period_invalid",
                               field=name)
        parsed.append((int(match[1]), int(match[2])))
    result = Period(parsed[0], parsed[1])
    if result.first > result.last:
        raise InvalidInput("the period ends before it starts", code="statement_period_invalid", field="period_to")
    today = city_day(now or utcnow())
    if result.last >= (today.year, today.month):
        raise InvalidInput("a statement covers months that are over", code="report_period_not_over",
                           field="period_to")
    if len(result.months()) > MAX_MONTHS:
        raise InvalidInput(f"a statement covers at most {MAX_MONTHS} months", code="statement_period_invalid",
                           field="period_to")
    return result


def stored_period(statement: EnterpriseStatement) -> Period:
    first, last = statement.period_from.split("-"), statement.period_to.split("-")
    return Period((int(first[0]), int(first[1])), (int(last[0]), int(last[1])))


def year_period(year: int) -> tuple[str, str]:
    return f"{year}-01", f"{year}-12"
