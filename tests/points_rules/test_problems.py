"""Every problem the rulebook loader can report has a code with words in Chinese and English.

One broken rulebook per kind of problem (``CASES``, also drawn in the console's editor by
tests/admin/test_rulebook_problems.py); the codes the sources use, found by reading them, all have words; and every
code is either produced by a case or listed as unreachable, with why.
"""

from __future__ import annotations

import ast
import copy
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from marshmallow import Schema, fields, validate

from points_rules import RulebookError, load_rulebook, parse_yaml
from points_rules import schema as rulebook_schema
from points_rules.problems import SCHEMA_TEXTS, WORDS, Problem, from_schema
from tests.points_rules.test_rulebook_validation import MINIMAL

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = {"id": "spring", "name_zh": "春季", "name_en": "Spring", "starts_at": "2026-03-01T00:00:00+08:00",
            "ends_at": "2026-04-01T00:00:00+08:00", "effects": [{"type": "fixed_bonus", "points": 5}],
            "budget_points": 1000}
TWO_CHANNELS = ["app", "partner:transit"]


@dataclass(frozen=True)
class Case:
    code: str  # the problem's code; for a formula, the code of its reason
    edit: Callable[[dict], object] | str  # changes a copy of MINIMAL, or the YAML text itself

    def source(self) -> str:
        if isinstance(self.edit, str):
            return self.edit
        document = copy.deepcopy(MINIMAL)
        self.edit(document)
        return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def bus(**changes) -> Callable[[dict], None]:
    return lambda d: d["scenarios"][0].update(changes)


def walking(**changes) -> Callable[[dict], None]:
    return lambda d: d["scenarios"][1].update(changes)


def formula(text: str) -> Callable[[dict], None]:
    return lambda d: d["scenarios"][0]["methodology"].update(formula=text)


def trust(rules: dict, channels=("app",)) -> Callable[[dict], None]:
    return bus(channels=list(channels), trust=rules)


def factor(**changes) -> Callable[[dict], None]:
    return lambda d: d["factors"][0].update(changes)


def campaign(**changes) -> Callable[[dict], None]:
    return lambda d: d.update(campaigns=[{**CAMPAIGN, **changes}])


def both(*edits) -> Callable[[dict], None]:
    def edit(document):
        for one in edits:
            one(document)
    return edit


