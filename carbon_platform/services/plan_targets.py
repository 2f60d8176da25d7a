"""The plan's quantitative targets (``seeds/plan_targets.yaml``) and what the platform contributes to each.

Tai'an's Carbon Peak Work Plan (泰政发〔2023〕8号) sets targets for the whole city: shares of green trips, charging
points, renewable capacity, waste recovery, green buildings. The platform sees only part of what those measure:
the actions its participants report and its partners send. So each target states, as data, the one thing the
platform can count toward it (a metric over credited actions), whether that is the same quantity as the target
(``scale``: only then is a share of the target shown), and the caveat in words. A target the platform sees
nothing of says so rather than showing a zero.

``load`` reads and checks the file once per process (its mistakes are refused with the target and field named);
``progress`` counts each contribution from the credited actions, with the distinct accounts behind it, so the
public page can suppress a figure behind too few accounts like every other cell. Nothing here writes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from importlib import resources
from typing import Any

import sqlalchemy as sa
import yaml

from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus

METRICS = ("actions", "input_sum", "largest_per_account", "none")
COMPARISONS = ("at_least", "about", "at_most")


class PlanTargetsError(ValueError):
    """``seeds/plan_targets.yaml`` does not say what it must (the message names the target and the field)."""


@dataclass(frozen=True)
class Contribution:
    metric: str
    scenarios: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()  # input_sum: summed; largest_per_account: the one input
    scale: Decimal | None = None  # into the target's unit, when the two measure the same thing
    unit_zh: str = ""
    unit_en: str = ""
    label_zh: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class Target:
    id: str
    programme: str
    name_zh: str
    name_en: str
    comparison: str
    value: Decimal
    unit_zh: str
    unit_en: str
    by: int
    quote: str
    verified: bool
    contribution: Contribution
    caveat_zh: str
    caveat_en: str


@dataclass(frozen=True)
class Plan:
    id: str
    title_zh: str
    title_en: str
    issued: date
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Progress:
    """A target with what the platform has credited toward it, from the first credited action to now."""

    target: Target
    value: Decimal | None  # None: the platform has no metric for this target
    accounts: int  # distinct accounts behind ``value``
    share: Decimal | None  # of the target, in per cent (1 decimal, rounded down), when comparable

    @property
    def comparable(self) -> bool:
        return self.target.contribution.scale is not None


def _required(row: dict[str, Any], name: str, where: str) -> Any:
    if row.get(name) in (None, ""):
        raise PlanTargetsError(f"{where}: '{name}' is required")
    return row[name]


def _contribution(row: dict[str, Any], where: str) -> Contribution:
    metric = _required(row, "metric", where)
    if metric not in METRICS:
        raise PlanTargetsError(f"{where}: metric must be one of {', '.join(METRICS)}, not {metric!r}")
    if metric == "none":
        return Contribution(metric)
    scenarios = tuple(_required(row, "scenarios", where))
    inputs = {"actions": (), "input_sum": tuple(row.get("inputs") or ()),
              "largest_per_account": (row.get("input"),) if row.get("input") else ()}[metric]
    if metric != "actions" and not inputs:
        raise PlanTargetsError(f"{where}: metric {metric} needs {'inputs' if metric == 'input_sum' else 'input'}")
    scale = row.get("scale")
    return Contribution(metric, scenarios, inputs, Decimal(str(scale)) if scale is not None else None,
                        *(str(_required(row, key, where)) for key in ("unit_zh", "unit_en", "label_zh", "label_en")))


def parse(text: str) -> Plan:
    data = yaml.safe_load(text)
    document = data.get("document") or {}
    targets, seen = [], set()
    for n, row in enumerate(data.get("targets") or (), start=1):
        where = f"target {row.get('id') or n}"
        target_id = _required(row, "id", where)
        if target_id in seen:
            raise PlanTargetsError(f"{where}: the id is used twice")
        seen.add(target_id)
        goal = _required(row, "target", where)
        if goal.get("comparison") not in COMPARISONS:
            raise PlanTargetsError(f"{where}: target.comparison must be one of {', '.join(COMPARISONS)}")
        source = row.get("source") or {}
        if source.get("verified") and not source.get("quote"):
            raise PlanTargetsError(f"{where}: a verified source must quote the plan")
        targets.append(Target(
            target_id, str(_required(row, "programme", where)), _required(row, "name_zh", where),
            _required(row, "name_en", where), goal["comparison"], Decimal(str(_required(goal, "value", where))),
            str(_required(goal, "unit_zh", where)), str(_required(goal, "unit_en", where)),
            int(_required(goal, "by", where)), source.get("quote") or "", bool(source.get("verified")),
            _contribution(_required(row, "contribution", where), where),
            _required(row, "caveat_zh", where), _required(row, "caveat_en", where)))
    return Plan(_required(document, "id", "document"), _required(document, "title_zh", "document"),
                _required(document, "title_en", "document"), _required(document, "issued", "document"),
                tuple(targets))


@functools.cache
def load() -> Plan:
    """The plan's targets as the seeds state them (read once per process)."""
    return parse(resources.files("seeds").joinpath("plan_targets.yaml").read_text(encoding="utf-8"))


def _credited(scenarios: tuple[str, ...]) -> list:
    return [Action.status == ActionStatus.CREDITED, Action.scenario.in_(scenarios)]


def _measure(contribution: Contribution) -> tuple[Decimal | None, int]:
    if contribution.metric == "none":
        return None, 0
    where = _credited(contribution.scenarios)
    accounts = sa.func.count(sa.distinct(Action.account_id))
    if contribution.metric == "actions":
        value, n = db.session.execute(sa.select(sa.func.count(), accounts).where(*where)).one()
        return Decimal(value), n
    amounts = [sa.func.coalesce(Action.inputs[name].as_float(), 0) for name in contribution.inputs]
    if contribution.metric == "input_sum":
        value, n = db.session.execute(sa.select(sa.func.sum(sum(amounts[1:], amounts[0])), accounts)
                                      .where(*where)).one()
    else:  # largest_per_account
        largest = (sa.select(sa.func.max(amounts[0]).label("largest")).where(*where)
                   .group_by(Action.account_id).subquery())
        value, n = db.session.execute(sa.select(sa.func.sum(largest.c.largest), sa.func.count())).one()
    # A reported measure, not a credit: one decimal, rounded down (never more than was reported).
    return Decimal(str(value or 0)).quantize(Decimal("0.1"), rounding=ROUND_FLOOR), n


def progress(plan: Plan | None = None) -> list[Progress]:
    """Every target with the platform's contribution so far (two to three queries per target)."""
    rows = []
    for target in (plan or load()).targets:
        value, accounts = _measure(target.contribution)
        share = None
        if value is not None and target.contribution.scale is not None and target.value:
            share = (value * target.contribution.scale / target.value * 100).quantize(Decimal("0.1"),
                                                                                      rounding=ROUND_FLOOR)
        rows.append(Progress(target, value, accounts, share))
    return rows
