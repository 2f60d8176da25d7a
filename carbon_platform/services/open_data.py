"""The public page's and open data's figures: the dashboard's city figures over the whole history, with small
cells suppressed, every stored rulebook version, and worked examples computed live by the rules engine.

Nothing here writes. The figures are ``dashboard.city_figures`` (the console's own), kept for
``PUBLIC_CACHE_SECONDS`` in the process, so a crowd of readers costs one computation per worker per TTL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from carbon_platform.clock import utcnow
from carbon_platform.extensions import db
from carbon_platform.models import RulebookStatus, RulebookVersion
from carbon_platform.services import dashboard, plan_targets, rulebooks
from points_rules import NO_USAGE, Facts, Result, Rulebook, evaluate

#: A cell (a breakdown's row, or the city) behind fewer accounts than this publishes no figure at all.
MIN_ACCOUNTS = 10
SUPPRESSED_NOTE = {"zh": f"少于 {MIN_ACCOUNTS} 个账户，不公布（不是零）",
                   "en": f"fewer than {MIN_ACCOUNTS} accounts: not published (not zero)"}
#: The dashboard charts the public page publishes, and what each is called in the open data.
BREAKDOWNS = {"by_scenario": ("scenario", "scenario"), "by_district": ("district", "district"),
              "by_month": ("trend_month", "period"), "by_programme": ("programme", "programme")}
CSV_COLUMNS = ("breakdown", "key", "name_zh", "name_en", "kind", "accounts", "actions", "grams_co2e",
               "tonnes_co2e", "points", "suppressed", "note")
#: Representative inputs for the worked examples of the Tai'an scenarios (an ordinary trip, a month's meter).
#: A scenario not listed takes each input's default, else its minimum (or 1 where the minimum is 0).
EXAMPLE_INPUTS = {
    "bus_ride": {"distance_km": 5}, "brt_ride": {"distance_km": 8}, "cycling": {"distance_km": 3, "minutes": 15},
    "walking": {"steps": 8000}, "nev_driving": {"km": 1000}, "ev_charging": {"kwh": 30},
    "waste_sorting": {"weight_kg": 1.5}, "recyclables": {"clothes_kg": 2, "glass_kg": 1},
    "pv_generation": {"kwh": 500, "rated_kw": 5, "hours": 720, "certified_elsewhere": 0},
    "electricity_saving": {"baseline_kwh": 300, "actual_kwh": 260}, "tree_planting": {"trees": 2},
}


@dataclass(frozen=True)
class Version:
    """A stored, published rulebook version as the public page lists it."""

    id: int
    effective_from: datetime
    state: str  # in_force | superseded | scheduled | retired
    rulebook: Rulebook


@dataclass(frozen=True)
class Published:
    """What ``/`` and ``/open-data/*`` show, as of ``document["generated_at"]``."""

    document: dict[str, Any]  # the open-data aggregates, small cells suppressed (what the JSON download is)
    versions: list[Version]  # newest first
    in_force: Version | None
    examples: dict[str, Result]  # scenario id → its worked example under the version in force (receipts render lazily)


def published() -> Published:
    """``compute()``, cached in this process for ``PUBLIC_CACHE_SECONDS`` (0: computed on every call)."""
    ttl = current_app.config["PUBLIC_CACHE_SECONDS"]
    cached = current_app.extensions.get("open_data")
    if ttl > 0 and cached and cached[0] > time.monotonic():
        return cached[1]
    value = compute()
    current_app.extensions["open_data"] = (time.monotonic() + ttl, value)
    return value


def compute() -> Published:
    versions = history()
    figures = dashboard.city_figures(dashboard.Period.whole_history(),
                                     tuple(chart for chart, _key in BREAKDOWNS.values()))
    in_force = next((v for v in versions if v.state == "in_force"), None)
    examples = {sid: worked_example(in_force.rulebook, sid) for sid in in_force.rulebook.scenarios} if in_force else {}
    document = aggregates(figures)
    document["plan_targets"] = targets(plan_targets.progress())
    return Published(document, versions, in_force, examples)


def targets(rows: list[plan_targets.Progress]) -> list[dict[str, Any]]:
    """The plan's targets with the platform's contribution, suppressed like any cell behind too few accounts (a
    target the platform has no metric for has no figure at all, and says why in its caveat)."""
    out = []
    for row in rows:
        target, contribution = row.target, row.target.contribution
        suppressed = row.value is not None and row.accounts < MIN_ACCOUNTS
        shown = row.value is not None and not suppressed
        out.append({
            "key": target.id, "programme": target.programme, "name_zh": target.name_zh, "name_en": target.name_en,
            "target": {"comparison": target.comparison, "value": float(target.value), "unit_zh": target.unit_zh,
                       "unit_en": target.unit_en, "by": target.by},
            "source": {"quote": target.quote, "verified": target.verified},
            "contribution": None if row.value is None else {
                "metric": contribution.metric, "label_zh": contribution.label_zh, "label_en": contribution.label_en,
                "unit_zh": contribution.unit_zh, "unit_en": contribution.unit_en,
                "value": float(row.value) if shown else None, "accounts": row.accounts if shown else None,
                "share_of_target_percent": float(row.share) if shown and row.share is not None else None},
            "suppressed": suppressed, "caveat_zh": target.caveat_zh, "caveat_en": target.caveat_en,
        })
    return out


def aggregates(figures: dashboard.CityFigures) -> dict[str, Any]:
    """The open-data document: the city's totals and each breakdown, every cell suppressed below MIN_ACCOUNTS."""
    totals = figures.totals
    city = cell({"key": "taian", "name": "泰安市", "name_en": "Tai'an", "accounts": figures.active["accounts"],
                 "grams": totals.reduction_grams, "points": totals.points_issued,
                 "actions": sum(r["actions"] for r in figures.series["scenario"])})
    city["households"] = figures.active["households"] if not city["suppressed"] else None
    document = {
        "format": "taian-carbon-open-data/1", "platform": "碳惠泰安", "city": "泰安市",
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "period": {"from": figures.period.first.isoformat(), "to": figures.period.last.isoformat(),
                   "calendar": "Asia/Shanghai"},
        "cache_seconds": current_app.config["PUBLIC_CACHE_SECONDS"],
        "suppression": {"min_accounts": MIN_ACCOUNTS, "note_zh": SUPPRESSED_NOTE["zh"],
                        "note_en": SUPPRESSED_NOTE["en"],
                        "rule": "a cell with fewer accounts than min_accounts has null figures and suppressed=true"},
        "units": {"grams_co2e": "certified reduction, g CO2e (kind reduction only; incentives certify none)",
                  "tonnes_co2e": "t CO2e", "points": "carbon points credited", "accounts": "distinct accounts credited",
                  "actions": "credited actions"},
        "totals": city,
    }
    for name, (chart, key) in BREAKDOWNS.items():
        rows = [row for row in figures.series[chart] if row["actions"]]
        # A month is named by itself in both languages.
        document[name] = [cell({"name": row[key], "name_en": row[key], **row, "key": row[key]}) for row in rows]
    return document


def cell(row: dict[str, Any]) -> dict[str, Any]:
    """One published cell: its figures, or none of them (``suppressed``) when too few accounts are behind it."""
    suppressed = row["accounts"] < MIN_ACCOUNTS
    out = {"key": row["key"], "name_zh": row["name"], "name_en": row["name_en"]}
    if "kind" in row:
        out["kind"], out["programme"] = row["kind"], row["programme"]
    figures = {"accounts": row["accounts"], "actions": row["actions"], "grams_co2e": row["grams"],
               "tonnes_co2e": round(row["grams"] / 1_000_000, 6), "points": row["points"]}
    out.update({k: None if suppressed else v for k, v in figures.items()})
    out["suppressed"] = suppressed
    return out


def csv_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document as one table (CSV_COLUMNS): the city first, then each breakdown's rows."""
    tables = [("totals", [document["totals"]])] + [(name, document[name]) for name in BREAKDOWNS]
    return [{"breakdown": name, **{c: row.get(c) for c in CSV_COLUMNS[1:-2]},
             "grams_co2e": row["grams_co2e"], "suppressed": "true" if row["suppressed"] else "false",
             "note": f"{SUPPRESSED_NOTE['zh']} / {SUPPRESSED_NOTE['en']}" if row["suppressed"] else ""}
            for name, rows in tables for row in rows]


def history() -> list[Version]:
    """Every published (or retired) stored rulebook version, newest first, with what it is now."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(RulebookVersion).where(RulebookVersion.status.in_((RulebookStatus.PUBLISHED,
                                                                     RulebookStatus.RETIRED)))
        .order_by(RulebookVersion.effective_from.desc(), RulebookVersion.id.desc())
    ).scalars().all()
    try:
        current = rulebooks.rules_in_force(now).version_id
    except rulebooks.NoRulebookInForce:
        current = None

    def state(v: RulebookVersion) -> str:
        if v.id == current:
            return "in_force"
        if v.status is RulebookStatus.RETIRED:
            return "retired"
        return "scheduled" if v.effective_from > now else "superseded"

    return [Version(v.id, v.effective_from, state(v), rulebooks.compiled(v)) for v in rows]


def example_inputs(rulebook: Rulebook, scenario_id: str) -> dict[str, Any]:
    scenario = rulebook.scenarios[scenario_id]
    chosen = EXAMPLE_INPUTS.get(scenario_id, {})
    values = {}
    for item in scenario.inputs:
        if item.name in chosen:
            values[item.name] = Decimal(str(chosen[item.name]))
        elif item.default is not None:
            values[item.name] = item.default
        elif item.required:
            values[item.name] = item.min if item.min else min(Decimal(1), item.max or Decimal(1))
    return values


def worked_example(rulebook: Rulebook, scenario_id: str, at: datetime | None = None) -> Result:
    """The engine's own result for representative inputs, as a resident reporting through the scenario's first
    channel now, with no usage yet (so no cap has been reached)."""
    scenario = rulebook.scenarios[scenario_id]
    channel = "app" if "app" in scenario.channels else sorted(scenario.channels)[0]
    account_type = "resident" if "resident" in scenario.account_types else sorted(scenario.account_types)[0]
    at = at or utcnow()
    facts = Facts(scenario_id, example_inputs(rulebook, scenario_id), account_type, at, channel=channel,
                  in_household=account_type == "household", received_at=at)
    return evaluate(rulebook, facts, NO_USAGE)