CASES = [
    # the document
    Case("yaml_invalid", "id: [test\nversion: 1\n"),
    Case("not_a_mapping", "- id: test\n- version: 1\n"),
    # cross-checks
    Case("duplicate", lambda d: d["programmes"].append(dict(d["programmes"][0]))),
    Case("valid_to_not_after_from", factor(valid_from="2024-01-01", valid_to="2023-01-01")),
    Case("before_published", factor(valid_from="2024-01-01", published="2024-06-01")),
    Case("factor_is_function", lambda d: d["factors"].append({**d["factors"][0], "id": "max"})),
    Case("factor_overlap", lambda d: d["factors"].append(dict(d["factors"][0]))),
    Case("unknown_programme", bus(programme="九")),
    Case("duplicate_input", lambda d: d["scenarios"][0]["inputs"].append(dict(d["scenarios"][0]["inputs"][0]))),
    Case("input_name_taken", lambda d: d["scenarios"][0]["inputs"].append({"name": "ef_bus", "unit": "x"})),
    Case("max_below_min", lambda d: d["scenarios"][0]["inputs"][0].update(min=10, max=5)),
    Case("not_another_scenario", bus(excludes=["bus_ride"])),
    Case("unknown_scenario", campaign(target={"scenarios": ["ferry"]})),
    # formulas
    Case("formula_empty", formula("   ")),
    Case("formula_syntax", formula("km *")),
    Case("formula_too_many_parts", formula(" + ".join(["km"] * 200))),
    Case("formula_attribute", formula("km.real")),
    Case("formula_subscript", formula("km[0]")),
    Case("formula_lambda", formula("(lambda: 1)()")),
    Case("formula_comprehension", formula("[x for x in km]")),
    Case("formula_assignment", formula("(y := km)")),
    Case("formula_power", formula("km ** 2")),
    Case("formula_string", formula('f"{km}"')),
    Case("formula_await", formula("await km")),
    Case("formula_construct", formula("(km, 1)")),
    Case("formula_constant", formula("'km'")),
    Case("formula_uncalled_function", formula("max")),
    Case("formula_underscore", formula("_k0 * km")),
    Case("formula_unknown_name", formula("km * ef_ferry")),
    Case("formula_call_target", formula("max(1, 2)(km)")),
    Case("formula_call_unknown", formula("abs(km)")),
    Case("formula_call_arguments", formula("max(*km)")),
    Case("formula_arity", formula("floor(km, 2)")),
    # trust per channel
    Case("trust_scenario_wide", bus(evidence="photo", trust={"app": "as_reported"})),
    Case("trust_channel_missing", trust({"app": "as_reported"}, TWO_CHANNELS)),
    Case("trust_unknown_channel", trust({"app": "as_reported", "partner:ferry": "as_reported"})),
    Case("trust_evidence_not_app", trust({"app": "as_reported", "partner:transit": {"evidence": "photo"}},
                                         TWO_CHANNELS)),
    Case("trust_review_and_bounds", trust({"app": {"review": "always", "below": {"count_per_day": 2}}})),
    Case("trust_says_nothing", trust({"app": {}})),
    Case("trust_unknown_input", trust({"app": {"below": {"stops": 5}}})),
    Case("trust_unknown_input_none", walking(trust={"app": {"below": {"stops": 5}}})),
    Case("trust_bound_not_lower", trust({"app": {"below": {"km": 100}}})),
    # one fact, one credit
    Case("same_fact_channels", bus(same_fact={"window_minutes": 60})),
    Case("same_fact_unknown_input", bus(channels=TWO_CHANNELS, same_fact={
        "window_minutes": 60, "quantity": {"input": "stops", "within": 0.5}})),
    # the schema's own messages
    Case("identifier", bus(id="Bus")),
    Case("channel", bus(channels=["phone"])),
    Case("bound_name", trust({"app": {"below": {"Km": 5}}})),
    Case("bound_number", trust({"app": {"below": {"km": "many"}}})),
    Case("bound_positive", trust({"app": {"below": {"km": -1}}})),
    Case("below_empty", trust({"app": {"below": {}}})),
    Case("trust_rule_shape", trust({"app": 5})),
    Case("reduction_needs_methodology", lambda d: d["scenarios"][0].pop("methodology")),
    Case("incentive_needs_incentive", lambda d: d["scenarios"][1].pop("incentive")),
    Case("incentive_has_methodology", walking(methodology={"version": "v1", "formula": "1"})),
    Case("incentive_points_only", walking(points_only=[{"when": "1 > 0", "reason_zh": "绿证", "reason_en": "green"}])),
    Case("effect_needs_field", campaign(effects=[{"type": "multiplier"}])),
    Case("ends_before_start", campaign(ends_at=CAMPAIGN["starts_at"])),
    # marshmallow's own messages
    Case("missing", lambda d: d.pop("name_en")),
    Case("unknown_field", lambda d: d.update(colour="green")),
    Case("null", lambda d: d.update(name_zh=None)),
    Case("invalid_type", lambda d: d["scenarios"].append("ferry")),
    Case("not_a_string", lambda d: d.update(name_zh=5)),
    Case("not_a_number", factor(value="a lot")),
    Case("not_an_integer", lambda d: d["points"].update(grams_per_point="ten")),
    Case("special_number", factor(value=float("nan"))),
    Case("not_a_boolean", lambda d: d["scenarios"][0]["inputs"][0].update(required="maybe")),
    Case("not_a_date", factor(valid_from="spring")),
    Case("not_a_list", bus(channels="app")),
    Case("not_a_mapping_type", bus(trust="as_reported")),
    Case("length_between", lambda d: d.update(name_zh="")),
    Case("too_short", bus(channels=[])),
    Case("range_between", factor(year=1800)),
    Case("range_min", lambda d: d["points"].update(grams_per_point=0)),
    Case("one_of", bus(kind="avoided")),
    Case("not_a_datetime", campaign(starts_at="spring")),
    Case("datetime_awareness", campaign(starts_at="2026-03-01T00:00:00")),
]

