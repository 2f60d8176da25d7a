"""Simulation: run a rulebook (or two, for a diff) over a stream of historical actions.

Usage is kept in a ``points_rules.usage.UsageBook``, the same bookkeeping the core awards with, started
empty. Actions held for review are counted as if approved, so budget burn is an upper bound (the safe
side for a what-if).

Actions come from CSV: ``time, account, account_type, scenario`` and optionally ``channel`` (default
app), ``district``, ``household``, ``received_at``, ``fact_id``, ``photos`` (evidence photos carried, default 0),
and one ``in.<name>`` column per input.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from points_rules.engine import Status, evaluate
from points_rules.facts import Facts
from points_rules.rulebook import Rulebook
from points_rules.usage import Action, UsageBook


class ActionFileError(ValueError):
    pass


def read_actions(path: str | Path) -> Iterator[Action]:
    """Actions from a CSV file; a bad row raises ActionFileError naming its line."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"time", "account", "account_type", "scenario"} - set(reader.fieldnames or ())
        if missing:
            raise ActionFileError(f"{path}: missing columns {', '.join(sorted(missing))}")
        for row in reader:
            try:
                yield _action(row)
            except (ValueError, TypeError) as exc:
                raise ActionFileError(f"{path}, line {reader.line_num}: {exc}") from None


def _action(row: dict[str, str]) -> Action:
    when = datetime.fromisoformat(row["time"])
    if when.tzinfo is None:
        raise ValueError("time needs a UTC offset (e.g. 2026-06-01T08:00:00+08:00)")
    received = datetime.fromisoformat(row["received_at"]) if row.get("received_at") else None
    inputs = {name[3:]: value for name, value in row.items() if name.startswith("in.") and value not in ("", None)}
    facts = Facts(row["scenario"], inputs, row["account_type"], when, channel=row.get("channel") or "app",
                  district=row.get("district") or None, in_household=bool(row.get("household")),
                  received_at=received, fact_id=row.get("fact_id") or None, photos=int(row.get("photos") or 0))
    return Action(row["account"], facts, row.get("household") or None)


@dataclass
class Report:
    rulebook: str
    actions: int = 0
    statuses: Counter = field(default_factory=Counter)
    rejections: Counter = field(default_factory=Counter)
    grams: int = 0
    points: int = 0
    base_points: int = 0
    campaign_points: Counter = field(default_factory=Counter)
    by_scenario: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    by_account: Counter = field(default_factory=Counter)
    by_district: Counter = field(default_factory=Counter)  # points
    budgets: dict[str, int] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, action: Action, result) -> None:
        self.actions += 1
        self.statuses[result.status.value] += 1
        when = action.facts.time
        self.first = when if self.first is None or when < self.first else self.first
        self.last = when if self.last is None or when > self.last else self.last
        if result.status is Status.REJECTED:
            self.rejections[result.reason] += 1
            return
        self.grams += result.grams
        self.points += result.points
        self.base_points += result.base_points
        self.campaign_points.update(result.campaign_points)
        row = self.by_scenario[result.scenario]
        row[0] += 1
        row[1] += result.grams
        row[2] += result.points
        self.by_account[action.account] += result.points
        self.by_district[action.facts.district or "—"] += result.points

    def budget_burn(self) -> dict[str, tuple[int, int]]:
        """Campaign id → (points paid, budget)."""
        return {cid: (self.campaign_points.get(cid, 0), budget) for cid, budget in self.budgets.items()}


def simulate(rulebook: Rulebook, actions: Iterable[Action],
             progress: Callable[[Action], None] | None = None) -> Report:
    book, report = UsageBook(rulebook), Report(f"{rulebook.id} {rulebook.version}")
    report.budgets = {c.id: c.budget_points for c in rulebook.campaigns}
    for action in sorted(actions, key=lambda a: a.facts.time):  # usage only makes sense in time order
        result = evaluate(rulebook, action.facts, book.usage(action))
        book.record(action, result)
        report.add(action, result)
        if progress:
            progress(action)
    return report


@dataclass(frozen=True)
class Comparison:
    base: Report
    other: Report

    @property
    def points_delta(self) -> int:
        return self.other.points - self.base.points

    @property
    def grams_delta(self) -> int:
        return self.other.grams - self.base.grams

    def scenario_moves(self, limit: int = 10) -> list[tuple[str, int]]:
        names = set(self.base.by_scenario) | set(self.other.by_scenario)
        moves = [(n, self.other.by_scenario.get(n, [0, 0, 0])[2] - self.base.by_scenario.get(n, [0, 0, 0])[2])
                 for n in names]
        return sorted((m for m in moves if m[1]), key=lambda m: (-abs(m[1]), m[0]))[:limit]

    def account_moves(self, limit: int = 10) -> list[tuple[str, int]]:
        return _moves(self.base.by_account, self.other.by_account, limit)

    def district_moves(self, limit: int = 20) -> list[tuple[str, int]]:
        return _moves(self.base.by_district, self.other.by_district, limit)


def _moves(base: Counter, other: Counter, limit: int) -> list[tuple[str, int]]:
    """The keys whose points change most between two runs, largest change first."""
    moves = [(n, other.get(n, 0) - base.get(n, 0)) for n in set(base) | set(other)]
    return sorted((m for m in moves if m[1]), key=lambda m: (-abs(m[1]), m[0]))[:limit]


def compare(base: Rulebook, other: Rulebook, actions: Iterable[Action],
            progress: Callable[[Action], None] | None = None) -> Comparison:
    actions = list(actions)
    return Comparison(simulate(base, actions, progress), simulate(other, actions, progress))
