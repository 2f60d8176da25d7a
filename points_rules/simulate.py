"""Simulation: run a rulebook (or two, for a diff) over a stream of historical actions.

Usage is kept in memory the way the core keeps it in the ledger: per account and household, per
scenario, per Beijing period; per account per year; per campaign. Actions held for review are
counted as if approved, so budget burn is an upper bound (the safe side for a what-if).

Actions come from CSV: ``time, account, account_type, scenario`` and optionally ``channel`` (default
app), ``district``, ``household``, ``received_at``, ``fact_id``, and one ``in.<name>`` column per input.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from points_rules.engine import CampaignUsage, Facts, Status, Totals, Usage, evaluate
from points_rules.periods import Period, period_key
from points_rules.rulebook import Rulebook

_PERIODS = tuple(Period)


@dataclass(frozen=True)
class Action:
    account: str
    facts: Facts
    household: str | None = None


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
                  received_at=received, fact_id=row.get("fact_id") or None)
    return Action(row["account"], facts, row.get("household") or None)


@dataclass(frozen=True)
class CampaignStops:
    """Campaigns an administrator paused (they pay nothing) or ended (nothing that happened from then on)."""

    paused: frozenset[str] = frozenset()
    ended: tuple[tuple[str, datetime], ...] = ()

    def at(self, moment: datetime) -> frozenset[str]:
        if not self.ended:
            return self.paused
        return self.paused | {campaign for campaign, ended_at in self.ended if ended_at <= moment}


class UsageBook:
    """What each account, household and campaign has earned so far, period by period.

    The simulator starts it empty. The core (``carbon_platform.services.earning``) seeds it from the
    ledger with exactly the entries a batch of actions will read (``reads``), then awards the batch
    in memory, one action after another, as the simulator does.
    """

    def __init__(self, rulebook: Rulebook, stops: CampaignStops = CampaignStops()):
        self.rulebook = rulebook
        self.stops = stops  # campaigns an administrator paused or ended pay and count nothing
        self.account: dict[tuple, Totals] = defaultdict(Totals)
        self.household: dict[tuple, Totals] = defaultdict(Totals)
        self.year_points: dict[tuple, int] = defaultdict(int)
        self.campaign_spent: dict[str, int] = defaultdict(int)
        self.participant_points: dict[tuple, int] = defaultdict(int)
        self.participant_actions: dict[tuple, int] = defaultdict(int)
        self.streaks: dict[tuple, int] = defaultdict(int)
        self._targeted: dict[int, tuple[Action, list]] = {}

    def _wanted(self, action: Action) -> set[tuple[str, Period]]:
        scenario = self.rulebook.scenarios[action.facts.scenario]
        wanted = {(scenario.id, cap.per) for cap in scenario.caps}
        return wanted | {(other, Period.MONTH) for other in scenario.excludes}

    def targeted(self, action: Action) -> list:
        """The running campaigns that count this action (whether or not they pay it anything)."""
        # Asked several times per action (reads, usage, record, the caller's budgets): kept for the
        # last few thousand actions. The entry holds the action, so its id cannot be reused meanwhile.
        found = self._targeted.get(id(action))
        if found is not None and found[0] is action:
            return found[1]
        facts = action.facts
        stopped = self.stops.at(facts.time)
        campaigns = [c for c in self.rulebook.campaigns_for.get(facts.scenario, ())
                     if c.id not in stopped and c.targets(facts.scenario, facts.district, facts.account_type,
                                                          facts.time)]
        if len(self._targeted) >= 4096:
            self._targeted.clear()
        self._targeted[id(action)] = (action, campaigns)
        return campaigns

    def reads(self, action: Action) -> Iterator[tuple[str, tuple, Period]]:
        """What ``usage(action)`` reads, as (book, key, period): ``getattr(self, book)[key]`` holds what was
        counted in the Beijing ``period`` containing the action. Campaign books are read for the
        campaigns ``targeted`` names; ``campaign_spent`` is keyed by the campaign id alone."""
        facts = action.facts
        if facts.scenario not in self.rulebook.scenarios:
            return
        for sid, per in self._wanted(action):
            key = period_key(facts.time, per)
            yield "account", (action.account, sid, key), per
            if action.household:
                yield "household", (action.household, sid, key), per
        yield "year_points", (action.account, period_key(facts.time, Period.YEAR)), Period.YEAR
        for campaign in self.targeted(action):
            yield "campaign_spent", campaign.id, Period.EVER
            yield "participant", (campaign.id, action.account), Period.EVER
            for effect in campaign.effects:
                if effect.per:
                    yield "streaks", (campaign.id, action.account, effect.per, period_key(facts.time, effect.per)), \
                        effect.per

    def usage(self, action: Action) -> Usage:
        facts = action.facts
        if facts.scenario not in self.rulebook.scenarios:
            return Usage()
        keys = {period: period_key(facts.time, period) for period in _PERIODS}
        wanted = self._wanted(action)
        account = {(sid, per): self.account[(action.account, sid, keys[per])] for sid, per in wanted
                   if (action.account, sid, keys[per]) in self.account}
        household = {}
        if action.household:
            household = {(sid, per): self.household[(action.household, sid, keys[per])] for sid, per in wanted
                         if (action.household, sid, keys[per]) in self.household}
        campaigns = {
            c.id: CampaignUsage(
                self.campaign_spent[c.id], self.participant_points[(c.id, action.account)],
                self.participant_actions[(c.id, action.account)],
                {e.per: self.streaks[(c.id, action.account, e.per, keys[e.per])] for e in c.effects if e.per},
            )
            for c in self.targeted(action)
        }
        return Usage(account, household, self.year_points[(action.account, keys[Period.YEAR])], campaigns,
                     self.stops.at(facts.time))

    def record(self, action: Action, result) -> None:
        if result.status is Status.REJECTED:
            return
        facts = action.facts
        keys = {period: period_key(facts.time, period) for period in _PERIODS}
        for key in keys.values():
            self._add(self.account, (action.account, facts.scenario, key), result)
            if action.household:
                self._add(self.household, (action.household, facts.scenario, key), result)
        self.year_points[(action.account, keys[Period.YEAR])] += result.points
        if result.grams or result.base_points:
            for campaign in self.targeted(action):
                paid = result.campaign_points.get(campaign.id, 0)
                self.campaign_spent[campaign.id] += paid
                self.participant_points[(campaign.id, action.account)] += paid
                self.participant_actions[(campaign.id, action.account)] += 1
                for effect in campaign.effects:
                    if effect.per:
                        self.streaks[(campaign.id, action.account, effect.per, keys[effect.per])] += 1

    @staticmethod
    def _add(book, key, result) -> None:
        old = book[key]
        book[key] = Totals(old.count + 1, old.grams + result.grams, old.points + result.base_points)


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