#: Codes no rulebook document reaches, and why (each still has its words, in case that changes).
UNREACHABLE = {
    "formula_too_long": "the schema refuses a formula over 2,000 characters before it is compiled",
    "invalid_value": "marshmallow's validator_failed: every validator the schema uses raises its own message",
    "invalid_nested_type": "only a Nested field with many=True says it; the schema has none",
    "not_utf8": "YAML and JSON give text, never bytes",
    "number_too_large": "Decimal and strict Integer fields do not overflow",
    "date_format": "said when dumping a date, never when loading",
    "datetime_format": "said when dumping a datetime, never when loading",
    "length_equal": "no Length(equal=…) in the schema",
    "too_long": "every Length with a max also has a min, which says length_between instead",
    "range_max": "every Range with a max also has a min, which says range_between instead",
    "no_match": "every Regexp in the schema gives its own error=",
    "schema_other": "a schema message none of the others recognises: test_every_schema_message_is_recognised",
}

ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,']+[A-Za-z]{2,}){2,}")  # three English words in a row


def problems_of(case: Case) -> list[tuple[str, Problem]]:
    with pytest.raises(RulebookError) as caught:
        document, lines = parse_yaml(case.source())
        load_rulebook(document, lines)
    return caught.value.errors


def codes_in(problem: Problem) -> set[str]:
    return {problem.code} | {c for v in problem.params.values() if isinstance(v, Problem) for c in codes_in(v)}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.code)
def test_each_broken_rulebook_reports_its_problem_in_both_languages(case):
    errors = problems_of(case)
    assert all(isinstance(problem, Problem) for _path, problem in errors), errors
    assert any(case.code in codes_in(problem) for _path, problem in errors), errors
    for _path, problem in errors:
        chinese, english = problem.words("zh_CN"), problem.words("en")
        assert english == str(problem)  # what the CLI and the API say
        assert re.search(r"[\u4e00-\u9fff]", chinese) and not ENGLISH_SENTENCE.search(chinese), chinese
        typed = set(re.findall(r"[\u4e00-\u9fff]+", case.source()))
        assert set(re.findall(r"[\u4e00-\u9fff]+", english)) <= typed, english  # no Chinese but what was typed


def test_every_code_is_produced_by_a_case_or_unreachable_for_a_reason():
    assert len({case.code for case in CASES}) == len(CASES)  # one case per code
    produced = {code for case in CASES for _path, problem in problems_of(case) for code in codes_in(problem)}
    assert sorted(set(WORDS) - produced - set(UNREACHABLE)) == []
    assert sorted((produced | set(UNREACHABLE)) - set(WORDS)) == []
    assert produced.isdisjoint(UNREACHABLE)


def test_every_code_has_words_with_the_same_fields_in_both_languages():
    for code, (chinese, english) in WORDS.items():
        zh = {name for _t, name, _s, _c in string.Formatter().parse(chinese) if name}
        en = {name for _t, name, _s, _c in string.Formatter().parse(english) if name}
        assert chinese.strip() and english.strip(), code
        assert zh <= en, (code, zh - en)  # Chinese may leave out an English parameter, never invent one
    with pytest.raises(KeyError):
        Problem("a_code_without_words")


