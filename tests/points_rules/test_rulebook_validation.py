"""Rulebook documents that must be refused, each with the path (and YAML line) of the problem."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from points_rules import RulebookError, load_rulebook, load_rulebook_file, parse_yaml

SEED = Path(__file__).resolve().parents[2] / "seeds" / "rulebook.yaml"

MINIMAL = {
    "id": "test", "version": "1", "name_zh": "测试", "name_en": "Test",
    "points": {"grams_per_point": 10, "hold_days": 0, "expiry_months": 12, "claim_window_days": 7},
    "programmes": [{"id": "五", "name_zh": "交通", "name_en": "Transport"}],
    "factors": [{"id": "ef_bus", "value": 26.9, "unit": "g/pkm", "source": "Shenzhen", "year": 2022}],
    "scenarios": [
        {"id": "bus_ride", "name_zh": "公交", "name_en": "Bus", "programme": "五", "kind": "reduction",
         "channels": ["app"], "account_types": ["resident"],
         "inputs": [{"name": "km", "unit": "km", "min": 0, "max": 100}],
         "methodology": {"version": "v1", "formula": "km * ef_bus"},
         "caps": [{"per": "day", "unit": "count", "limit": 4}]},
        {"id": "walking", "name_zh": "步行", "name_en": "Walk", "programme": "五", "kind": "incentive",
         "channels": ["app"], "account_types": ["resident"], "incentive": {"points": "10"}},
    ],
}


def refused(document) -> list[tuple[str, str]]:
    with pytest.raises(RulebookError) as caught:
        load_rulebook(document)
    return caught.value.errors


def changed(**paths):
    """A copy of MINIMAL with values set at dotted paths ("scenarios.0.caps.0.limit")."""
    document = copy.deepcopy(MINIMAL)
    for path, value in paths.items():
        *parents, last = path.split("__")
        node = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
    return document


def test_the_minimal_document_and_the_tai_an_rulebook_load():
    assert load_rulebook(MINIMAL).scenarios["bus_ride"].factor_ids == ("ef_bus",)
    rulebook = load_rulebook_file(SEED)
    assert rulebook.id == "taian" and len(rulebook.scenarios) == 15


def test_an_unknown_field_is_named_by_its_path():
    assert ("colour", "Unknown field.") in refused(changed(colour="green"))
    assert ("scenarios[0].caps[0].bogus", "Unknown field.") in refused(changed(scenarios__0__caps__0__bogus=1))


@pytest.mark.parametrize("formula, complaint", [
    ("__import__('os')", "calling '__import__' is not allowed"),
    ("__import__('os').system('id')", "attribute access is not allowed"),
    ("km.real", "attribute access is not allowed"),
    ("(lambda: 1)()", "lambda is not allowed"),
    ("sum([k for k in [km]])", "calling 'sum' is not allowed"),
    ("[k for k in [km]]", "comprehensions are not allowed"),
    ("km ** 99", "'**' is not allowed"),
    ("open('/etc/passwd')", "calling 'open' is not allowed"),
])
def test_formulas_outside_the_whitelist_are_refused(formula, complaint):
    errors = refused(changed(scenarios__0__methodology__formula=formula))
    assert len(errors) == 1
    path, message = errors[0]
    assert path == "scenarios[0].methodology.formula"
    assert complaint in message and message.startswith("line 1, column ")


def test_an_undefined_factor_is_refused_where_it_is_used():
    errors = refused(changed(scenarios__0__methodology__formula="km * ef_bus_2099"))
    assert errors == [("scenarios[0].methodology.formula",
                       "line 1, column 6: unknown name 'ef_bus_2099' (not an input or factor)")]


def test_a_negative_cap_is_refused():
    assert ("scenarios[0].caps[0].limit", "Must be greater than or equal to 0.") in refused(
        changed(scenarios__0__caps__0__limit=-1))


def test_an_unknown_period_names_its_path():
    errors = refused(changed(scenarios__0__caps__0__per="fortnight"))
    assert [path for path, _ in errors] == ["scenarios[0].caps[0].per"]


def test_overlapping_scenario_ids_are_refused():
    document = changed(scenarios__1__id="bus_ride")
    assert ("scenarios[1].id", "duplicate of scenarios[0].id ('bus_ride')") in refused(document)


def test_overlapping_factor_versions_are_refused():
    document = copy.deepcopy(MINIMAL)
    document["factors"].append({"id": "ef_bus", "value": 30, "unit": "g/pkm", "source": "x", "year": 2025,
                                "valid_from": "2025-01-01"})
    assert [p for p, _ in refused(document)] == ["factors[1].valid_from"]
    document["factors"][0]["valid_to"] = "2025-01-01"  # now they follow one another
    assert load_rulebook(document).factors["ef_bus"][1].value == 30


def test_points_only_rules_belong_to_reductions():
    document = changed(scenarios__1__points_only=[{"when": "1 == 1", "reason_zh": "别处", "reason_en": "elsewhere"}])
    assert [p for p, _ in refused(document)] == ["scenarios[1].points_only"]  # walking here is an incentive
    document = changed(scenarios__0__points_only=[{"when": "km > 50", "reason_zh": "别处", "reason_en": "elsewhere"}])
    assert load_rulebook(document).scenarios["bus_ride"].points_only[0].reason_en == "elsewhere"
    document = changed(scenarios__0__points_only=[{"when": "miles > 5", "reason_zh": "别处", "reason_en": "x"}])
    assert [p for p, _ in refused(document)] == ["scenarios[0].points_only[0].when"]  # an unknown name


def test_every_problem_is_reported_at_once():
    document = changed(scenarios__0__caps__0__limit=-5, scenarios__1__programme="十一", colour="x")
    assert {p for p, _ in refused(document)} == {"colour", "scenarios[0].caps[0].limit"}
    # cross-checks run once the shape is right, and also collect everything
    document = changed(scenarios__1__programme="十一", scenarios__0__methodology__formula="km * nope")
    assert {p for p, _ in refused(document)} == {"scenarios[1].programme", "scenarios[0].methodology.formula"}


def test_kinds_need_their_rule_and_campaigns_their_scenarios():
    no_method = changed()
    del no_method["scenarios"][0]["methodology"]
    assert ("scenarios[0].methodology", "a reduction scenario needs a methodology") in refused(no_method)
    campaign = {"id": "c", "name_zh": "活动", "name_en": "C", "starts_at": "2026-06-15T00:00:00+08:00",
                "ends_at": "2026-06-14T00:00:00+08:00", "target": {"scenarios": ["ghost"]},
                "effects": [{"type": "streak_bonus", "points": 5}], "budget_points": 100}
    errors = dict(refused(changed(campaigns=[campaign])))
    assert errors.keys() == {"campaigns[0].ends_at", "campaigns[0].effects[0].actions", "campaigns[0].effects[0].per"}


def test_yaml_errors_come_with_their_line():
    text = SEED.read_text(encoding="utf-8").replace("limit: 4}", "limit: -4}", 1)
    document, lines = parse_yaml(text)
    with pytest.raises(RulebookError) as caught:
        load_rulebook(document, lines)
    (message,) = caught.value.describe()
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "limit: -4" in row)
    assert message == f"line {line}: scenarios[0].caps[0].limit: Must be greater than or equal to 0."


def test_a_document_from_yaml_and_its_json_copy_are_the_same_rulebook():
    document, _ = parse_yaml(SEED.read_text(encoding="utf-8"))
    stored = json.loads(json.dumps(document))  # what the database keeps
    assert load_rulebook(stored).document == load_rulebook(document).document
