"""Carbon intensity, the industry benchmark, the carbon-efficiency value and its grade (issue #18 item 4).

    intensity  = kg CO2 / (output ¥ / 10,000)          kg per ¥10,000 of output value
    benchmark  = Σ peers' kg / (Σ peers' output ¥ / 10,000), over at least ``min_peers`` accounts of the industry
    value      = benchmark / intensity                 1 = the industry's average; above 1, better
    grade      = the first grade whose ``at_least`` the value reaches (1 best … 5)

Everything is exact (fractions); only what a receipt prints is rounded, and that is written down there: intensities
to three decimals rounded up (against the enterprise), the value to three decimals rounded down (against it).
An enterprise without emissions has no intensity to compare (its value would be infinite): no grade, said so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

PER = 10_000  # output value in ¥10,000 (万元), as Chinese statistics give it


class GradingError(ValueError):
    """A grades file that is not what ``parse_grades`` expects; ``problems`` names each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Grade:
    grade: int
    at_least: Fraction
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Grades:
    version: str
    min_peers: int
    grades: tuple[Grade, ...]


def parse_grades(document: Any) -> Grades:
    problems: list[str] = []
    if not isinstance(document, dict) or set(document) != {"version", "min_peers", "grades"}:
        raise GradingError(["a grades file has exactly version, min_peers and grades"])
    version, min_peers, rows = document["version"], document["min_peers"], document["grades"]
    if not isinstance(version, str) or not version:
        problems.append("version: a text")
    if isinstance(min_peers, bool) or not isinstance(min_peers, int) or min_peers < 2:
        problems.append("min_peers: a whole number, at least 2")
    grades = []
    for index, row in enumerate(rows if isinstance(rows, list) else []):
        where = f"grades[{index}]"
        if not isinstance(row, dict) or set(row) != {"grade", "at_least", "name_zh", "name_en"}:
            problems.append(f"{where}: grade, at_least, name_zh and name_en")
            continue
        try:
            at_least = Fraction(Decimal(str(row["at_least"]))) if isinstance(row["at_least"], str) else None
        except (InvalidOperation, ValueError):
            at_least = None
        if at_least is None or at_least < 0:
            problems.append(f"{where}.at_least: a non-negative number as decimal text")
            continue
        if row["grade"] != index + 1:
            problems.append(f"{where}.grade: grades run 1, 2, 3 … in order")
        if grades and at_least >= grades[-1].at_least:
            problems.append(f"{where}.at_least: thresholds fall from grade to grade")
        grades.append(Grade(index + 1, at_least, str(row["name_zh"]), str(row["name_en"])))
    if not grades or (grades and grades[-1].at_least != 0):
        problems.append("grades: the last grade starts at 0, so every value has a grade")
    if problems:
        raise GradingError(problems)
    return Grades(version, min_peers, tuple(grades))


def intensity(kg: int, output_yuan: int) -> Fraction:
    """kg CO2 per ¥10,000 of output."""
    if output_yuan <= 0:
        raise ValueError("output value must be positive")
    return Fraction(kg * PER, output_yuan)


def benchmark(peers: Sequence[tuple[int, int]], grades: Grades) -> Fraction | None:
    """The industry's intensity over ``peers`` ((kg, output ¥) each, the enterprise itself among them), or None
    with fewer than ``min_peers``."""
    if len(peers) < grades.min_peers:
        return None
    return intensity(sum(kg for kg, _ in peers), sum(yuan for _, yuan in peers))


def grade_of(value: Fraction, grades: Grades) -> Grade:
    return next(g for g in grades.grades if value >= g.at_least)


def up3(value: Fraction) -> str:
    """Three decimals, rounded up (a printed intensity never shows less than the enterprise emitted)."""
    return _three(math.ceil(value * 1000))


def down3(value: Fraction) -> str:
    """Three decimals, rounded down (a printed value never shows the enterprise better than it is)."""
    return _three(math.floor(value * 1000))


def _three(thousandths: int) -> str:
    sign = "-" if thousandths < 0 else ""
    whole, part = divmod(abs(thousandths), 1000)
    return f"{sign}{whole}.{part:03d}"
