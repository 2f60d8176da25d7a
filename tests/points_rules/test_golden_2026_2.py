"""Golden tests of the corrected rulebook, 2026.2: each correction held to a hand calculation.

Rulebook: seeds/rulebook-2026.2.yaml (1 point = 5 g CO2e, both rounded down); its header says what changed from
2026.1 and why. Times are in January 2027, Beijing, outside every campaign. Scenarios it does not change keep
2026.1's golden tests (test_golden.py): a test here checks that they still give the same result.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from points_rules import (
    NO_USAGE,
    Facts,
    RulebookError,
    Status,
    evaluate,
    load_rulebook,
    load_rulebook_file,
    parse_yaml,
)

BEIJING = timezone(timedelta(hours=8))
JANUARY = datetime(2027, 1, 6, 9, 30, tzinfo=BEIJING)
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
RULEBOOK = load_rulebook_file(SEEDS / "rulebook-2026.2.yaml")
FIRST = load_rulebook_file(SEEDS / "rulebook.yaml")


def run(scenario, inputs=None, *, rulebook=RULEBOOK, when=JANUARY, channel=None):
    channel = channel or sorted(rulebook.scenarios[scenario].channels)[0]
    return evaluate(rulebook, Facts(scenario, inputs or {}, "resident", when, channel=channel), NO_USAGE)


def check(result, grams, points, status=Status.CREDITED):
    assert (result.status, result.grams, result.points) == (status, grams, points), result.receipt.render("en")


def test_it_is_a_new_version_of_the_same_rulebook():
    assert (RULEBOOK.id, FIRST.id) == ("taian", "taian")
    assert (FIRST.version, RULEBOOK.version) == ("2026.1", "2026.2")


def test_waste_sorting__the_saving_against_incineration_not_the_scenario_total():
    # Qingdao LCA per tonne of household waste: mixed collection + incineration −130 kg, sorting with
    # recyclables recovery −230 kg. Saving = (−130) − (−230) = 100 kg/t = 100 g/kg.
    # 2.4 kg × 100 g/kg = 240 g → 240 / 5 = 48 points (2026.1 credited 2.4 × 230 = 552 g, 110 points).
    check(run("waste_sorting", {"weight_kg": 2.4}), 240, 48)
    check(run("waste_sorting", {"weight_kg": 2.4}, rulebook=FIRST), 552, 110)
    # the receipt shows both scenario totals, so the subtraction can be checked
    receipt = run("waste_sorting", {"weight_kg": 2.4}).receipt
    assert {f["id"]: f["value"] for f in receipt.factors} == {"lca_msw_mixed_incineration_per_kg": "-130",
                                                              "lca_msw_sorted_recovery_per_kg": "-230"}


def test_brt__takes_the_bus_method_not_the_metro_factor():
    # 9.5 km × 26.9 g/pkm (the bus factor) = 255.55 g → 255 g → 51 points (2026.1: × 46.8 metro = 444 g)
    check(run("brt_ride", {"distance_km": 9.5}), 255, 51)
    assert run("brt_ride", {"distance_km": 9.5}).receipt.formula == "distance_km * er_bus_per_pkm"


def test_bus__a_ride_without_a_distance_earns_a_short_ride_not_more():
    # no distance: a short ride of 1 km × 26.9 g/pkm = 26.9 g → 26 g → 5 points (2026.1: 80 g, a 2.97 km ride)
    check(run("bus_ride"), 26, 5)
    check(run("bus_ride", {"distance_km": 0}), 26, 5)
    # a known distance is counted as before: 6.2 km × 26.9 = 166.78 → 166 g → 33 points
    check(run("bus_ride", {"distance_km": 6.2}), 166, 33)
    # a known short ride earns by its distance: 0.5 × 26.9 = 13.45 → 13 g → 2.6 → 2 points
    check(run("bus_ride", {"distance_km": 0.5}), 13, 2)
    assert run("bus_ride").grams <= run("bus_ride", {"distance_km": 1}).grams


def test_walking__points_only_no_certified_grams():
    # incentive: min(12,345, 20,000) / 1,000 × 3 = 37.035 → 37 points, 0 g
    check(run("walking", {"steps": 12345}), 0, 37)
    # 25,000 steps count as 20,000: 20 × 3 = 60 points
    check(run("walking", {"steps": 25000}), 0, 60)
    assert RULEBOOK.scenarios["walking"].kind == "incentive"
    # about what 2026.1 gave in points (12,345 steps: 202 g → 40 points), but no grams are certified now
    check(run("walking", {"steps": 12345}, rulebook=FIRST), 202, 40)


def test_grid_factor__applies_from_its_publication_date():
    pv = {"kwh": 480, "rated_kw": 5, "hours": 720}
    # The 2022 factor (641 g/kWh) was published on 2024-12-20: 480 × 641 = 307,680 g from that Beijing day on.
    assert run("pv_generation", pv, when=datetime(2024, 12, 20, 0, 10, tzinfo=BEIJING)).grams == 307680
    # The day before, the 2021 factor (683.8 g/kWh, published 2024-04-12) applies: 480 × 683.8 = 328,224 g.
    assert run("pv_generation", pv, when=datetime(2024, 12, 19, 23, 50, tzinfo=BEIJING)).grams == 328224
    # 2026.1 applied the 2022 factor from 2024-01-01, before it was announced: 307,680 g in May 2024.
    assert run("pv_generation", pv, rulebook=FIRST, when=datetime(2024, 5, 1, tzinfo=BEIJING)).grams == 307680
    assert run("pv_generation", pv, when=datetime(2024, 5, 1, tzinfo=BEIJING)).grams == 328224
    # Before any grid factor was published there is none to apply: refused, never guessed.
    before = run("pv_generation", pv, when=datetime(2024, 4, 11, 12, tzinfo=BEIJING))
    assert (before.status, before.reason) == (Status.REJECTED, "no_factor_in_force")
    versions = RULEBOOK.factors["ef_grid_shandong"]
    assert [(f.year, f.published, f.valid_from) for f in versions] == [
        (2021, date(2024, 4, 12), date(2024, 4, 12)), (2022, date(2024, 12, 20), date(2024, 12, 20))]


def test_pv_generation__must_say_whether_it_earned_a_green_certificate():
    pv = {"kwh": 480, "rated_kw": 5, "hours": 720}
    # not certified elsewhere: 480 kWh × 641 g/kWh = 307,680 g certified; 61,536 points → monthly cap 10,000
    check(run("pv_generation", {**pv, "certified_elsewhere": 0}), 307680, 10000)
    # certified elsewhere (绿证 or CCER): the same points, no grams certified here (never counted twice)
    certified = run("pv_generation", {**pv, "certified_elsewhere": 1})
    check(certified, 0, 10000)
    assert [a.kind for a in certified.receipt.adjustments] == ["points_only", "cap"]
    # not stated: since August 2023 almost all renewable generation has a certificate, so silence is not "no"
    unknown = run("pv_generation", pv)
    assert (unknown.status, unknown.reason) == (Status.REVIEW, "implausible")
    assert "green certificate" in unknown.detail
    # 2026.1 refused certified generation and credited grams when the partner said nothing
    assert run("pv_generation", {**pv, "certified_elsewhere": 1}, rulebook=FIRST).status is Status.REJECTED
    check(run("pv_generation", pv, rulebook=FIRST), 307680, 10000)


def test_programmes__named_as_in_the_plan():
    names = {programme: name["zh"] for programme, name in RULEBOOK.programmes.items()}
    assert names["二"] == "节能降碳提质增效工程"
    assert names["四"] == "城乡建设绿色低碳工程"
    assert names["九"] == "全民绿色低碳工程"
    assert names["十"] == "绿色低碳开放工程"
    served = {s.id: s.programme for s in RULEBOOK.scenarios.values()}
    assert {served["bus_ride"], served["brt_ride"], served["cycling"]} == {"五"}
    assert (served["pv_generation"], served["recyclables"], served["tree_planting"]) == ("一", "六", "八")
    assert served["electricity_saving"] == served["walking"] == "九"


@pytest.mark.parametrize("scenario, inputs", [
    ("cycling", {"distance_km": 5.3, "minutes": 20}), ("nev_driving", {"km": 1234}), ("ev_charging", {"kwh": 42.5}),
    ("recyclables", {"clothes_kg": 3.5, "glass_kg": 2}), ("clean_plate", {}), ("own_bag", {}),
    ("tree_planting", {"trees": 7}), ("electricity_saving", {"baseline_kwh": 320, "actual_kwh": 281}),
])
def test_what_it_does_not_correct_gives_what_2026_1_gave(scenario, inputs):
    new, old = run(scenario, inputs), run(scenario, inputs, rulebook=FIRST)
    assert (new.status, new.grams, new.points) == (old.status, old.grams, old.points)


def test_a_factor_may_not_apply_before_its_publication():
    document, _ = parse_yaml((SEEDS / "rulebook-2026.2.yaml").read_text("utf-8"))
    grid = next(f for f in document["factors"] if f["id"] == "ef_grid_shandong" and f["year"] == 2022)
    grid["valid_from"] = date(2024, 1, 1)  # as 2026.1 had it
    with pytest.raises(RulebookError) as caught:
        load_rulebook(document)
    assert any(path.endswith(".valid_from") and "applies from its publication (2024-12-20)" in message
               for path, message in caught.value.errors), caught.value.errors
