"""Hypothesis properties of the engine over the Tai'an rulebook and arbitrary usage."""

from __future__ import annotations

import copy
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from points_rules import CampaignUsage, Facts, Period, Status, Totals, Usage, evaluate, load_rulebook, parse_yaml

BEIJING = timezone(timedelta(hours=8))
SEED_TEXT = (Path(__file__).resolve().parents[2] / "seeds" / "rulebook.yaml").read_text(encoding="utf-8")
DOCUMENT, _ = parse_yaml(SEED_TEXT)
RULEBOOK = load_rulebook(DOCUMENT)
SCENARIOS = sorted(RULEBOOK.scenarios)
DISTRICTS = [None, "370902", "370911", "370982"]
#: The input that measures "how much" in each scenario that has one (with its smallest useful value).
QUANTITY = {"bus_ride": ("distance_km", "0.1"), "brt_ride": ("distance_km", "0.1"), "cycling": ("distance_km", "0.1"),
            "walking": ("steps", "0"), "nev_driving": ("km", "1"), "ev_charging": ("kwh", "0.1"),
            "waste_sorting": ("weight_kg", "0.05"), "recyclables": ("clothes_kg", "0"),
            "pv_generation": ("kwh", "0"), "electricity_saving": ("baseline_kwh", "0"), "tree_planting": ("trees", "1")}


