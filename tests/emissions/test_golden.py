"""Golden cases of the enterprise emissions method, each computed by hand in its comment (issue #18).

All with seeds/enterprise-factors-2026.1.yaml. Units: NCV GJ per unit, carbon content kgC/GJ, so
quantity × NCV × CC × OF × 44/12 is kg CO2 directly; every line is rounded up to a whole kg.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from emissions import Activity, compute, load_registry
from emissions.calculate import EmissionsError
from tests.emissions import REGISTRY_PATH

TODAY = date(2026, 12, 4)


@pytest.fixture(scope="module")
def registry():
    return load_registry(REGISTRY_PATH)


def fuel_kg(registry, kind: str, quantity: str) -> int:
    result = compute(Activity(2024, fuels={kind: Decimal(quantity)}), registry, on=TODAY)
    assert result.scope1_kg == result.total_kg and result.scope2_kg == 0
    return result.total_kg


@pytest.mark.parametrize(("kind", "quantity", "kg"), [
    # 1,000 t raw coal: 1000 × 20.908 GJ/t = 20,908 GJ; × 26.37 kgC/GJ = 551,343.96 kgC; × 0.94 = 518,263.3224 kgC;
    # × 44/12 = 1,900,298.8488 kg → 1,900,299 kg
    ("raw_coal", "1000", 1_900_299),
    # 1,000 t washed coal: 26,334 GJ × 25.41 = 669,146.94 kgC × 0.90 = 602,232.246 × 44/12 = 2,208,184.902
    # → 2,208,185 kg
    ("washed_coal", "1000", 2_208_185),
    # 1,000 t coke: 28,435 GJ × 29.5 = 838,832.5 kgC × 0.93 = 780,114.225 × 44/12 = 2,860,418.825 → 2,860,419 kg
    ("coke", "1000", 2_860_419),
    # 1,000,000 Nm3 natural gas = 100 × 10^4 Nm3: 100 × 389.31 = 38,931 GJ × 15.3 = 595,644.3 kgC × 0.99
    # = 589,687.857 × 44/12 = 2,162,188.809 → 2,162,189 kg
    ("natural_gas", "1000000", 2_162_189),
    # 1,000 t LPG: 50,179 GJ × 17.2 = 863,078.8 kgC × 0.98 = 845,817.224 × 44/12 = 3,101,329.8213 → 3,101,330 kg
    ("lpg", "1000", 3_101_330),
    # 1,000 t diesel: 42,652 GJ × 20.2 = 861,570.4 kgC × 0.98 = 844,338.992 × 44/12 = 3,095,909.6373 → 3,095,910 kg
    ("diesel", "1000", 3_095_910),
    # 1,000 t gasoline: 43,070 GJ × 18.9 = 814,023 kgC × 0.98 = 797,742.54 × 44/12 = 2,925,055.98 → 2,925,056 kg
    ("gasoline", "1000", 2_925_056),
    # 1,000 t fuel oil: 41,816 GJ × 21.1 = 882,317.6 kgC × 0.98 = 864,671.248 × 44/12 = 3,170,461.2427
    # → 3,170,462 kg
    ("fuel_oil", "1000", 3_170_462),
    # 1 Nm3 of natural gas: 0.038931 GJ × 15.3 × 0.99 × 44/12 = 2.162 kg → rounded up to 3 kg
    ("natural_gas", "1", 3),
    # 0.001 t (1 kg) of diesel: 0.042652 GJ × 20.2 × 0.98 × 44/12 = 3.096 kg → 4 kg
    ("diesel", "0.001", 4),
])
def test_each_fuel_by_hand(registry, kind, quantity, kg):
    assert fuel_kg(registry, kind, quantity) == kg


def test_electricity_at_the_shandong_factor_of_the_data_year(registry):
    # 1,000,000 kWh of 2022 on the 2022 Shandong factor 0.6410 kgCO2/kWh (published 2024-12-20): 641,000 kg
    result = compute(Activity(2022, electricity_kwh=1_000_000), registry, on=TODAY)
    assert (result.total_kg, result.scope2_kg, result.scope1_kg) == (641_000, 641_000, 0)
    grid = result.receipt["lines"][0]["factors"]["grid"]
    assert (grid["value"], grid["data_year"], grid["published"]) == ("0.6410", 2022, "2024-12-20")
    # 1,000,000 kWh of 2021 on the 2021 factor 0.6838: 683,800 kg
    assert compute(Activity(2021, electricity_kwh=1_000_000), registry, on=TODAY).total_kg == 683_800


def test_a_factor_is_never_used_before_its_publication(registry):
    # Computed on 2024-06-01 the 2022 factor (published 2024-12-20) did not exist: 2022's kWh take 2021's 0.6838
    early = compute(Activity(2022, electricity_kwh=1_000_000), registry, on=date(2024, 6, 1))
    assert early.total_kg == 683_800
    assert early.receipt["lines"][0]["factors"]["grid"]["data_year"] == 2021
    # A year with no factor of its own takes the latest published: 2025 on 2022's 0.6410
    assert compute(Activity(2025, electricity_kwh=1_000), registry, on=TODAY).total_kg == 641
    # Before any factor was published, or for a year before the first factor: refused, never guessed
    for year, on in ((2022, date(2024, 4, 11)), (2020, TODAY)):
        with pytest.raises(EmissionsError) as refused:
            compute(Activity(year, electricity_kwh=1_000), registry, on=on)
        assert refused.value.code == "no_grid_factor"


def test_green_certificate_electricity_counts_zero(registry):
    # 1,000,000 kWh of which 200,000 kWh carry green certificates: 800,000 × 0.6410 = 512,800 kg
    result = compute(Activity(2022, electricity_kwh=1_000_000, green_kwh=200_000), registry, on=TODAY)
    assert result.total_kg == 512_800
    assert "(20 %)" in result.receipt["lines"][0]["steps"][0]
    # All of it green: 0 kg, and the line still shows why
    all_green = compute(Activity(2022, electricity_kwh=5_000, green_kwh=5_000), registry, on=TODAY)
    assert all_green.total_kg == 0 and all_green.receipt["lines"][0]["kg"] == 0
    with pytest.raises(EmissionsError) as refused:
        compute(Activity(2022, electricity_kwh=10, green_kwh=11), registry, on=TODAY)
    assert refused.value.code == "green_exceeds_total"


def test_heat_at_the_heat_factor(registry):
    # 1,000 GJ × 0.11 tCO2/GJ = 110,000 kg; 0.001 GJ × 110 kg/GJ = 0.11 kg → rounded up to 1 kg
    assert compute(Activity(2022, heat_gj=Decimal(1000)), registry, on=TODAY).total_kg == 110_000
    assert compute(Activity(2022, heat_gj=Decimal("0.001")), registry, on=TODAY).total_kg == 1


def test_rounding_is_up_per_line_and_the_total_is_their_sum(registry):
    # 1 kWh × 0.6410 = 0.641 → 1 kg; 1 Nm3 gas → 3 kg (above); 0.001 GJ heat → 1 kg: total 5 kg, not ceil(3.9)
    result = compute(Activity(2022, electricity_kwh=1, heat_gj=Decimal("0.001"), fuels={"natural_gas": Decimal(1)}),
                     registry, on=TODAY)
    assert [line.kg for line in result.lines] == [3, 1, 1]
    assert result.total_kg == 5 and result.scope1_kg == 3 and result.scope2_kg == 2
    assert result.receipt["steps"] == ["total: 3 + 1 + 1 = 5 kg"]


def test_the_receipt_lists_inputs_factors_sources_and_steps(registry):
    result = compute(Activity(2022, fuels={"raw_coal": Decimal(1000)}), registry, on=TODAY)
    receipt = result.receipt
    assert receipt["method"] == "GB/T 32150-2015" and receipt["registry_version"] == "2026.1"
    assert receipt["rounding"].startswith("each line exact, then rounded up")
    line = receipt["lines"][0]
    assert line["inputs"] == {"quantity": "1000", "unit": "t"}
    assert line["factors"]["ncv"]["value"] == "20.908" and "GB/T 2589" in line["factors"]["ncv"]["source"]
    assert line["factors"]["ncv"]["year"] == 2020
    assert line["steps"] == [
        "heat: 1000 t × 20.908 GJ/t = 20908 GJ",
        "carbon: 20908 GJ × 26.37 kgC/GJ = 551343.96 kgC",
        "oxidised: 551343.96 kgC × 0.94 = 518263.3224 kgC",
        "CO2: 518263.3224 kgC × 44/12 = 1900298.8488 kg",
        "rounded up: 1900299 kg",
    ]
    # raw coal's carbon content and oxidation rate are not yet checked against the published text: said so
    assert receipt["unconfirmed"] == ["raw_coal.carbon_content", "raw_coal.oxidation"]


def test_an_empty_report_is_zero(registry):
    result = compute(Activity(2022), registry, on=TODAY)
    assert (result.total_kg, result.lines, result.receipt["steps"]) == (0, (), ["total: 0 = 0 kg"])


@pytest.mark.parametrize(("activity", "code"), [
    (Activity(2022, fuels={"peat": Decimal(1)}), "unknown_fuel"),
    (Activity(2022, fuels={"coke": Decimal(-1)}), "invalid_quantity"),
    (Activity(2022, fuels={"coke": 1.5}), "invalid_quantity"),
    (Activity(2022, fuels={"coke": Decimal("NaN")}), "invalid_quantity"),
    (Activity(2022, electricity_kwh=-5), "invalid_quantity"),
    (Activity(2022, electricity_kwh=True), "invalid_quantity"),
    (Activity(2022, heat_gj=Decimal(-1)), "invalid_quantity"),
])
def test_inputs_the_method_cannot_compute_are_refused(registry, activity, code):
    with pytest.raises(EmissionsError) as refused:
        compute(activity, registry, on=TODAY)
    assert refused.value.code == code and refused.value.message
