"""Simulation over a stream of actions, and the comparison of two rulebooks."""

from __future__ import annotations

import copy
import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from points_rules import Facts, load_rulebook, parse_yaml
from points_rules.simulate import Action, ActionFileError, compare, read_actions, simulate

BEIJING = timezone(timedelta(hours=8))
DOCUMENT, _ = parse_yaml((Path(__file__).resolve().parents[2] / "seeds" / "rulebook.yaml").read_text("utf-8"))
RULEBOOK = load_rulebook(DOCUMENT)


def bus(account, when, km=6.2):
    return Action(account, Facts("bus_ride", {"distance_km": km}, "resident", when))


def test_caps_apply_across_the_stream():
    morning = datetime(2026, 6, 3, 7, tzinfo=BEIJING)
    rides = [bus("a", morning + timedelta(hours=i)) for i in range(6)] + [bus("a", morning + timedelta(days=1))]
    report = simulate(RULEBOOK, rides)
    # 4 rides a day are credited (33 points each, see the golden test); rides 5 and 6 earn nothing; a new day resets
    assert report.points == 5 * 33 and report.grams == 5 * 166
    assert report.by_scenario["bus_ride"] == [7, 5 * 166, 5 * 33]
    assert report.by_account["a"] == 165


def test_campaign_budget_burn_is_reported_and_never_exceeded():
    document = copy.deepcopy(DOCUMENT)
    document["campaigns"][0]["budget_points"] = 100
    week = datetime(2026, 6, 16, 7, tzinfo=BEIJING)
    report = simulate(load_rulebook(document), [bus(f"r{i}", week + timedelta(minutes=i)) for i in range(10)])
    paid, budget = report.budget_burn()["low_carbon_day_2026"]
    assert (paid, budget) == (100, 100)  # 33 + 33 + 33 + 1, then nothing
    assert report.points == 10 * 33 + 100


def test_comparing_two_rulebooks_names_what_moves():
    richer = copy.deepcopy(DOCUMENT)
    richer["version"] = "2026.2"
    richer["factors"] = [f if f["id"] != "er_bus_per_pkm" else {**f, "value": 53.8} for f in richer["factors"]]
    morning = datetime(2026, 6, 3, 7, tzinfo=BEIJING)
    actions = [bus("a", morning), bus("b", morning + timedelta(hours=1), km=12),
               Action("c", Facts("walking", {"steps": 8000}, "resident", morning))]
    comparison = compare(RULEBOOK, load_rulebook(richer), actions)
    # bus: 6.2 km × 53.8 = 333.56 → 333 g → 66 (was 33); 12 km × 53.8 = 645.6 → 645 g → 129 (was 12 × 26.9 = 322 g → 64)
    assert comparison.points_delta == (66 - 33) + (129 - 64)
    assert comparison.scenario_moves() == [("bus_ride", 98)]
    assert comparison.account_moves() == [("b", 65), ("a", 33)]


def test_actions_are_read_from_csv_and_bad_rows_name_their_line(tmp_path):
    good = tmp_path / "actions.csv"
    with good.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "account", "account_type", "scenario", "channel", "district", "in.distance_km"])
        writer.writerow(["2026-06-03T07:00:00+08:00", "a", "resident", "bus_ride", "partner:transit", "370902", "6.2"])
        writer.writerow(["2026-06-03T08:00:00+08:00", "a", "resident", "bus_ride", "", "", ""])
    actions = list(read_actions(good))
    assert [a.facts.inputs for a in actions] == [{"distance_km": "6.2"}, {}]
    assert actions[0].facts.channel == "partner:transit" and actions[1].facts.channel == "app"
    assert simulate(RULEBOOK, actions).points == 33 + 16
    bad = tmp_path / "bad.csv"
    bad.write_text("time,account,account_type,scenario\n2026-06-03T07:00:00,a,resident,bus_ride\n", "utf-8")
    with pytest.raises(ActionFileError, match="line 2: time needs a UTC offset"):
        list(read_actions(bad))
