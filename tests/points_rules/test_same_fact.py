"""The same-fact rule (points_rules.same_fact): when an app report and a partner's record are one fact, and how a
rulebook declares it; 2026.4 is 2026.3 with the rule added and nothing else changed."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources

import pytest

from points_rules import RulebookError, load_rulebook, parse_yaml
from points_rules.same_fact import SameFact, Sighting

T = datetime(2026, 6, 3, 1, 0, tzinfo=UTC)
RULE = SameFact(timedelta(minutes=90), "distance_km", Decimal("0.5"))


def document(version: str) -> dict:
    return parse_yaml(resources.files("seeds").joinpath(f"rulebook-{version}.yaml").read_text("utf-8"))[0]


def app(minutes=0, **inputs):
    return Sighting("app", T + timedelta(minutes=minutes), inputs)


def card(minutes=0, **inputs):
    return Sighting("partner:transit", T + timedelta(minutes=minutes), inputs)


@pytest.mark.parametrize(("a", "b", "same"), [
    (app(distance_km=5), card(25, distance_km=6.2), True),
    (app(distance_km=5), card(90, distance_km=5), True),       # the window is inclusive
    (app(distance_km=5), card(-91, distance_km=5), False),
    (app(distance_km=5), card(0, distance_km=10), True),        # 5 = 0.5 × 10: inclusive
    (app(distance_km=4.9), card(0, distance_km=10), False),
    (app(), card(0, distance_km=10), True),                     # no distance: the time decides
    (app(distance_km=0), card(0, distance_km=10), True),
    (app(distance_km=5), app(0, distance_km=5), False),         # two reports are two facts (their ids may join them)
    (card(distance_km=5), card(0, distance_km=5), False),
    (Sighting("merchant_checkin", T, {}), app(30), True),       # a check-in attests too
])
def test_when_two_records_are_one_fact(a, b, same):
    assert RULE.matches(a, b) is same and RULE.matches(b, a) is same


def test_without_a_quantity_only_the_time_counts():
    rule = SameFact(timedelta(minutes=180))
    assert rule.matches(app(distance_km=1), card(179, distance_km=40))
    assert not rule.matches(app(), card(181))


def test_2026_4_is_2026_3_with_the_same_fact_rules_and_nothing_else():
    old, new = document("2026.3"), document("2026.4")
    assert new["version"] == "2026.4"
    stripped = copy.deepcopy(new)
    stripped["version"] = old["version"]
    ruled = {s["id"] for s in stripped["scenarios"] if s.pop("same_fact", None) is not None}
    assert stripped == old
    # Every scenario both the app and another channel can credit, and only those.
    assert ruled == {s["id"] for s in old["scenarios"] if "app" in s["channels"] and len(s["channels"]) > 1}
    rulebook = load_rulebook(new)
    assert rulebook.scenarios["bus_ride"].same_fact == RULE
    assert rulebook.scenarios["recyclables"].same_fact == SameFact(timedelta(hours=3))
    assert load_rulebook(old).scenarios["bus_ride"].same_fact is None


def with_rule(rule: dict, scenario: str = "bus_ride") -> dict:
    doc = document("2026.4")
    next(s for s in doc["scenarios"] if s["id"] == scenario)["same_fact"] = rule
    return doc


@pytest.mark.parametrize(("scenario", "rule", "path", "words"), [
    ("bus_ride", {"window_minutes": 0}, "same_fact.window_minutes", "1"),
    ("bus_ride", {"window_minutes": 1441}, "same_fact.window_minutes", "1440"),
    ("bus_ride", {"window_minutes": 30, "quantity": {"input": "distance_km", "within": 1.5}},
     "same_fact.quantity.within", "1"),
    ("bus_ride", {"window_minutes": 30, "quantity": {"input": "minutes", "within": 0.5}},
     "same_fact.quantity.input", "no input 'minutes'"),
    ("bus_ride", {"window_minutes": 30, "tolerance": 2}, "same_fact.tolerance", "Unknown"),
    ("pv_generation", {"window_minutes": 30}, "same_fact", "needs the app channel"),
    ("walking", {"window_minutes": 30}, "same_fact", "needs the app channel and another"),
])
def test_a_rule_that_cannot_work_is_refused_at_its_path(scenario, rule, path, words):
    doc = with_rule(rule, scenario)
    index = next(i for i, s in enumerate(doc["scenarios"]) if s["id"] == scenario)
    with pytest.raises(RulebookError) as caught:
        load_rulebook(doc)
    found = [message for where, message in caught.value.errors if where == f"scenarios[{index}].{path}"]
    assert found and any(words in message for message in found), caught.value.errors
