"""The trust rules of a scenario (points_rules/trust.py): load-time errors, legacy keys, and the engine's steps."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from points_rules import Facts, RulebookError, Status, Totals, Usage, evaluate, load_rulebook, parse_yaml
from points_rules.engine import Refused, check_trust, trust_verdict
from points_rules.trust import parse_detail

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
DOCUMENT, LINES = parse_yaml((SEEDS / "rulebook-2026.3.yaml").read_text(encoding="utf-8"))
WHEN = datetime(2027, 1, 6, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def with_trust(scenario_id: str, trust=None, **extra):
    document = copy.deepcopy(DOCUMENT)
    index, scenario = next((i, s) for i, s in enumerate(document["scenarios"]) if s["id"] == scenario_id)
    if trust is None:
        scenario.pop("trust", None)
    else:
        scenario["trust"] = trust
    scenario.update(extra)
    return document, index


def errors_of(document) -> dict[str, str]:
    with pytest.raises(RulebookError) as caught:
        load_rulebook(document)
    return dict(caught.value.errors)


@pytest.mark.parametrize("trust, path, words", [
    ({"partner:transit": "as_reported", "app": "as_reported", "partner:bike_share": "as_reported"},
     '.trust."partner:bike_share"', "unknown channel 'partner:bike_share'"),
    ({"partner:transit": "as_reported"}, ".trust", "no trust rule for channel 'app'"),
    ({"partner:transit": "as_reported", "app": {"below": {"weight_kg": 3}}}, ".trust.\"app\".below.weight_kg",
     "the scenario has no input 'weight_kg'"),
    ({"partner:transit": "as_reported", "app": {"below": {"distance_km": 500}}}, ".trust.\"app\".below.distance_km",
     "at most 120 anyway"),
    ({"partner:transit": {"evidence": "photo"}, "app": "as_reported"}, ".trust.\"partner:transit\".evidence",
     "only app reports carry photos"),
    ({"partner:transit": "as_reported", "app": {"review": "always", "below": {"count_per_day": 2}}},
     ".trust.\"app\".below", "review: always already holds every report"),
    ({"partner:transit": "as_reported", "app": {}}, ".trust.\"app\"", "says nothing"),
])
def test_a_trust_rule_that_does_not_fit_its_scenario_is_refused_at_load(trust, path, words):
    document, index = with_trust("bus_ride", trust)
    errors = errors_of(document)
    where = f"scenarios[{index}]{path}"
    assert where in errors and words in errors[where], errors


@pytest.mark.parametrize("rule, words", [
    ("trusted", "as_reported, or a mapping"),
    ({"evidence": "video"}, "Must be one of"),
    ({"below": {"count_per_day": 0}}, "greater than or equal to 1"),
    ({"below": {"distance_km": -1}}, "a positive number"),
    ({"below": {"distance_km": "far"}}, "a number"),
    ({"below": {}}, "give count_per_day or an input's bound"),
    ({"review": "sometimes"}, "Must be one of"),
    ({"photos": 1}, "Unknown field"),
])
def test_a_malformed_trust_rule_is_refused_with_its_path(rule, words):
    document, index = with_trust("bus_ride", {"partner:transit": "as_reported", "app": rule})
    errors = errors_of(document)
    assert any(path.startswith(f"scenarios[{index}].trust") and words in message
               for path, message in errors.items()), errors


def test_trust_and_the_scenario_wide_keys_do_not_mix():
    document, index = with_trust("pv_installation", {"app": {"evidence": "photo"}}, evidence="photo", review=True)
    errors = errors_of(document)
    assert "declared per channel under trust" in errors[f"scenarios[{index}].evidence"]
    assert "declared per channel under trust" in errors[f"scenarios[{index}].review"]


def test_the_error_names_the_yaml_line():
    document, index = with_trust("bus_ride", {"partner:transit": "as_reported"})
    with pytest.raises(RulebookError) as caught:
        load_rulebook(document, LINES)
    assert caught.value.line_of(f"scenarios[{index}].trust") == LINES[f"scenarios[{index}].trust"]


def test_without_trust_the_legacy_keys_still_judge():
    # A 2026.2-style scenario: evidence and review scenario-wide, no trust. The engine never refused for photos then.
    document, _ = with_trust("pv_installation", None, evidence="photo_and_certificate", review=True)
    rulebook = load_rulebook(document)
    scenario = rulebook.scenarios["pv_installation"]
    assert scenario.trust == {} and scenario.trust_for("app").photos == 2 and not scenario.trust_for("app").declared
    result = evaluate(rulebook, Facts("pv_installation", {}, "resident", WHEN))
    assert (result.status, result.reason, result.points) == (Status.REVIEW, "review_required", 2000)
    assert "trust" not in result.receipt.as_dict()


def test_check_trust_step_on_its_own():
    rulebook = load_rulebook(DOCUMENT)
    bus = rulebook.scenarios["bus_ride"]
    facts = Facts("bus_ride", {}, "resident", WHEN)
    values = {"distance_km": 16}
    trusted = check_trust(bus, facts, values, Usage(channel_day={("bus_ride", "app"): Totals(count=5)}))
    assert [(b.name, b.value, b.over) for b in trusted.bounds] == [("count_per_day", 6, True),
                                                                   ("distance_km", 16, True)]
    verdict = trust_verdict(trusted)
    assert (verdict.status, verdict.reason) == (Status.REVIEW, "over_bound")
    assert parse_detail(verdict.detail) == [("count_per_day", "6", "2"), ("distance_km", "16", "15")]
    # Another channel's count does not count against the app's bound.
    other = check_trust(bus, facts, {"distance_km": 1}, Usage(channel_day={("bus_ride", "partner:transit"):
                                                                           Totals(count=9)}))
    assert trust_verdict(other).status is Status.CREDITED
    with pytest.raises(Refused) as refused:
        check_trust(rulebook.scenarios["tree_planting"], Facts("tree_planting", {}, "resident", WHEN, photos=1),
                    {"trees": 1}, Usage())
    assert refused.value.reason == "evidence_missing"


def test_parse_detail_ignores_other_text():
    assert parse_detail("more than 15 kg in one deposit needs checking") == []
    assert parse_detail(None) == []


def test_the_usage_book_counts_a_bounded_channel_by_beijing_day():
    from points_rules import Action, Need, Period, Tally, UsageBook

    rulebook = load_rulebook(DOCUMENT)
    book = UsageBook(rulebook)
    late = datetime(2027, 1, 6, 23, 50, tzinfo=timezone(timedelta(hours=8)))
    first = Action("a", Facts("bus_ride", {"distance_km": 3}, "resident", late))
    needs = [n for n in book.needs(first) if n.tally is Tally.CHANNEL]
    assert needs == [Need(Tally.CHANNEL, "a", "bus_ride", Period.DAY, "2027-01-06", "app")]
    book.seed(needs[0], Totals(count=1))  # one already counted today
    results = []
    for minutes in (0, 5):
        action = Action("a", Facts("bus_ride", {"distance_km": 3}, "resident", late + timedelta(minutes=minutes)))
        result = evaluate(rulebook, action.facts, book.usage(action))
        book.record(action, result)
        results.append(result.status)
    # 23:50 is report 2 of the 6th (within); 23:55 report 3 (held). Ten minutes later is the 7th: a new day.
    assert results == [Status.CREDITED, Status.REVIEW]
    tomorrow = Action("a", Facts("bus_ride", {"distance_km": 3}, "resident", late + timedelta(minutes=15)))
    assert evaluate(rulebook, tomorrow.facts, book.usage(tomorrow)).status is Status.CREDITED
    # The card feed's rides are no part of the app's count, and a channel without a count bound keeps no count.
    card = Action("a", Facts("bus_ride", {"distance_km": 3}, "resident", late, channel="partner:transit"))
    assert not [n for n in book.needs(card) if n.tally is Tally.CHANNEL]


def test_the_simulator_reads_the_photos_an_action_carried(tmp_path):
    from points_rules import read_actions, simulate

    path = tmp_path / "actions.csv"
    path.write_text("time,account,account_type,scenario,photos,in.clothes_kg\n"
                    "2027-01-06T09:30:00+08:00,a,resident,recyclables,1,2\n"
                    "2027-01-06T09:30:00+08:00,b,resident,recyclables,,2\n", encoding="utf-8")
    actions = list(read_actions(path))
    assert [a.facts.photos for a in actions] == [1, 0]
    report = simulate(load_rulebook(DOCUMENT), actions)
    # 2 kg × 1,280 g/kg = 2,560 g → 512 points for the one with its photo; the other is refused.
    assert (report.points, dict(report.rejections)) == (512, {"evidence_missing": 1})
