"""Loading a rulebook: YAML text or a stored document in, a validated ``Rulebook`` out.

``load_rulebook`` takes the document (a mapping, as stored in the database as JSON) and either returns a
``Rulebook`` or raises ``RulebookError`` listing every problem with its path (``scenarios[3].caps[0].per``) and,
when the document came from YAML text, its line. Each problem is a ``problems.Problem``: a code with its words in
Chinese and English, never free text. The schema (``schema``) checks shapes; ``_Builder`` makes the
cross-checks a schema cannot (names, overlapping factor versions, formulas) and builds the model (``rulebook``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from points_rules.formula import FUNCTIONS, Formula, FormulaError, compile_formula
from points_rules.periods import Period, as_utc
from points_rules.problems import Problem, from_schema
from points_rules.rulebook import Campaign, Cap, Condition, Effect, Factor, Input, Rulebook, RulebookError, Scenario
from points_rules.same_fact import build as build_same_fact
from points_rules.schema import RulebookSchema, error_paths
from points_rules.trust import build as build_trust


def parse_yaml(text: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The document and the 1-based line of every path in it (for errors shown at the right line)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise RulebookError([("(document)", Problem("yaml_invalid", problem=getattr(exc, "problem", None) or exc))],
                            {"(document)": line} if line else None) from None
    if not isinstance(data, dict):
        raise RulebookError([("(document)", Problem("not_a_mapping"))])
    lines: dict[str, int] = {}

    def walk(current, path):
        lines[path or "(document)"] = current.start_mark.line + 1
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                walk(value, f"{path}.{key.value}" if path else key.value)
                lines.setdefault(f"{path}.{key.value}" if path else key.value, key.start_mark.line + 1)
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                walk(item, f"{path}[{index}]")

    walk(node, "")
    return _json_ready(data), lines


def _json_ready(value):
    """YAML dates and datetimes as ISO text, so a document from YAML equals the same one from JSON."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def load_rulebook_file(path: str | Path) -> Rulebook:
    text = Path(path).read_text(encoding="utf-8")
    document, lines = parse_yaml(text)
    return load_rulebook(document, lines)


def load_rulebook(document: Mapping[str, Any], lines: Mapping[str, int] | None = None) -> Rulebook:
    try:
        data = RulebookSchema().load(document)
    except ValidationError as exc:
        raise RulebookError([(path, from_schema(message)) for path, message in error_paths(exc.messages)],
                            lines) from None
    builder = _Builder(data)
    rulebook = builder.build(document)
    if builder.errors:
        raise RulebookError(builder.errors, lines)
    return rulebook


