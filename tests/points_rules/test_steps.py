"""Each of evaluate's steps on its own: plain inputs, plain outputs, arithmetic written out.

Rulebook: seeds/rulebook.yaml (1 point = 5 g CO2e; annual cap 200,000 points), changed where a test says so.
bus_ride: 26.9 g per passenger-km with a distance, 80 g per ride without; at most 4 rides a day.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from points_rules import CampaignUsage, Facts, Period, Status, Totals, Usage, load_rulebook, parse_yaml
from points_rules.engine import (
    CREDIT_AT_ONCE,
    Refused,
    admit,
    certify,
    check_eligibility,
    factors_in_force,
    read_inputs,
    review,
    round_down,
    run_methodology,
)
from points_rules.limits import Credit, apply_annual_cap, apply_caps, campaign_extra, pay_campaigns

BEIJING = timezone(timedelta(hours=8))
JUNE = datetime(2026, 6, 3, 9, 30, tzinfo=BEIJING).astimezone(UTC)  # outside every campaign
LOW_CARBON_WEEK = datetime(2026, 6, 16, 9, 30, tzinfo=BEIJING).astimezone(UTC)  # low_carbon_day_2026: × 2
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
DOCUMENT, _ = parse_yaml((SEEDS / "rulebook.yaml").read_text("utf-8"))
RULEBOOK = load_rulebook(DOCUMENT)
BUS = RULEBOOK.scenarios["bus_ride"]


def bus(when=JUNE, **facts):
    return Facts("bus_ride", {"distance_km": 6.2}, "resident", when, channel="app", **facts)


def rulebook_with(**points):
    document = copy.deepcopy(DOCUMENT)
    document["points"].update(points)
    return load_rulebook(document)


def bus_with_caps(*caps):
    document = copy.deepcopy(DOCUMENT)
    next(s for s in document["scenarios"] if s["id"] == "bus_ride")["caps"] = list(caps)
    rulebook = load_rulebook(document)
    return rulebook, rulebook.scenarios["bus_ride"]


# -- 1. admissibility --------------------------------------------------------------------------------


def refusal(step, *args) -> tuple[str, str | None]:
    with pytest.raises(Refused) as caught:
        step(*args)
    return caught.value.reason, caught.value.detail


def test_admit_returns_the_scenario_and_refuses_by_reason():
    assert admit(RULEBOOK, bus(), JUNE, JUNE) is BUS
    assert refusal(admit, RULEBOOK, Facts("moon_walk", {}, "resident", JUNE), JUNE, JUNE) == \
        ("unknown_scenario", "moon_walk")
    assert refusal(admit, RULEBOOK, Facts("bus_ride", {}, "resident", JUNE, channel="merchant_checkin"), JUNE,
                   JUNE) == ("channel_not_accepted", "merchant_checkin")
    assert refusal(admit, RULEBOOK, Facts("bus_ride", {}, "merchant", JUNE), JUNE, JUNE) == \
        ("account_type_not_allowed", "merchant")
    # The claim window is 7 days: reported 7 days later is in time, 7 days and a second is not.
    assert admit(RULEBOOK, bus(), JUNE, JUNE + timedelta(days=7)) is BUS
    assert refusal(admit, RULEBOOK, bus(), JUNE, JUNE + timedelta(days=7, seconds=1)) == \
        ("outside_claim_window", "7 days")
    # Clocks may run 5 minutes ahead, no more.
    assert admit(RULEBOOK, bus(), JUNE + timedelta(minutes=5), JUNE) is BUS
    assert refusal(admit, RULEBOOK, bus(), JUNE + timedelta(minutes=5, seconds=1), JUNE) == ("in_the_future", None)


def test_read_inputs_gives_decimals_and_defaults_and_refuses_bad_ones():
    assert read_inputs(BUS, {"distance_km": 6.2}) == {"distance_km": Decimal("6.2")}
    assert read_inputs(BUS, {"distance_km": "6.2"}) == {"distance_km": Decimal("6.2")}
    assert read_inputs(BUS, {}) == {"distance_km": Decimal(0)}  # optional, no default: 0 (then per ride)
    assert refusal(read_inputs, BUS, {"speed": 3}) == ("invalid_input", "unknown input 'speed'")
    assert refusal(read_inputs, BUS, {"distance_km": True}) == ("invalid_input", "distance_km must be a number")
    assert refusal(read_inputs, BUS, {"distance_km": "NaN"}) == ("invalid_input",
                                                                 "distance_km must be a finite number")
    reason, detail = refusal(read_inputs, BUS, {"distance_km": 121})  # the bounds are 0 to 120 km
    assert reason == "invalid_input" and detail.startswith("distance_km must be between 0 and 120")


def test_factors_in_force_picks_the_version_of_the_day_or_refuses():
    cycling = RULEBOOK.scenarios["cycling"]
    (factor,) = factors_in_force(cycling, JUNE)
    assert factor.value == Decimal("93.3")  # the 2025 version; before 2025 it was 40 g/km
    (earlier,) = factors_in_force(cycling, datetime(2024, 9, 1, tzinfo=UTC))
    assert earlier.value == 40
    document = copy.deepcopy(DOCUMENT)
    for factor in document["factors"]:
        if factor["id"] == "er_cycling_per_km" and factor.get("valid_from") is None:
            factor["valid_from"] = "2024-01-01"  # now nothing is in force before 2024
    later = load_rulebook(document).scenarios["cycling"]
    assert refusal(factors_in_force, later, datetime(2023, 12, 31, tzinfo=UTC)) == \
        ("no_factor_in_force", "er_cycling_per_km")


def test_check_eligibility_refuses_an_excluded_scenario_or_an_ineligible_reading():
    nev = RULEBOOK.scenarios["nev_driving"]  # excludes ev_charging in the same month
    check_eligibility(nev, {"km": Decimal(500)}, Usage())
    earned = Usage(account={("ev_charging", Period.MONTH): Totals(count=1, grams=900, points=180)})
    assert refusal(check_eligibility, nev, {"km": Decimal(500)}, earned) == \
        ("excluded_by_other_scenario", "ev_charging")
    pv = RULEBOOK.scenarios["pv_generation"]  # certified_elsewhere == 1: a green certificate already
    assert refusal(check_eligibility, pv, {"certified_elsewhere": Decimal(1)}, Usage()) == \
        ("ineligible", pv.eligibility[0].reason_en)


def test_a_formula_that_cannot_be_computed_refuses_the_action():
    cycling = RULEBOOK.scenarios["cycling"]  # plausibility divides by minutes
    assert refusal(review, cycling, {"distance_km": Decimal(5), "minutes": Decimal(0)}) == \
        ("calculation_failed", "DivisionByZero")


# -- 2. the methodology ------------------------------------------------------------------------------


def test_methodology_and_rounding_go_against_the_credit():
    values = {"distance_km": Decimal("6.2"), "er_bus_per_pkm": Decimal("26.9"), "er_bus_per_ride": Decimal(80)}
    exact = run_methodology(BUS, values)
    assert exact == Decimal("166.78")  # 6.2 × 26.9
    assert round_down(RULEBOOK, BUS, exact) == Credit(grams=166, base_points=33)  # 166 g; 166 / 5 = 33.2 → 33
    assert round_down(RULEBOOK, BUS, Decimal("-3")) == Credit(grams=0, base_points=0)  # never below zero


def test_certify_drops_grams_certified_elsewhere_and_keeps_the_points():
    # 2026.2's PV rule: generation with a green certificate (certified_elsewhere == 1) certifies no grams here
    corrected = load_rulebook(parse_yaml((SEEDS / "rulebook-2026.2.yaml").read_text("utf-8"))[0])
    pv = corrected.scenarios["pv_generation"]
    credit = Credit(grams=307680, base_points=61536)
    assert certify(pv, credit, {"certified_elsewhere": Decimal(0)}) is credit
    certified = certify(pv, credit, {"certified_elsewhere": Decimal(1)})
    assert (certified.grams, certified.base_points) == (0, 61536)
    [adjustment] = certified.adjustments
    assert (adjustment.kind, adjustment.ref, adjustment.after, adjustment.grams_after) == \
        ("points_only", "points_only[0]", 61536, 0)


# -- 3. caps -----------------------------------------------------------------------------------------


def test_a_count_cap_credits_nothing_once_reached():
    credit = Credit(grams=166, base_points=33)
    three = Usage(account={("bus_ride", Period.DAY): Totals(count=3, grams=498, points=99)})
    four = Usage(account={("bus_ride", Period.DAY): Totals(count=4, grams=664, points=132)})
    assert apply_caps(RULEBOOK, BUS, credit, three, False) is credit  # the fourth ride of the day: unchanged
    capped = apply_caps(RULEBOOK, BUS, credit, four, False)  # the fifth: nothing
    assert (capped.grams, capped.base_points) == (0, 0)
    (adjustment,) = capped.adjustments
    assert (adjustment.kind, adjustment.ref, adjustment.limit, adjustment.used, adjustment.before,
            adjustment.after) == ("cap", "caps[0]", 4, 4, 33, 0)


def test_a_grams_cap_limits_grams_and_so_points():
    rulebook, scenario = bus_with_caps({"per": "day", "unit": "grams", "limit": 1000})
    used = Usage(account={("bus_ride", Period.DAY): Totals(count=6, grams=900, points=180)})
    capped = apply_caps(rulebook, scenario, Credit(grams=166, base_points=33), used, False)
    # room = 1000 − 900 = 100 g → 100 / 5 = 20 points
    assert (capped.grams, capped.base_points) == (100, 20)
    assert capped.adjustments[0].grams_after == 100


def test_a_points_cap_limits_base_points_and_a_household_cap_only_a_household():
    rulebook, scenario = bus_with_caps({"per": "week", "unit": "points", "limit": 100},
                                       {"per": "week", "scope": "household", "unit": "points", "limit": 50})
    used = Usage(account={("bus_ride", Period.WEEK): Totals(count=2, grams=400, points=80)},
                 household={("bus_ride", Period.WEEK): Totals(count=1, grams=200, points=40)})
    alone = apply_caps(rulebook, scenario, Credit(grams=166, base_points=33), used, False)
    assert (alone.grams, alone.base_points) == (166, 20)  # 100 − 80 = 20 points; grams are kept
    together = apply_caps(rulebook, scenario, Credit(grams=166, base_points=33), used, True)
    assert together.base_points == 10  # then the household's 50 − 40 = 10
    assert [a.after for a in together.adjustments] == [20, 10]


# -- 4. campaigns ------------------------------------------------------------------------------------


def test_a_campaign_pays_its_effects_within_its_budget_and_allowance():
    week = RULEBOOK.campaigns[0]
    assert week.id == "low_carbon_day_2026"
    # × 2: 33 × (2 − 1) = 33 extra points
    assert campaign_extra(week, 33, CampaignUsage()).base_points == 33
    # 1,990 of the participant's 2,000 already paid: 10 left
    limited = campaign_extra(week, 33, CampaignUsage(participant_points=1990))
    assert limited.base_points == 10
    assert [(a.kind, a.before, a.after) for a in limited.adjustments] == [("participant_limit", 33, 10),
                                                                          ("campaign", 0, 10)]
    spent = campaign_extra(week, 33, CampaignUsage(spent=week.budget_points))
    assert spent.base_points == 0 and [a.kind for a in spent.adjustments] == ["budget"]


def test_pay_campaigns_only_in_the_window_and_not_when_stopped_or_capped_out():
    credit = Credit(grams=166, base_points=33)
    paid = pay_campaigns(RULEBOOK, BUS, bus(LOW_CARBON_WEEK), LOW_CARBON_WEEK, credit, Usage())
    assert paid.campaign_points == {"low_carbon_day_2026": 33} and paid.points == 66
    assert pay_campaigns(RULEBOOK, BUS, bus(), JUNE, credit, Usage()) is credit
    stopped = Usage(stopped=frozenset({"low_carbon_day_2026"}))
    assert pay_campaigns(RULEBOOK, BUS, bus(LOW_CARBON_WEEK), LOW_CARBON_WEEK, credit, stopped) is credit
    nothing = Credit(grams=0, base_points=0)
    assert pay_campaigns(RULEBOOK, BUS, bus(LOW_CARBON_WEEK), LOW_CARBON_WEEK, nothing, Usage()) is nothing


# -- 5. the annual cap -------------------------------------------------------------------------------


def test_the_annual_cap_takes_back_campaign_extras_first():
    credit = Credit(grams=166, base_points=33, campaign_points={"low_carbon_day_2026": 33})  # 66 points
    assert apply_annual_cap(RULEBOOK, credit, Usage(account_year_points=199_934)) is credit  # 66 fit exactly
    # 200,000 − 199,950 = 50 points of room: 16 of the 66 go, all from the campaign (33 → 17)
    capped = apply_annual_cap(RULEBOOK, credit, Usage(account_year_points=199_950))
    assert (capped.base_points, capped.campaign_points, capped.points) == (33, {"low_carbon_day_2026": 17}, 50)
    # 20 points of room: the campaign's 33 go, then 13 base points (33 → 20)
    capped = apply_annual_cap(RULEBOOK, credit, Usage(account_year_points=199_980))
    assert (capped.base_points, capped.campaign_points, capped.points) == (20, {}, 20)
    assert capped.adjustments[-1].kind == "annual_cap"
    assert apply_annual_cap(rulebook_with(annual_cap_points=None), credit, Usage(account_year_points=10**9)) \
        is credit


# -- 6. plausibility ---------------------------------------------------------------------------------


def test_review_holds_implausible_readings_and_scenarios_that_always_need_a_reviewer():
    assert review(BUS, {"distance_km": Decimal("6.2")}) is CREDIT_AT_ONCE
    waste = RULEBOOK.scenarios["waste_sorting"]  # weight_kg > 15 is implausible for one household's deposit
    assert review(waste, {"weight_kg": Decimal(15)}) is CREDIT_AT_ONCE
    held = review(waste, {"weight_kg": Decimal(16)})
    assert (held.status, held.reason, held.detail) == (Status.REVIEW, "implausible",
                                                       waste.plausibility[0].reason_en)
    installation = review(RULEBOOK.scenarios["pv_installation"], {})
    assert (installation.status, installation.reason) == (Status.REVIEW, "review_required")
