"""Golden tests of rulebook 2026.3's vehicle methodologies: NEV driving and EV charging from T/CSAE 235-2021.

Rulebook: seeds/rulebook-2026.3.yaml (1 point = 5 g CO2e, both rounded down). Each figure below is worked out by
hand from the factors the rulebook states, in the order its formula multiplies them:

    petrol car, per km:  7.2 L/100 km / 100                 = 0.072 L/km
                         × 0.72 kg/L (density)              = 0.05184 kg/km
                         × 43.07 MJ/kg / 1000 (NCV)         = 0.0022327488 GJ/km
                         × 18.9 kgC/GJ (carbon content)     = 0.04219895232 kgC/km
                         × 0.98 (oxidation)                 = 0.0413549732736 kgC/km
                         × 44/12                            = 0.1516349020032 kg CO2/km
                         × 1000                             = 151.6349020032 g/km
    electric car, per km: 15.4 kWh/100 km / 100 × 641 g/kWh (Shandong 2022, in force from 2024-12-20)
                                                            = 98.714 g/km
                          on the 2021 factor, 683.8 g/kWh   = 105.3052 g/km
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from points_rules import NO_USAGE, Facts, Status, evaluate, load_rulebook_file

BEIJING = timezone(timedelta(hours=8))
JANUARY_2027 = datetime(2027, 1, 6, 9, 30, tzinfo=BEIJING)  # the 2022 grid factor is in force
AUGUST_2024 = datetime(2024, 8, 6, 9, 30, tzinfo=BEIJING)  # the 2021 grid factor is in force
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
RULEBOOK = load_rulebook_file(SEEDS / "rulebook-2026.3.yaml")
BEFORE = load_rulebook_file(SEEDS / "rulebook-2026.2.yaml")


def run(scenario, inputs, *, rulebook=RULEBOOK, when=JANUARY_2027):
    channel = sorted(rulebook.scenarios[scenario].channels)[0]
    return evaluate(rulebook, Facts(scenario, inputs, "resident", when, channel=channel), NO_USAGE)


def check(result, grams, points):
    assert (result.status, result.grams, result.points) == (Status.CREDITED, grams, points), \
        result.receipt.render("en")


def test_it_corrects_2026_2():
    assert (BEFORE.version, RULEBOOK.version) == ("2026.2", "2026.3")


def test_nev_driving__petrol_car_baseline_less_the_electricity_drawn():
    # 151.6349020032 − 98.714 = 52.9209020032 g/km; 800 km → 42,336.72 g → 42,336 g → 8,467.2 → 8,467 points
    check(run("nev_driving", {"km": 800}), 42336, 8467)
    # 2026.2 credited the taxi figure: 800 × 7 = 5,600 g, 1,120 points
    check(run("nev_driving", {"km": 800}, rulebook=BEFORE), 5600, 1120)


def test_nev_driving__the_grid_factor_in_force_on_the_day():
    # August 2024, 2021 factor: 151.6349020032 − 105.3052 = 46.3297020032 g/km
    # 800 km → 37,063.76 g → 37,063 g → 7,412.6 → 7,412 points
    check(run("nev_driving", {"km": 800}, when=AUGUST_2024), 37063, 7412)


def test_nev_driving__points_stop_at_10000_a_month_grams_certified_in_full():
    # 1,000 km → 52,920.9020032 g → 52,920 g; 52,920 / 5 = 10,584 points, capped at 10,000 a month
    result = run("nev_driving", {"km": 1000})
    assert (result.grams, result.points) == (52920, 10000), result.receipt.render("en")


def test_ev_charging__the_same_figures_per_kwh():
    # a kWh drives 100 / 15.4 = 6.493506… km, which a petrol car drives at 151.6349020032 g/km:
    # 151.6349020032 / 0.154 = 984.6422208 g; less the kWh's own 641 g → 343.6422208 g per kWh
    # 30 kWh → 10,309.266624 g → 10,309 g → 2,061.8 → 2,061 points
    check(run("ev_charging", {"kwh": 30}), 10309, 2061)
    # 2026.2: 30 × 6.5 km/kWh × 7 g/km = 1,365 g, 273 points
    check(run("ev_charging", {"kwh": 30}, rulebook=BEFORE), 1365, 273)


def test_the_receipt_shows_every_factor_of_the_computation():
    factors = {f["id"]: f["value"] for f in run("nev_driving", {"km": 800}).receipt.factors}
    assert factors == {"petrol_car_l_per_100km": "7.2", "gasoline_density_kg_per_l": "0.72",
                       "gasoline_ncv_mj_per_kg": "43.07", "gasoline_carbon_kgc_per_gj": "18.9",
                       "gasoline_oxidation": "0.98", "ev_kwh_per_100km": "15.4", "ef_grid_shandong": "641"}