def codes_used_in_sources() -> dict[str, set[str]]:
    """Codes passed to the loader's reporting calls, found by reading the engine's sources: ``error(path, code)``
    and ``self.error(path, code)``, ``Problem(code)``, ``FormulaError(code)``, and formula refusals' table."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "points_rules").glob("*.py"):
        if path.name == "problems.py":  # the wording itself
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # FormulaError and the loader's error() pass the code they were given on to Problem
        exempt = {id(n) for c in ast.walk(tree) if isinstance(c, ast.ClassDef | ast.FunctionDef)
                  and c.name in ("FormulaError", "error") for n in ast.walk(c)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and id(node) not in exempt:
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                position = {"error": 1, "Problem": 0, "FormulaError": 0}.get(name)
                if position is None or len(node.args) <= position:
                    continue
                argument = node.args[position]
                assert isinstance(argument, ast.Constant) or name == "FormulaError", (
                    f"{path.name}:{node.lineno}: a problem's code is a literal (free text has no Chinese words)")
                if isinstance(argument, ast.Constant):
                    found.setdefault(argument.value, set()).add(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_REFUSALS" for t in node.targets):
                for value in node.value.values:
                    found.setdefault(value.value, set()).add(f"{path.name}:{node.lineno}")
    return found


def test_every_code_the_engine_reports_has_words():
    used = codes_used_in_sources()
    assert {"duplicate", "trust_says_nothing", "same_fact_channels", "formula_power", "below_empty"} <= set(used)
    assert {code: where for code, where in used.items() if code not in WORDS} == {}


def test_the_schema_gives_no_free_text():
    tree = ast.parse((ROOT / "points_rules" / "schema.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ValidationError" and node.args:
            assert not isinstance(node.args[0], ast.Constant), f"schema.py:{node.lineno}: use a Problem"
        if isinstance(node, ast.List) and node.elts and all(isinstance(e, ast.Constant) for e in node.elts):
            values = [e.value for e in node.elts]
            assert not any(isinstance(v, str) and " " in v for v in values), f"schema.py:{node.lineno}: {values}"


def schema_templates() -> set[str]:
    """Every message template the rulebook schema's fields and validators can give."""
    texts = set()
    schemas = [v for v in vars(rulebook_schema).values() if isinstance(v, type) and issubclass(v, Schema)]
    for cls in schemas:
        instance = cls()
        texts |= set(instance.error_messages.values())
        todo = list(instance.fields.values())
        while todo:
            field = todo.pop()
            texts |= set(field.error_messages.values())
            todo += [f for f in (getattr(field, "inner", None), getattr(field, "key_field", None),
                                 getattr(field, "value_field", None)) if isinstance(f, fields.Field)]
            for validator in field.validators:
                if isinstance(validator, validate.Length):
                    texts |= {validator.message_min, validator.message_max, validator.message_all,
                              validator.message_equal}
                elif isinstance(validator, validate.Range):
                    texts |= {validator.message_min, validator.message_max, validator.message_all}
                elif getattr(validator, "error", None):
                    texts.add(validator.error)
    return texts


def sample(template: str) -> str:
    """A template as marshmallow fills it in (any value for each field)."""
    names = {name for _t, name, _s, _c in string.Formatter().parse(template) if name}
    return template.format(**{name: "7" for name in names})


def test_every_schema_message_is_recognised():
    templates = schema_templates()
    assert "Unknown field." in templates and "Must be one of: {choices}." in templates  # the walk found them
    unrecognised = sorted(t for t in templates if from_schema(sample(t)).code == "schema_other")
    assert unrecognised == [], "give these marshmallow messages a code in points_rules/problems.py"
    assert from_schema("Must be greater than or equal to 1 and less than or equal to 9.").code == "range_between"
    assert from_schema("Not a valid list.").code == "not_a_list"
    assert {code for code in SCHEMA_TEXTS} <= set(WORDS)


def test_the_cli_and_the_api_keep_the_english_words():
    errors = problems_of(Case("x", formula("km ** 2")))
    (path, problem), = errors
    assert path == "scenarios[0].methodology.formula"
    assert problem == "line 1, column 1: '**' is not allowed"
    assert problem.words("zh") == "公式第 1 行第 1 列：不允许使用“**”（乘方）。"
