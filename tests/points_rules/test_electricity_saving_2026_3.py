"""Household electricity saving in rulebook 2026.3: the baseline is the utility's figure for the same billing month
one year earlier, not weather-normalised, and never filled in when missing; the formula and caps are 2026.2's.
Each case is held to a hand calculation (1 point = 5 g CO2e, both rounded down; Shandong grid 641 g/kWh, the 2022
factor in force since 2024-12-20)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from points_rules import NO_USAGE, Facts, Status, evaluate, load_rulebook_file

BEIJING = timezone(timedelta(hours=8))
JANUARY = datetime(2027, 1, 6, 9, 30, tzinfo=BEIJING)
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
RULEBOOK = load_rulebook_file(SEEDS / "rulebook-2026.3.yaml")
PREVIOUS = load_rulebook_file(SEEDS / "rulebook-2026.2.yaml")


def run(inputs, *, rulebook=RULEBOOK, account_type="household"):
    return evaluate(rulebook, Facts("electricity_saving", inputs, account_type, JANUARY, channel="partner:utility"),
                    NO_USAGE)


def test_the_saving_against_the_same_month_last_year():
    # (320 − 281) kWh × 641 g/kWh = 24,999 g → 24,999 / 5 = 4,999 points (under the 5,000 a month)
    result = run({"baseline_kwh": 320, "actual_kwh": 281})
    assert (result.status, result.grams, result.points) == (Status.CREDITED, 24999, 4999)
    receipt = result.receipt.as_dict()
    assert receipt["methodology_version"] == "TA-SAVE-2026.3"
    # 2026.2 gave the same figures: only the statement of the baseline changed, not the arithmetic
    assert (run({"baseline_kwh": 320, "actual_kwh": 281}, rulebook=PREVIOUS).grams) == 24999


def test_the_baseline_is_stated_as_the_utilitys_and_not_weather_normalised():
    saving = RULEBOOK.scenarios["electricity_saving"]
    baseline = next(i for i in saving.inputs if i.name == "baseline_kwh")
    assert "去年同月" in baseline.label_zh and "供电公司" in baseline.label_zh
    assert "same month last year" in baseline.label_en.lower() and "utility" in baseline.label_en.lower()
    assert "不做气象修正" in saving.methodology_source and "同一计费月" in saving.methodology_source
    assert saving.account_types == frozenset({"household"}) and saving.channels == frozenset({"partner:utility"})


def test_a_missing_baseline_is_refused_never_assumed():
    result = run({"actual_kwh": 200})
    assert (result.status, result.reason, result.grams) == (Status.REJECTED, "invalid_input", 0)
    assert "baseline_kwh is required" in result.detail


def test_more_use_than_last_year_earns_nothing_and_a_person_is_refused():
    assert (run({"baseline_kwh": 250, "actual_kwh": 280}).grams, run({"baseline_kwh": 250, "actual_kwh": 280}).points) \
        == (0, 0)
    refused = run({"baseline_kwh": 320, "actual_kwh": 281}, account_type="resident")
    assert refused.status is Status.REJECTED and refused.grams == 0