class _Builder:
    """Cross-checks the schema cannot make, collecting every error before giving up."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.errors: list[tuple[str, Problem]] = []

    def error(self, path: str, code: str, **params) -> None:
        """Report a problem at ``path``: a code of ``points_rules.problems`` (which words it) and its parameters."""
        self.errors.append((path, Problem(code, **params)))

    def unique(self, items: list[dict], key: str, section: str) -> None:
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if item[key] in seen:
                self.error(f"{section}[{index}].{key}", "duplicate", section=section, first=seen[item[key]],
                           key=key, value=item[key])
            seen.setdefault(item[key], index)

    def build(self, document) -> Rulebook | None:
        data = self.data
        self.unique(data["programmes"], "id", "programmes")
        self.unique(data["scenarios"], "id", "scenarios")
        self.unique(data["campaigns"], "id", "campaigns")
        factors = self.factors(data["factors"])
        scenario_ids = {s["id"] for s in data["scenarios"]}
        scenarios = {}
        default_hold = data["points"]["hold_days"]
        for index, raw in enumerate(data["scenarios"]):
            scenario = self.scenario(index, raw, factors, scenario_ids, {p["id"] for p in data["programmes"]},
                                     default_hold)
            if scenario is not None:
                scenarios.setdefault(scenario.id, scenario)
        campaigns = tuple(self.campaign(i, raw, scenario_ids) for i, raw in enumerate(data["campaigns"]))
        if self.errors:
            return None
        points = data["points"]
        return Rulebook(
            id=data["id"], version=data["version"], name_zh=data["name_zh"], name_en=data["name_en"],
            grams_per_point=points["grams_per_point"], hold_days=points["hold_days"],
            expiry_months=points["expiry_months"], claim_window_days=points["claim_window_days"],
            annual_cap_points=points["annual_cap_points"],
            programmes={p["id"]: {"zh": p["name_zh"], "en": p["name_en"]} for p in data["programmes"]},
            factors=factors, scenarios=scenarios, campaigns=campaigns, document=document,
            claim_window=timedelta(days=points["claim_window_days"]),
            campaigns_for={sid: tuple(c for c in campaigns if not c.scenarios or sid in c.scenarios)
                           for sid in scenarios},
        )

    def factors(self, raw: list[dict]) -> dict[str, tuple[Factor, ...]]:
        grouped: dict[str, list[tuple[int, Factor]]] = defaultdict(list)
        for index, item in enumerate(raw):
            factor = Factor(item["id"], item["value"], item["unit"], item["source"], item["year"],
                            item["valid_from"], item["valid_to"], item.get("published"))
            if factor.valid_from and factor.valid_to and factor.valid_to <= factor.valid_from:
                self.error(f"factors[{index}].valid_to", "valid_to_not_after_from")
            if factor.published and (factor.valid_from is None or factor.valid_from < factor.published):
                self.error(f"factors[{index}].valid_from", "before_published", published=factor.published)
            if factor.id in FUNCTIONS:
                self.error(f"factors[{index}].id", "factor_is_function", name=factor.id)
            grouped[factor.id].append((index, factor))
        for versions in grouped.values():
            ordered = sorted(versions, key=lambda pair: pair[1].valid_from or date.min)
            for (_, earlier), (index, later) in zip(ordered, ordered[1:], strict=False):
                if earlier.valid_to is None or (later.valid_from or date.min) < earlier.valid_to:
                    self.error(f"factors[{index}].valid_from", "factor_overlap", name=later.id)
        return {fid: tuple(f for _, f in versions) for fid, versions in grouped.items()}

    def formula(self, path: str, source: str, names: set[str]) -> Formula | None:
        try:
            return compile_formula(source, names)
        except FormulaError as exc:
            self.error(path, "formula", line=exc.line, column=exc.column, reason=exc.problem)
            return None

    def scenario(self, index: int, raw: dict, factors: dict, scenario_ids: set[str], programmes: set[str],
                 default_hold: int):
        path = f"scenarios[{index}]"
        if raw["programme"] not in programmes:
            self.error(f"{path}.programme", "unknown_programme", programme=raw["programme"])
        inputs = []
        seen_inputs: set[str] = set()
        for i, item in enumerate(raw["inputs"]):
            where = f"{path}.inputs[{i}]"
            if item["name"] in seen_inputs:
                self.error(f"{where}.name", "duplicate_input", name=item["name"])
            if item["name"] in factors or item["name"] in FUNCTIONS:
                self.error(f"{where}.name", "input_name_taken", name=item["name"])
            if item["min"] is not None and item["max"] is not None and item["min"] > item["max"]:
                self.error(f"{where}.max", "max_below_min")
            seen_inputs.add(item["name"])
            inputs.append(Input(item["name"], item["unit"], item["min"], item["max"], item["required"],
                                item["default"], item["label_zh"], item["label_en"]))
        names = seen_inputs | set(factors)
        if raw["kind"] == "reduction":
            formula_path, source = f"{path}.methodology.formula", raw["methodology"]["formula"]
        else:
            formula_path, source = f"{path}.incentive.points", raw["incentive"]["points"]
        formula = self.formula(formula_path, source, names)
        conditions = {}
        for section in ("eligibility", "plausibility", "points_only"):
            conditions[section] = tuple(
                Condition(compiled, item["reason_zh"], item["reason_en"])
                for i, item in enumerate(raw[section])
                if (compiled := self.formula(f"{path}.{section}[{i}].when", item["when"], names)) is not None
            )
        for i, name in enumerate(raw["excludes"]):
            if name not in scenario_ids or name == raw["id"]:
                self.error(f"{path}.excludes[{i}]", "not_another_scenario", name=name)
        caps = tuple(Cap(i, Period(c["per"]), c["scope"], c["unit"], c["limit"], (raw["id"], Period(c["per"])),
                         c["scope"] == "household") for i, c in enumerate(raw["caps"]))
        if formula is None:
            return None
        every_condition = conditions["eligibility"] + conditions["plausibility"] + conditions["points_only"]
        used = set(formula.names).union(*(c.formula.names for c in every_condition))
        methodology = raw["methodology"] or {}
        trust = build_trust(path, raw["trust"], raw, {i["name"]: i for i in raw["inputs"]}, self.error)
        return Scenario(
            id=raw["id"], name_zh=raw["name_zh"], name_en=raw["name_en"], programme=raw["programme"],
            kind=raw["kind"], channels=frozenset(raw["channels"]), evidence=raw["evidence"] or "none",
            review=bool(raw["review"]),
            account_types=frozenset(raw["account_types"]), inputs=tuple(inputs), formula=formula,
            methodology_version=methodology.get("version"), methodology_source=methodology.get("source"),
            eligibility=conditions["eligibility"], plausibility=conditions["plausibility"], caps=caps,
            hold_days=raw["hold_days"], excludes=tuple(raw["excludes"]),
            factor_ids=(factor_ids := tuple(sorted(used & set(factors)))), input_names=frozenset(seen_inputs),
            factor_versions={f: factors[f] for f in factor_ids},
            hold=timedelta(days=default_hold if raw["hold_days"] is None else raw["hold_days"]),
            description_zh=raw["description_zh"], description_en=raw["description_en"],
            points_only=conditions["points_only"], trust=trust,
            same_fact=build_same_fact(path, raw["same_fact"], raw, self.error),
        )

    def campaign(self, index: int, raw: dict, scenario_ids: set[str]) -> Campaign:
        target = raw["target"]
        for i, name in enumerate(target.get("scenarios", [])):
            if name not in scenario_ids:
                self.error(f"campaigns[{index}].target.scenarios[{i}]", "unknown_scenario", name=name)
        effects = tuple(
            Effect(e["type"], e["factor"], e["points"], e["actions"], Period(e["per"]) if e["per"] else None)
            for e in raw["effects"]
        )
        return Campaign(
            id=raw["id"], name_zh=raw["name_zh"], name_en=raw["name_en"], starts_at=as_utc(raw["starts_at"]),
            ends_at=as_utc(raw["ends_at"]), scenarios=frozenset(target.get("scenarios", [])),
            districts=frozenset(target.get("districts", [])), account_types=frozenset(target.get("account_types", [])),
            effects=effects, budget_points=raw["budget_points"], per_participant_points=raw["per_participant_points"],
        )
