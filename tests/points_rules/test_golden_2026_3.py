"""Golden tests of rulebook 2026.3's trust per channel (issue #17 item 8): each case held to a hand calculation.

Rulebook: seeds/rulebook-2026.3.yaml (1 point = 5 g CO2e, both rounded down). Times are in January 2027, Beijing,
outside every campaign. ``day`` is how many reports of the scenario on the channel the account already has counted
(credited or in review) on that Beijing day, as the core reads it from the ledger.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from points_rules import NO_USAGE, Facts, Status, Totals, Usage, evaluate, load_rulebook_file
from points_rules.reasons import explain

BEIJING = timezone(timedelta(hours=8))
JANUARY = datetime(2027, 1, 6, 9, 30, tzinfo=BEIJING)
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
RULEBOOK = load_rulebook_file(SEEDS / "rulebook-2026.3.yaml")


def run(scenario, inputs=None, *, channel="app", photos=0, day=0, account_type="resident"):
    usage = Usage(channel_day={(scenario, channel): Totals(count=day)}) if day else NO_USAGE
    return evaluate(RULEBOOK, Facts(scenario, inputs or {}, account_type, JANUARY, channel=channel, photos=photos),
                    usage)


def check(result, grams, points, status=Status.CREDITED, reason=None):
    assert (result.status, result.grams, result.points, result.reason) == (status, grams, points, reason), \
        result.receipt.render("en")


def test_every_scenario_declares_trust_for_every_channel():
    for scenario in RULEBOOK.scenarios.values():
        assert set(scenario.trust) == set(scenario.channels), scenario.id
        assert (scenario.evidence, scenario.review) == ("none", False), scenario.id  # said per channel instead


def test_bus_ride__app_within_two_a_day_and_15_km_on_the_report_alone():
    # 6.2 km × 26.9 g/pkm = 166.78 g → 166 g → 166 // 5 = 33 points; the first report of the day (1 ≤ 2), 6.2 ≤ 15.
    result = run("bus_ride", {"distance_km": 6.2})
    check(result, 166, 33)
    assert result.receipt.trust == {
        "channel": "app", "evidence": "none", "photos_needed": 0, "photos": 0, "review": "beyond_bounds",
        "bounds": [{"bound": "count_per_day", "limit": "2", "value": "1", "over": False},
                   {"bound": "distance_km", "limit": "15", "value": "6.2", "over": False}],
        "outcome": "credited"}
    # The second of the day is still within (2 ≤ 2): the same 33 points.
    check(run("bus_ride", {"distance_km": 6.2}, day=1), 166, 33)


def test_bus_ride__the_third_app_report_of_a_day_waits_for_a_reviewer():
    # Two already counted today: this is report 3 > 2. Computed as usual (166 g, 33 points) but held.
    result = run("bus_ride", {"distance_km": 6.2}, day=2)
    check(result, 166, 33, Status.REVIEW, "over_bound")
    assert result.detail == "count_per_day=3>2"
    zh, en = explain("review", result.reason, result.detail, "bus_ride", RULEBOOK)
    assert "今天第 3 次申报，每天凭申报可计 2 次" in zh
    assert "report 3 of the day, 2 a day on the report alone" in en
    assert "渠道可信规则 (app)" in result.receipt.render("zh_CN") and "（超出）" in result.receipt.render("zh_CN")
    assert "→ held for review" in result.receipt.render("en")


def test_bus_ride__a_long_app_ride_waits_for_a_reviewer():
    # 22.5 km > 15 km. 22.5 × 26.9 = 605.25 g → 605 g → 121 points, held.
    result = run("bus_ride", {"distance_km": 22.5})
    check(result, 605, 121, Status.REVIEW, "over_bound")
    assert result.detail == "distance_km=22.5>15"
    zh, en = explain("review", result.reason, result.detail, "bus_ride", RULEBOOK)
    assert "乘车距离 22.5 km，凭申报最多 15 km" in zh and "ride distance 22.5 km, at most 15 km" in en
    # Exactly 15 km is within (bounds are inclusive): 15 × 26.9 = 403.5 → 403 g → 80 points.
    check(run("bus_ride", {"distance_km": 15}), 403, 80)


def test_bus_ride__the_card_feed_is_credited_as_reported():
    # The partner channel has no bounds: 22.5 km gives 605 g, 121 points, credited; the receipt says so.
    result = run("bus_ride", {"distance_km": 22.5}, channel="partner:transit")
    check(result, 605, 121)
    assert result.receipt.trust["review"] == "never" and result.receipt.trust["bounds"] == []
    assert "credited as reported → credited at once" in result.receipt.render("en")


def test_brt_ride__20_km_on_the_report_alone():
    # 18 km × 26.9 = 484.2 g → 484 g → 96 points: within 20 km. 21 km × 26.9 = 564.9 → 564 g → 112 points: held.
    check(run("brt_ride", {"distance_km": 18}), 484, 96)
    check(run("brt_ride", {"distance_km": 21}), 564, 112, Status.REVIEW, "over_bound")


def test_cycling__10_km_on_the_report_alone():
    # 2027 rate 93.3 g/km. 8 km in 30 min (16 km/h): 8 × 93.3 = 746.4 → 746 g → 149 points, credited.
    check(run("cycling", {"distance_km": 8, "minutes": 30}), 746, 149)
    # 12 km in 45 min (16 km/h, plausible speed) but 12 > 10: 1,119.6 → 1,119 g → 223 points, held.
    check(run("cycling", {"distance_km": 12, "minutes": 45}), 1119, 223, Status.REVIEW, "over_bound")
    # Too fast is still "implausible" (the rulebook's own rule comes first): 9 km in 10 min = 54 km/h.
    check(run("cycling", {"distance_km": 9, "minutes": 10}), 839, 167, Status.REVIEW, "implausible")


def test_waste_sorting__one_deposit_of_3_kg_a_day_on_the_report_alone():
    # 2.4 kg × 100 g/kg = 240 g → 48 points, the first app deposit of the day.
    check(run("waste_sorting", {"weight_kg": 2.4}), 240, 48)
    # 4 kg > 3 kg: 400 g → 80 points, held.
    check(run("waste_sorting", {"weight_kg": 4}), 400, 80, Status.REVIEW, "over_bound")
    # A second app deposit the same day (2 > 1), even a light one: 1 kg → 100 g → 20 points, held.
    result = run("waste_sorting", {"weight_kg": 1}, day=1)
    check(result, 100, 20, Status.REVIEW, "over_bound")
    assert result.detail == "count_per_day=2>1"
    # Both bounds exceeded: both named.
    assert run("waste_sorting", {"weight_kg": 4}, day=1).detail == "count_per_day=2>1; weight_kg=4>3"
    # The smart bin's 8 kg is credited as it weighs it: 800 g → 160 points.
    check(run("waste_sorting", {"weight_kg": 8}, channel="partner:waste"), 800, 160)


def test_recyclables__a_photo_always_and_bounds():
    # Without the photo: refused, nothing computed.
    refused = run("recyclables", {"clothes_kg": 2})
    check(refused, 0, 0, Status.REJECTED, "evidence_missing")
    assert refused.detail == "photo"
    zh, en = explain("rejected", refused.reason, refused.detail, "recyclables", RULEBOOK)
    assert "一张照片" in zh and "needs a photo" in en
    # With it: 2 kg × 1,280 g/kg = 2,560 g → 512 points, credited (2 ≤ 3, glass 0 ≤ 5).
    check(run("recyclables", {"clothes_kg": 2}, photos=1), 2560, 512)
    # 4 kg of clothes > 3: 5,120 g → 1,024 points, held. Glass 6 kg > 5: 6 × 310 = 1,860 g → 372 points, held.
    check(run("recyclables", {"clothes_kg": 4}, photos=1), 5120, 1024, Status.REVIEW, "over_bound")
    check(run("recyclables", {"glass_kg": 6}, photos=1), 1860, 372, Status.REVIEW, "over_bound")


def test_tree_planting__photo_and_certificate_and_always_a_reviewer():
    # One photo is not enough for photo_and_certificate (2 photos): refused.
    check(run("tree_planting", {"trees": 3}, photos=1), 0, 0, Status.REJECTED, "evidence_missing")
    # Two photos: min(3, 5) × 100 = 300 points, no grams (an incentive), held for a reviewer.
    result = run("tree_planting", {"trees": 3}, photos=2)
    check(result, 0, 300, Status.REVIEW, "review_required")
    assert result.detail == "photo_and_certificate"
    assert "每次都需人工审核" in result.receipt.render("zh_CN")
    # The forestry bureau's record: credited as reported, 300 points.
    check(run("tree_planting", {"trees": 3}, channel="partner:forestry"), 0, 300)


def test_pv_installation__as_in_2026_2_but_the_engine_now_asks_for_the_photos():
    check(run("pv_installation", {}, photos=0), 0, 0, Status.REJECTED, "evidence_missing")
    check(run("pv_installation", {}, photos=2), 0, 2000, Status.REVIEW, "review_required")


def test_taishan_zero_waste__a_photo_credited_at_once():
    check(run("taishan_zero_waste", {}), 0, 0, Status.REJECTED, "evidence_missing")
    check(run("taishan_zero_waste", {}, photos=1), 0, 40)
    check(run("taishan_zero_waste", {}, channel="merchant_checkin"), 0, 40)  # the site's check-in needs no photo


def test_walking__as_reported():
    # 12,000 steps: 12 × 3 = 36 points, credited; the receipt notes the channel credits as reported.
    result = run("walking", {"steps": 12000})
    check(result, 0, 36)
    assert "按申报计入" in result.receipt.render("zh_CN")


# NEV driving and EV charging are not here: 2026.3 recomputes their factors (test_golden_2026_3_vehicles.py).
@pytest.mark.parametrize("scenario, inputs, channel", [
    ("pv_generation", {"kwh": 400, "rated_kw": 5, "hours": 720, "certified_elsewhere": 0}, "partner:pv"),
    ("electricity_saving", {"baseline_kwh": 300, "actual_kwh": 250}, "partner:utility"),
    ("clean_plate", {}, "merchant_checkin"), ("own_bag", {}, "merchant_checkin"),
])
def test_partner_and_checkin_channels_judge_as_in_2026_2(scenario, inputs, channel):
    previous = load_rulebook_file(SEEDS / "rulebook-2026.2.yaml")
    account = "household" if scenario == "electricity_saving" else "resident"
    before = evaluate(previous, Facts(scenario, inputs, account, JANUARY, channel=channel), NO_USAGE)
    after = run(scenario, inputs, channel=channel, account_type=account)
    assert (after.status, after.grams, after.points) == (before.status, before.grams, before.points)
    assert before.receipt.as_dict().keys() == after.receipt.as_dict().keys() - {"trust"}
