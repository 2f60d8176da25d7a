"""Golden tests: one hand-computed example per Tai'an scenario, the arithmetic written out.

Rulebook: seeds/rulebook.yaml (1 point = 5 g CO2e, both rounded down). Times are in June 2026,
Beijing, outside every campaign unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from points_rules import NO_USAGE, CampaignUsage, Facts, Period, Status, Totals, Usage, evaluate, load_rulebook_file

BEIJING = timezone(timedelta(hours=8))
JUNE = datetime(2026, 6, 3, 9, 30, tzinfo=BEIJING)  # a Wednesday, before the low-carbon week
RULEBOOK = load_rulebook_file(Path(__file__).resolve().parents[2] / "seeds" / "rulebook.yaml")


def run(scenario, inputs=None, account_type="resident", channel=None, when=JUNE, usage=NO_USAGE, **facts):
    channel = channel or sorted(RULEBOOK.scenarios[scenario].channels)[0]
    return evaluate(RULEBOOK, Facts(scenario, inputs or {}, account_type, when, channel=channel, **facts), usage)


def check(result, grams, points, status=Status.CREDITED):
    assert (result.status, result.grams, result.points) == (status, grams, points), result.receipt.render("en")


def test_every_scenario_has_a_golden_example():
    covered = {name.removeprefix("test_").split("__")[0] for name in globals() if name.startswith("test_")}
    assert set(RULEBOOK.scenarios) <= covered


def test_bus_ride__with_distance_and_without():
    # 6.2 km × 26.9 g/pkm = 166.78 g → 166 g; 166 / 5 = 33.2 → 33 points
    check(run("bus_ride", {"distance_km": 6.2}), 166, 33)
    # no distance from the card: 80 g per ride → 80 / 5 = 16 points
    check(run("bus_ride"), 80, 16)


def test_brt_ride():
    # 9.5 km × 46.8 g/pkm = 444.6 g → 444 g; 444 / 5 = 88.8 → 88 points
    check(run("brt_ride", {"distance_km": 9.5}), 444, 88)


def test_cycling__uses_the_factor_in_force_on_the_day():
    # 2026: 5.3 km × 93.3 g/km = 494.49 g → 494 g; 494 / 5 = 98.8 → 98 points
    check(run("cycling", {"distance_km": 5.3, "minutes": 20}), 494, 98)
    # 2024: 5.3 km × 40 g/km = 212 g → 42.4 → 42 points (the earlier version of the factor)
    check(run("cycling", {"distance_km": 5.3, "minutes": 20}, when=datetime(2024, 9, 1, 8, tzinfo=BEIJING)), 212, 42)


def test_cycling__the_factor_changes_at_beijing_midnight_not_utc_midnight():
    # 2025-01-01 00:10 Beijing is still 2024-12-31 in UTC: the 2025 factor (93.3 g/km) applies.
    # 5.3 km × 93.3 = 494.49 → 494 g → 98 points; ten minutes before midnight: 5.3 × 40 = 212 g → 42 points.
    after = datetime(2025, 1, 1, 0, 10, tzinfo=BEIJING)
    before = datetime(2024, 12, 31, 23, 50, tzinfo=BEIJING)
    for when, grams, points in ((after, 494, 98), (after.astimezone(UTC), 494, 98), (before, 212, 42)):
        check(run("cycling", {"distance_km": 5.3, "minutes": 20}, when=when, received_at=after), grams, points)


def test_walking__steps_above_twenty_thousand_earn_nothing_more():
    # 12,345 steps: 12.345 × 16.4 g = 202.458 g → 202 g; 202 / 5 = 40.4 → 40 points
    check(run("walking", {"steps": 12345}), 202, 40)
    # 25,000 steps count as 20,000: 20 × 16.4 = 328 g → 65.6 → 65 points
    check(run("walking", {"steps": 25000}), 328, 65)


def test_nev_driving():
    # 1,234 km × 7 g/km = 8,638 g → 8,638 / 5 = 1,727.6 → 1,727 points
    check(run("nev_driving", {"km": 1234}), 8638, 1727)


def test_ev_charging__and_never_both_in_one_month():
    # 42.5 kWh × 6.5 km/kWh × 7 g/km = 1,933.75 g → 1,933 g; 1,933 / 5 = 386.6 → 386 points
    check(run("ev_charging", {"kwh": 42.5}), 1933, 386)
    drove = Usage(account={("nev_driving", Period.MONTH): Totals(count=1, grams=700, points=140)})
    rejected = run("ev_charging", {"kwh": 42.5}, usage=drove)
    assert (rejected.status, rejected.reason, rejected.points) == (Status.REJECTED, "excluded_by_other_scenario", 0)


def test_waste_sorting():
    # 2.4 kg × 230 g/kg = 552 g → 552 / 5 = 110.4 → 110 points
    check(run("waste_sorting", {"weight_kg": 2.4}), 552, 110)


def test_recyclables():
    # 3.5 kg clothes × 1,280 g/kg = 4,480 g; 2 kg glass × 310 g/kg = 620 g; 5,100 g → 1,020 points
    check(run("recyclables", {"clothes_kg": 3.5, "glass_kg": 2}), 5100, 1020)


def test_pv_generation__grams_in_full_points_capped_monthly():
    # 480 kWh × 641 g/kWh = 307,680 g; 307,680 / 5 = 61,536 points → monthly points cap 10,000
    result = run("pv_generation", {"kwh": 480, "rated_kw": 5, "hours": 720})
    check(result, 307680, 10000)
    assert [a.ref for a in result.receipt.adjustments] == ["caps[1]"]
    # in 2023 the 2021 factor applies: 480 × 683.8 = 328,224 g
    earlier = run("pv_generation", {"kwh": 480, "rated_kw": 5, "hours": 720}, when=datetime(2023, 5, 1, tzinfo=BEIJING))
    assert earlier.grams == 328224
    # generation that already earned a green certificate is not credited again
    certified = run("pv_generation", {"kwh": 480, "rated_kw": 5, "hours": 720, "certified_elsewhere": 1})
    assert (certified.status, certified.reason, certified.points) == (Status.REJECTED, "ineligible", 0)


def test_pv_installation__a_one_off_incentive_after_review():
    # incentive only: 2,000 points, no grams, held for review of the photo and grid certificate
    check(run("pv_installation", account_type="household"), 0, 2000, Status.REVIEW)
    again = run("pv_installation", usage=Usage(account={("pv_installation", Period.EVER): Totals(count=1)}))
    assert again.points == 0


def test_electricity_saving():
    # (320 − 275) kWh × 641 g/kWh = 28,845 g → 5,769 points → monthly points cap 5,000
    check(run("electricity_saving", {"baseline_kwh": 320, "actual_kwh": 275}, account_type="household"), 28845, 5000)
    # using more than the baseline saves nothing: max(0, …) = 0
    check(run("electricity_saving", {"baseline_kwh": 320, "actual_kwh": 330}, account_type="household"), 0, 0)


def test_clean_plate():
    # 144 g per check-in → 144 / 5 = 28.8 → 28 points
    check(run("clean_plate"), 144, 28)


def test_own_bag():
    # 5 g per check-in → exactly 1 point
    check(run("own_bag"), 5, 1)


def test_taishan_zero_waste():
    # incentive only: 40 points, no grams
    check(run("taishan_zero_waste"), 0, 40)


def test_tree_planting__at_most_five_trees_count():
    # 3 trees × 100 = 300 points, no grams (a year-1 tree absorbs almost nothing)
    check(run("tree_planting", {"trees": 3}), 0, 300)
    # 8 trees count as 5: 500 points
    check(run("tree_planting", {"trees": 8}), 0, 500)


def test_campaign__low_carbon_week_doubles_green_travel():
    week = datetime(2026, 6, 16, 8, tzinfo=BEIJING)
    # base 33 points (see bus_ride) × (2 − 1) = 33 extra → 66
    result = run("bus_ride", {"distance_km": 6.2}, when=week)
    check(result, 166, 66)
    assert result.campaign_points == {"low_carbon_day_2026": 33}
    # the window ends at midnight Beijing time on the 22nd
    check(run("bus_ride", {"distance_km": 6.2}, when=datetime(2026, 6, 22, 0, tzinfo=BEIJING)), 166, 33)
    # paused or ended by an administrator: the base 33 points only, and no campaign on the receipt
    stopped = run("bus_ride", {"distance_km": 6.2}, when=week, usage=Usage(stopped=frozenset({"low_carbon_day_2026"})))
    check(stopped, 166, 33)
    assert stopped.campaign_points == {} and not [a for a in stopped.receipt.adjustments if a.kind == "campaign"]


def test_campaign__taishan_sorting_challenge():
    summer = datetime(2026, 7, 8, 19, tzinfo=BEIJING)
    # first deposit in 泰山区: 110 (see waste_sorting) + 20 first-time bonus = 130
    check(run("waste_sorting", {"weight_kg": 2.4}, when=summer, district="370902"), 552, 130)
    # the fifth deposit this week: 110 + 50 streak bonus = 160
    fifth = Usage(campaigns={"taishan_sorting_challenge_2026": CampaignUsage(
        spent=1000, participant_points=100, participant_actions=4, streak_actions={Period.WEEK: 4})})
    check(run("waste_sorting", {"weight_kg": 2.4}, when=summer, district="370902", usage=fifth), 552, 160)
    # in 岱岳区 the challenge does not apply
    check(run("waste_sorting", {"weight_kg": 2.4}, when=summer, district="370911"), 552, 110)


def test_a_stored_receipt_renders_as_the_original():
    from points_rules import Receipt

    result = run("pv_generation", {"kwh": 480, "rated_kw": 5, "hours": 720})
    stored = Receipt.from_dict(result.receipt.as_dict())
    assert stored == result.receipt
    assert stored.render("en") == result.receipt.render("en") and "上限" in stored.render("zh_CN")
