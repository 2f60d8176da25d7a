"""The plan's targets (seeds/plan_targets.yaml): the data file is sound, each contribution is counted from credited
actions only, and the console (/admin/plan), the public page (/) and the open data show the same figures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from carbon_platform.db import commit
from carbon_platform.models import AdminRole
from carbon_platform.services import earning, plan_targets
from points_rules import load_rulebook_file
from tests import factories as f
from tests.admin.helpers import console

BEIJING = timezone(timedelta(hours=8))
JUNE = datetime(2026, 6, 3, 9, 30, tzinfo=BEIJING)
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def award(resident, scenario, inputs, key, *, channel, hours=0):
    when = JUNE + timedelta(hours=hours)
    return earning.award_action(resident.account_id, account_type="resident", scenario=scenario, inputs=inputs,
                                occurred_at=when, idempotency_key=key, channel=channel, district="370902",
                                now=when + timedelta(minutes=1))


def pv(resident, key, rated_kw, *, hours=0):
    return award(resident, "pv_generation", {"kwh": 100, "rated_kw": rated_kw, "hours": 720}, key,
                 channel="partner:pv", hours=hours)


def of(rows) -> dict:
    return {row.target.id: row for row in rows}


@pytest.mark.parametrize("version", ["rulebook-2026.2.yaml", "rulebook-2026.3.yaml", "rulebook-2026.4.yaml"])
def test_every_target_names_programmes_scenarios_and_inputs_the_rulebook_has(version):
    rulebook = load_rulebook_file(SEEDS / version)
    plan = plan_targets.load()
    assert {t.id for t in plan.targets} >= {"green_travel_share", "charging_piles", "renewable_capacity",
                                            "waste_recovery_rate", "green_building_share"}
    for target in plan.targets:
        assert target.programme in rulebook.programmes, target.id
        for scenario_id in target.contribution.scenarios:
            scenario = rulebook.scenarios[scenario_id]
            names = {item.name for item in scenario.inputs}
            if target.contribution.inputs:
                assert set(target.contribution.inputs) & names, (target.id, scenario_id)
        if target.verified:
            # the quote holds the target's own figure
            assert f"{target.value:f}".rstrip("0").rstrip(".") in target.quote, target.id


def test_the_charging_target_quotes_the_plan():
    charging = next(t for t in plan_targets.load().targets if t.id == "charging_piles")
    assert charging.verified
    assert "到2025年，全市充电桩保有量达到4100台左右" in charging.quote
    assert charging.contribution.scale is None  # sessions are not charging points: no share of the target


@pytest.mark.parametrize(("change", "message"), [
    (("metric: actions", "metric: guesses"), "metric must be one of"),
    (("comparison: about", "comparison: roughly"), "target.comparison must be one of"),
    (("      input: rated_kw\n", ""), "metric largest_per_account needs input"),
    (("    caveat_zh: 平台记录的是充电次数", "    caveat_xx: 平台记录的是充电次数"),
     "target charging_piles: 'caveat_zh' is required"),
    (("      verified: true", "      verified: true\n      quote: ''"), "a verified source must quote the plan"),
])
def test_a_mistake_in_the_file_is_refused_naming_the_target(change, message):
    text = (SEEDS / "plan_targets.yaml").read_text(encoding="utf-8")
    old, new = change
    assert old in text
    with pytest.raises(plan_targets.PlanTargetsError, match=message):
        plan_targets.parse(text.replace(old, new, 1))


def test_contributions_count_credited_actions_only(app):
    with app.app_context():
        f.districts()
        first, second, third = (f.resident(district_code="370902") for _ in range(3))
        pv(first, "pv-1", 5, hours=0)
        pv(first, "pv-1b", 5.5, hours=24 * 31)  # the same roof a month later: counts once, at its largest
        pv(second, "pv-2", 8)
        award(first, "waste_sorting", {"weight_kg": 2.4}, "w-1", channel="app")
        award(second, "recyclables", {"clothes_kg": 3, "glass_kg": 1.5}, "r-1", channel="app")
        award(third, "waste_sorting", {"weight_kg": 20}, "w-big", channel="app")  # over 15 kg: held for review
        award(first, "ev_charging", {"kwh": 30}, "c-1", channel="partner:charging")
        award(second, "ev_charging", {"kwh": 20}, "c-2", channel="partner:charging")
        f.bus_ride(first, JUNE, "bus-1", distance_km=5)
        f.bus_ride(third, JUNE, "bus-2")
        commit()
        rows = of(plan_targets.progress())
        assert (rows["renewable_capacity"].value, rows["renewable_capacity"].accounts) == (Decimal("13.5"), 2)
        # 2.4 + 3 + 1.5 kg credited; the 20 kg deposit awaits a reviewer and is not counted
        assert (rows["waste_recovery_rate"].value, rows["waste_recovery_rate"].accounts) == (Decimal("6.9"), 2)
        assert (rows["charging_piles"].value, rows["charging_piles"].accounts) == (2, 2)
        assert (rows["green_travel_share"].value, rows["green_travel_share"].accounts) == (2, 2)
        assert rows["green_building_share"].value is None
        # a share only where the contribution measures the target's own quantity: 13.5 kW = 0.00135 万 kW of 800
        assert rows["renewable_capacity"].share == Decimal("0.0")
        assert rows["charging_piles"].share is None and rows["waste_recovery_rate"].share is None


def test_the_share_of_a_comparable_target_is_rounded_down(app):
    text = (SEEDS / "plan_targets.yaml").read_text(encoding="utf-8")
    small = plan_targets.parse(text.replace("value: 800, unit_zh: 万千瓦", "value: 0.003, unit_zh: 万千瓦"))
    with app.app_context():
        f.districts()
        pv(f.resident(district_code="370902"), "pv-share", 7)
        commit()
        # 7 kW = 0.0007 万 kW of 0.003 → 23.333…% → 23.3
        assert of(plan_targets.progress(small))["renewable_capacity"].share == Decimal("23.3")


def test_console_public_page_and_open_data_show_the_same_figures(app):
    client = console(app, AdminRole.OPERATOR)
    with app.app_context():
        f.districts()
        for i in range(10):  # ten accounts: published
            f.bus_ride(f.resident(district_code="370902"), JUNE + timedelta(hours=i), f"ride-{i}", distance_km=3)
        for i in range(3):  # three: suppressed on the public page, shown in the console
            award(f.resident(district_code="370902"), "ev_charging", {"kwh": 10}, f"charge-{i}",
                  channel="partner:charging")
        commit()
    page = client.get("/admin/plan").get_data(as_text=True)
    assert 'data-target="green_travel_share"' in page and "<strong data-value>10</strong> 次" in page
    assert "<strong data-value>3</strong> 次" in page and "平台没有这项数据" in page
    assert "到2025年，全市充电桩保有量达到4100台左右" in page
    client.get("/admin/lang/en?next=/admin/plan")
    english = client.get("/admin/plan").get_data(as_text=True)
    assert "at least 70 % by 2025" in english and "<strong data-value>10</strong> trips" in english
    assert "The platform has no data on this" in english

    public = app.test_client()
    document = public.get("/open-data/aggregates.json").get_json()
    targets = {row["key"]: row for row in document["plan_targets"]}
    assert targets["green_travel_share"]["contribution"]["value"] == 10
    assert targets["green_travel_share"]["contribution"]["accounts"] == 10
    assert targets["charging_piles"]["suppressed"] is True
    assert targets["charging_piles"]["contribution"]["value"] is None
    assert targets["green_building_share"]["contribution"] is None
    home = public.get("/").get_data(as_text=True)
    assert 'data-target="green_travel_share"' in home and "<strong>10</strong> 次" in home
    assert "不公布" in home.split('data-target="charging_piles"')[1].split("</tr>")[0]