def in_range(spec) -> st.SearchStrategy:
    low = spec.min if spec.min is not None else Decimal(0)
    high = spec.max if spec.max is not None else Decimal(10_000)
    return st.decimals(min_value=low, max_value=high, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def actions(draw, scenario_ids=SCENARIOS, start=datetime(2026, 1, 1, tzinfo=BEIJING), days=365):
    scenario = RULEBOOK.scenarios[draw(st.sampled_from(scenario_ids))]
    inputs = {spec.name: draw(in_range(spec)) for spec in scenario.inputs}
    when = start + timedelta(minutes=draw(st.integers(0, days * 24 * 60 - 1)))
    return Facts(
        scenario.id, inputs, draw(st.sampled_from(sorted(scenario.account_types))), when,
        channel=draw(st.sampled_from(sorted(scenario.channels))), district=draw(st.sampled_from(DISTRICTS)),
        in_household=draw(st.booleans()), received_at=when + timedelta(hours=draw(st.integers(0, 72))),
    )


@st.composite
def usages(draw, facts: Facts):
    scenario = RULEBOOK.scenarios[facts.scenario]

    def totals(limit):
        bound = st.integers(0, max(1, limit * 3 // 2))
        return Totals(draw(bound), draw(bound), draw(bound))

    account = {(scenario.id, cap.per): totals(cap.limit) for cap in scenario.caps if cap.scope == "account"}
    household = {(scenario.id, cap.per): totals(cap.limit) for cap in scenario.caps if cap.scope == "household"}
    for other in scenario.excludes:
        account[(other, Period.MONTH)] = Totals(draw(st.integers(0, 1)))
    campaigns = {c.id: CampaignUsage(draw(st.integers(0, c.budget_points + 10)),
                                     draw(st.integers(0, (c.per_participant_points or 1000) + 10)),
                                     draw(st.integers(0, 10)), {Period.WEEK: draw(st.integers(0, 8))})
                 for c in RULEBOOK.campaigns}
    return Usage(account, household, draw(st.integers(0, 250_000)), campaigns)


@st.composite
def cases(draw, **action_options):
    facts = draw(actions(**action_options))
    return facts, draw(usages(facts))


@settings(max_examples=400, deadline=None)
@given(cases())
def test_points_are_never_negative_and_never_above_any_cap(case):
    facts, usage = case
    result = evaluate(RULEBOOK, facts, usage)
    assert result.grams >= 0 and result.base_points >= 0 and result.points >= 0
    assert all(points > 0 for points in result.campaign_points.values())
    assert result.points == result.base_points + sum(result.campaign_points.values())
    if result.status is Status.REJECTED:
        assert (result.grams, result.points) == (0, 0)
        return
    scenario = RULEBOOK.scenarios[facts.scenario]
    for cap in scenario.caps:
        if cap.scope == "household" and not facts.in_household:
            continue
        used = (usage.account if cap.scope == "account" else usage.household)[(scenario.id, cap.per)]
        if cap.unit == "count" and used.count >= cap.limit:
            assert (result.grams, result.base_points) == (0, 0)
        elif cap.unit == "grams":
            assert result.grams <= max(0, cap.limit - used.grams)
        elif cap.unit == "points":
            assert result.base_points <= max(0, cap.limit - used.points)
    assert result.points <= max(0, RULEBOOK.annual_cap_points - usage.account_year_points)
    for campaign in RULEBOOK.campaigns:
        paid = result.campaign_points.get(campaign.id, 0)
        used = usage.campaigns[campaign.id]
        assert paid <= max(0, campaign.budget_points - used.spent)
        assert paid <= max(0, campaign.per_participant_points - used.participant_points)


@settings(max_examples=300, deadline=None)
@given(cases(scenario_ids=sorted(QUANTITY)), st.data())
def test_points_grow_with_quantity_until_a_cap(case, data):
    facts, usage = case
    name, smallest = QUANTITY[facts.scenario]
    spec = next(i for i in RULEBOOK.scenarios[facts.scenario].inputs if i.name == name)
    low = data.draw(st.decimals(min_value=Decimal(smallest), max_value=spec.max, places=2))
    high = data.draw(st.decimals(min_value=low, max_value=spec.max, places=2))
    smaller = evaluate(RULEBOOK, Facts(**{**facts.__dict__, "inputs": {**facts.inputs, name: low}}), usage)
    larger = evaluate(RULEBOOK, Facts(**{**facts.__dict__, "inputs": {**facts.inputs, name: high}}), usage)
    assert smaller.grams <= larger.grams
    assert smaller.points <= larger.points


@settings(max_examples=400, deadline=None)
@given(cases(start=datetime(2026, 5, 25, tzinfo=BEIJING), days=140))  # around both campaigns' windows
def test_a_campaign_never_pays_outside_its_window_or_targeting(case):
    facts, usage = case
    result = evaluate(RULEBOOK, facts, usage)
    for campaign in RULEBOOK.campaigns:
        if campaign.id in result.campaign_points:
            assert campaign.starts_at <= facts.time < campaign.ends_at
            assert not campaign.scenarios or facts.scenario in campaign.scenarios
            assert not campaign.districts or facts.district in campaign.districts
            assert not campaign.account_types or facts.account_type in campaign.account_types


SMALL_BUDGET = copy.deepcopy(DOCUMENT)
SMALL_BUDGET["campaigns"][0].update(budget_points=500, per_participant_points=120)
SMALL_BUDGET_RULEBOOK = load_rulebook(SMALL_BUDGET)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.decimals(min_value=Decimal("0.1"), max_value=60, places=1)),
                min_size=1, max_size=80))
def test_a_campaign_budget_is_never_overspent(trips):
    campaign = SMALL_BUDGET_RULEBOOK.campaigns[0]
    spent, per_person, actions_by = 0, defaultdict(int), defaultdict(int)
    when = datetime(2026, 6, 17, 8, tzinfo=BEIJING)
    for person, km in trips:
        usage = Usage(campaigns={campaign.id: CampaignUsage(spent, per_person[person], actions_by[person])})
        result = evaluate(SMALL_BUDGET_RULEBOOK, Facts("cycling", {"distance_km": km, "minutes": 60}, "resident",
                                                       when), usage)
        paid = result.campaign_points.get(campaign.id, 0)
        spent += paid
        per_person[person] += paid
        actions_by[person] += 1
    assert spent <= campaign.budget_points
    assert all(points <= campaign.per_participant_points for points in per_person.values())


@settings(max_examples=200, deadline=None)
@given(cases())
def test_the_same_inputs_always_give_the_same_receipt(case):
    facts, usage = case
    first, second = evaluate(RULEBOOK, facts, usage), evaluate(RULEBOOK, facts, usage)
    assert first == second
    assert first.receipt.as_dict() == second.receipt.as_dict()
    assert first.receipt.render("zh_CN") == second.receipt.render("zh_CN")
