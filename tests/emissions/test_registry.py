"""The factor registry's loader: the seed file loads, and a bad file is refused with every problem's path."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest
import yaml

from emissions import RegistryError, load_registry, parse_registry
from tests.emissions import REGISTRY_PATH


@pytest.fixture
def document():
    return yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))


def refused(document) -> dict[str, str]:
    with pytest.raises(RegistryError) as error:
        parse_registry(document)
    found: dict[str, str] = {}
    for path, message in error.value.problems:
        found[path] = f"{found[path]}; {message}" if path in found else message
    return found


def test_the_seed_registry_loads_with_every_fuel_the_issue_names():
    registry = load_registry(REGISTRY_PATH)
    assert registry.version == "2026.1" and registry.method == "GB/T 32150-2015"
    assert set(registry.fuels) == {"raw_coal", "washed_coal", "coke", "natural_gas", "lpg", "diesel", "gasoline",
                                   "fuel_oil"}
    assert registry.fuels["natural_gas"].unit == "Nm3" and registry.fuels["natural_gas"].ncv_per == 10_000
    assert registry.heat.value == Decimal("110") and registry.heat.unit == "kgCO2/GJ"
    shandong = registry.grid["shandong"]
    assert [(f.data_year, f.factor.value, f.published) for f in shandong] == [
        (2021, Decimal("0.6838"), date(2024, 4, 12)), (2022, Decimal("0.6410"), date(2024, 12, 20))]


def test_the_shandong_factors_are_the_rulebooks():
    """One figure, one source: the registry's Shandong factors equal the rulebook's ef_grid_shandong (g/kWh)."""
    rulebook = yaml.safe_load((REGISTRY_PATH.parent / "rulebook-2026.4.yaml").read_text(encoding="utf-8"))
    in_rulebook = {f["year"]: (Decimal(str(f["value"])) / 1000, f["published"]) for f in rulebook["factors"]
                   if f["id"] == "ef_grid_shandong"}
    registry = load_registry(REGISTRY_PATH)
    assert {f.data_year: (f.factor.value, f.published) for f in registry.grid["shandong"]} == in_rulebook


def test_numbers_keep_their_decimal_text(document):
    document["grid"]["shandong"]["factors"][1]["value"] = 0.641  # a YAML float: read through its text
    assert parse_registry(document).grid["shandong"][1].factor.value == Decimal("0.641")


@pytest.mark.parametrize(("change", "path", "words"), [
    (lambda d: d.pop("heat"), "(document).heat", "missing"),
    (lambda d: d.update(extra=1), "(document).extra", "unknown field"),
    (lambda d: d["fuels"]["coke"]["ncv"].update(value="-28"), "fuels.coke.ncv.value", "positive"),
    (lambda d: d["fuels"]["coke"]["ncv"].update(value="abc"), "fuels.coke.ncv.value", "not a number"),
    (lambda d: d["fuels"]["coke"]["ncv"].update(value=True), "fuels.coke.ncv.value", "number written as text"),
    (lambda d: d["fuels"]["coke"]["oxidation"].update(value="1.2"), "fuels.coke.oxidation.value", "at most 1"),
    (lambda d: d["fuels"]["coke"]["carbon_content"].pop("source"), "fuels.coke.carbon_content.source", "missing"),
    (lambda d: d["fuels"]["coke"]["carbon_content"].update(source="wiki"), "fuels.coke.carbon_content.source",
     "not one of the registry's sources"),
    (lambda d: d["fuels"]["coke"]["carbon_content"].pop("table"), "fuels.coke.carbon_content.table", "missing"),
    (lambda d: d["fuels"]["coke"]["carbon_content"].update(confirmed="yes"),
     "fuels.coke.carbon_content.confirmed", "true or false"),
    (lambda d: d["fuels"]["coke"].update(unit="kg"), "fuels.coke.unit", "one of"),
    (lambda d: d["fuels"]["natural_gas"]["ncv"].update(per=0), "fuels.natural_gas.ncv.per", "whole number"),
    (lambda d: d["grid"]["shandong"]["factors"].append(copy.deepcopy(d["grid"]["shandong"]["factors"][0])),
     "grid.shandong.factors[2].data_year", "given twice"),
    (lambda d: d["grid"]["shandong"]["factors"][0].update(published="soon"), "grid.shandong.factors[0].published",
     "must be a date"),
    (lambda d: d["grid"]["shandong"]["factors"][0].update(published=date(2020, 1, 1)),
     "grid.shandong.factors[0].published", "after its data year"),
    (lambda d: d["grid"]["shandong"].update(factors=[]), "grid.shandong.factors", "non-empty list"),
    (lambda d: d.update(fuels=[]), "fuels", "non-empty mapping"),
])
def test_a_bad_registry_is_refused_with_the_path_and_the_reason(document, change, path, words):
    change(document)
    problems = refused(document)
    assert path in problems, problems
    assert words in problems[path]


def test_every_problem_is_listed_at_once(document):
    document["fuels"]["coke"]["ncv"]["value"] = "0"
    document["heat"]["unit"] = ""
    assert {"fuels.coke.ncv.value", "heat.unit"} <= set(refused(document))


def test_a_file_that_is_not_a_registry_is_refused_clearly(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: [1, 2\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"\(document\): must be a mapping"):
        load_registry(listed)
