"""Awarding actions through the rules engine into the ledger, on both databases, including races."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.errors import IdempotencyConflict
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus, CampaignBudget, CampaignControl, CarbonAccount, PointLot
from carbon_platform.services import accounts, earning, holders, households, rulebooks
from carbon_platform.services import budgets as campaign_budgets
from points_rules import parse_yaml
from tests import factories as f
from tests.concurrency import run_concurrently

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 6, 3, 9, 30, tzinfo=BEIJING)  # outside both seed campaigns
SEED_DOCUMENT, _ = parse_yaml(resources.files("seeds").joinpath("rulebook.yaml").read_text("utf-8"))


@pytest.fixture
def ctx_with_rules(ctx):
    seeding.load_reference()
    commit()


def award(account_id, scenario="bus_ride", inputs=None, *, key=None, at=NOW, **options):
    return earning.award_action(account_id, account_type=options.pop("account_type", "resident"), scenario=scenario,
                                inputs={"distance_km": 6.2} if inputs is None else inputs, occurred_at=at,
                                idempotency_key=key or f.key("award"), now=at, **options)


def account(account_id) -> CarbonAccount:
    return db.session.get(CarbonAccount, account_id, populate_existing=True)


def test_an_award_credits_grams_and_held_points_and_keeps_its_receipt(ctx_with_rules):
    account_id = f.resident().account_id
    result = award(account_id)
    action = result.action
    # 6.2 km × 26.9 g/pkm = 166.78 → 166 g → 33 points (see the golden tests), held 2 days
    assert (action.status, action.grams, action.points) == (ActionStatus.CREDITED, 166, 33)
    assert (account(account_id).points_pending, account(account_id).reduction_grams) == (33, 166)
    lot = db.session.execute(sa.select(PointLot)).scalar_one()
    assert lot.release_at == NOW + timedelta(days=2) and lot.journal_id == action.journal_id
    assert action.receipt["rulebook_version"] == "2026.1" and action.receipt["methodology_version"] == "TA-BUS-2026.1"
    assert [f["id"] for f in action.receipt["factors"]] == ["er_bus_per_pkm", "er_bus_per_ride"]


def test_caps_hold_across_awards(ctx_with_rules):
    account_id = f.resident().account_id
    points = [award(account_id, at=NOW + timedelta(minutes=i)).action.points for i in range(5)]
    assert points == [33, 33, 33, 33, 0]  # four rides a day
    fifth = db.session.execute(sa.select(Action).order_by(Action.id.desc())).scalars().first()
    assert fifth.receipt["adjustments"][0]["ref"] == "caps[0]"
    assert award(account_id, at=NOW + timedelta(days=1)).action.points == 33  # a new Beijing day


def test_a_replayed_key_returns_the_same_action_and_a_changed_request_is_refused(ctx_with_rules):
    account_id = f.resident().account_id
    first = award(account_id, key="trip-1")
    again = award(account_id, key="trip-1")
    assert again.replayed and again.action.id == first.action.id
    with pytest.raises(IdempotencyConflict):
        award(account_id, {"distance_km": 9}, key="trip-1")
    assert account(account_id).points_pending == 33


def test_a_batch_answers_each_replayed_key_with_its_own_action(ctx_with_rules):
    account_id = f.resident().account_id
    first, second = (award(account_id, key=key, at=NOW + timedelta(minutes=m)).action for key, m in
                     (("trip-1", 0), ("trip-2", 5)))

    def claim(key, distance_km, minutes):
        return earning.Claim(account_id, "resident", "bus_ride", {"distance_km": distance_km},
                             (NOW + timedelta(minutes=minutes)).astimezone(UTC), key)  # as award_action

    outcomes = earning.award_many([claim("trip-2", 6.2, 5), claim("trip-3", 6.2, 10), claim("trip-1", 6.2, 0),
                                   claim("trip-1", 9, 0)], now=NOW + timedelta(minutes=10))
    assert [o.replayed for o in outcomes[:3]] == [True, False, True]
    assert (outcomes[0].action.id, outcomes[2].action.id) == (second.id, first.id)
    assert isinstance(outcomes[3], IdempotencyConflict)  # the key taken, the request changed
    assert account(account_id).points_pending == 3 * 33


def test_the_same_fact_through_two_channels_is_credited_once(ctx_with_rules):
    account_id = f.resident().account_id
    by_card = award(account_id, channel="partner:transit", fact_id="card:8801@2026-06-03T09:30")
    by_app = award(account_id, channel="app", fact_id="card:8801@2026-06-03T09:30")
    assert by_app.duplicate_of.id == by_card.action.id
    assert db.session.execute(sa.select(sa.func.count()).select_from(Action)).scalar_one() == 1
    assert account(account_id).points_pending == 33


def test_review_holds_the_points_but_counts_against_the_cap(ctx_with_rules):
    account_id = f.resident().account_id
    first = award(account_id, "pv_installation", {})
    assert (first.action.status, first.action.points, first.action.journal_id) == (ActionStatus.REVIEW, 2000, None)
    assert account(account_id).points_pending == 0
    assert award(account_id, "pv_installation", {}).action.points == 0  # once ever, even while under review


def test_a_rejected_action_is_kept_with_its_reason_and_credits_nothing(ctx_with_rules):
    account_id = f.resident().account_id
    result = award(account_id, "nev_driving", {"km": 100}, channel="app")
    assert (result.action.status, result.action.reason) == (ActionStatus.REJECTED, "channel_not_accepted")
    assert result.action.receipt["status"] == "rejected" and account(account_id).reduction_grams == 0


def test_campaign_points_are_awarded_and_budgeted(ctx_with_rules):
    account_id = f.resident().account_id
    week = datetime(2026, 6, 16, 8, tzinfo=BEIJING)
    action = award(account_id, at=week).action
    assert action.points == 66  # doubled in the low-carbon week
    assert db.session.get(CampaignBudget, "low_carbon_day_2026").spent == 33


def test_a_self_report_carries_the_holders_district_and_household(ctx_with_rules):
    resident = f.resident(district_code="370911")
    household = households.create_household(resident, name="岱岳之家", address="岱岳区", district_code="370911")
    walk = earning.self_report(resident, scenario="walking", inputs={"steps": 8000}, occurred_at=NOW,
                               client_key="walk", now=NOW).action
    assert (walk.district, walk.household_account_id) == ("370911", household.account_id)
    assert walk.idempotency_key == f"resident:{resident.id}:walk"
    company = f.enterprise()
    report = earning.self_report(company, scenario="walking", inputs={"steps": 8000}, occurred_at=NOW,
                                 client_key="walk", now=NOW).action
    assert (report.district, report.household_account_id) == ("370900-hitech", None)
    assert report.reason == "account_type_not_allowed"  # walking is for residents: judged as an enterprise


def test_a_self_report_locks_the_holders_account_and_its_households_in_the_query_that_reads_the_holder(
        ctx_with_rules):
    resident = f.resident(district_code="370911")
    household = households.create_household(resident, name="岱岳之家", address="岱岳区", district_code="370911")
    company = f.enterprise()
    db.session.flush()
    assert holders.lock(resident.account_id) == holders.Locked(
        holders.Holder("resident", "370911", household.account_id),
        {resident.account_id: False, household.account_id: False})
    assert holders.lock(company.account_id) == holders.Locked(holders.Holder("enterprise", "370900-hitech", None),
                                                              {company.account_id: False})
    assert holders.lock(10**9) == holders.Locked(None, {})
    assert holders.of({resident.account_id, company.account_id}) == {
        resident.account_id: holders.Holder("resident", "370911", household.account_id),
        company.account_id: holders.Holder("enterprise", "370900-hitech", None)}


# -- batches ---------------------------------------------------------------------------------------


def claim(account_id, at, scenario="bus_ride", inputs=None, **options):
    return earning.Claim(account_id, options.pop("account_type", "resident"), scenario,
                         {"distance_km": 6.2} if inputs is None else inputs, at,
                         options.pop("key", None) or f.key("batch"), **options)


def outcome_of(award_or_error):
    if isinstance(award_or_error, Exception):
        return type(award_or_error).__name__
    row = award_or_error.action
    return row.status, row.grams, row.points


def test_a_batch_is_awarded_as_if_one_claim_after_another(ctx_with_rules):
    """Caps, the campaign's streaks and its budget, across days: one batch ends where single awards do."""
    one_by_one, together = f.resident().account_id, f.resident().account_id
    week = datetime(2026, 6, 16, 7, tzinfo=BEIJING)  # the seed campaign doubles rides this week
    moments = [week + timedelta(hours=h) for h in (0, 1, 2, 3, 4, 5, 25, 26, 49)]
    singles = [outcome_of(award(one_by_one, at=moment)) for moment in moments]
    spent = db.session.get(CampaignBudget, "low_carbon_day_2026").spent
    batch = earning.award_many([claim(together, moment) for moment in moments], now=moments[-1])
    assert [outcome_of(a) for a in batch] == singles
    assert [points for _status, _grams, points in singles] == [66, 66, 66, 66, 0, 0, 66, 66, 66]
    assert db.session.get(CampaignBudget, "low_carbon_day_2026", populate_existing=True).spent == 2 * spent
    assert account(together).reduction_grams == account(one_by_one).reduction_grams
    assert account(together).points_pending + account(together).points_available == 7 * 66


def test_a_batch_answers_repeats_within_itself(ctx_with_rules):
    account_id = f.resident().account_id
    first = claim(account_id, NOW, key="ride-1", fact_id="card:1@09:30")
    same_key = claim(account_id, NOW, key="ride-1", fact_id="card:1@09:30")
    changed = claim(account_id, NOW, {"distance_km": 9}, key="ride-1", fact_id="card:1@09:30")
    same_fact = claim(account_id, NOW, key="ride-2", fact_id="card:1@09:30")
    awards = earning.award_many([first, same_key, changed, same_fact], now=NOW)
    assert awards[1].replayed and awards[1].action.id == awards[0].action.id
    assert isinstance(awards[2], IdempotencyConflict)
    assert awards[3].duplicate_of.id == awards[0].action.id
    assert db.session.execute(sa.select(sa.func.count()).select_from(Action)).scalar_one() == 1
    assert account(account_id).points_pending == 33


def test_a_refused_claim_writes_nothing_and_the_rest_of_the_batch_is_credited(ctx_with_rules):
    frozen, fine = f.resident().account_id, f.resident().account_id
    accounts.set_frozen(account(frozen), True, actor=f.TEST_ACTOR, reason="test")
    awards = earning.award_many([claim(fine, NOW), claim(frozen, NOW), claim(10**9, NOW),
                                 claim(fine, NOW, key="x" * 201), claim(fine, NOW + timedelta(minutes=1))], now=NOW)
    assert [outcome_of(a) for a in awards] == [(ActionStatus.CREDITED, 166, 33), "AccountFrozen", "NotFound",
                                               "InvalidInput", (ActionStatus.CREDITED, 166, 33)]
    assert db.session.execute(sa.select(Action.account_id)).scalars().all() == [fine, fine]
    assert (account(fine).points_pending, account(frozen).points_pending) == (66, 0)


def test_a_campaign_ended_early_pays_what_happened_before_its_end(ctx_with_rules):
    account_id = f.resident().account_id
    ended = datetime(2026, 6, 17, 12, tzinfo=BEIJING)
    db.session.add(CampaignControl(campaign_id="low_carbon_day_2026", paused=False, ended_at=ended,
                                   updated_at=ended))
    awards = earning.award_many([claim(account_id, ended - timedelta(hours=1)),
                                 claim(account_id, ended + timedelta(hours=1))], now=ended + timedelta(hours=2))
    assert [a.action.points for a in awards] == [66, 33]
    assert db.session.get(CampaignBudget, "low_carbon_day_2026").spent == 33


def test_the_rules_for_awarding_are_the_rules_in_force_and_the_stopped_campaigns(ctx_with_rules):
    def as_read_apart():
        return rulebooks.rules_in_force(NOW), campaign_budgets.stops()

    assert rulebooks.awarding_rules(NOW) == as_read_apart()  # no campaign stopped
    ended = datetime(2026, 6, 17, 12, tzinfo=BEIJING)
    db.session.add_all([CampaignControl(campaign_id="low_carbon_day_2026", paused=False, ended_at=ended,
                                        updated_at=ended),
                        CampaignControl(campaign_id="taishan_sorting_challenge_2026", paused=True, updated_at=ended),
                        CampaignControl(campaign_id="resumed_campaign", paused=False, updated_at=ended)])  # not a stop
    db.session.flush()
    rules, stops = rulebooks.awarding_rules(NOW)
    assert (rules, stops) == as_read_apart()
    assert stops.paused == {"taishan_sorting_challenge_2026"} and [c for c, _ in stops.ended] == ["low_carbon_day_2026"]


# -- races ---------------------------------------------------------------------------------------


REPETITIONS = 20


@pytest.mark.concurrency
def test_fifty_concurrent_awards_never_pass_the_daily_cap(app):
    with app.app_context():
        seeding.load_reference()
        commit()
    for repetition in range(REPETITIONS):
        with app.app_context():
            account_id = f.resident().account_id
            commit()
        outcomes = run_concurrently(app, lambda i, a=account_id: award(a, at=NOW + timedelta(seconds=i)).action.points,
                                    50)
        assert not outcomes.errors and not outcomes.refused, (repetition, outcomes.errors[:2])
        assert sorted(outcomes.ok, reverse=True)[:5] == [33, 33, 33, 33, 0], repetition
        with app.app_context():
            assert account(account_id).points_pending == 4 * 33


BUDGET_DOCUMENT = copy.deepcopy(SEED_DOCUMENT)
BUDGET_DOCUMENT["version"] = "budget-test"
BUDGET_DOCUMENT["campaigns"] = [{
    "id": "budget_race", "name_zh": "预算测试", "name_en": "Budget race",
    "starts_at": "2026-01-01T00:00:00+08:00", "ends_at": "2027-01-01T00:00:00+08:00",
    "target": {"scenarios": ["own_bag"]}, "effects": [{"type": "fixed_bonus", "points": 100}],
    "budget_points": 10_000,
}]


@pytest.mark.concurrency
def test_a_campaign_budget_of_ten_thousand_at_one_hundred_pays_exactly_one_hundred_awards(app):
    with app.app_context():
        seeding.load_reference()
        rulebooks.publish(BUDGET_DOCUMENT, effective_from=NOW - timedelta(days=1), actor=f.TEST_ACTOR)
        commit()
    for repetition in range(REPETITIONS):
        with app.app_context():
            db.session.execute(sa.delete(CampaignBudget))  # a fresh budget for each repetition
            accounts = [f.resident().account_id for _ in range(200)]
            commit()
        outcomes = run_concurrently(
            app, lambda i, ids=accounts: award(ids[i], "own_bag", {}, channel="merchant_checkin").action.points, 200)
        assert not outcomes.errors and not outcomes.refused, (repetition, outcomes.errors[:2])
        # own bag: 5 g → 1 point; the campaign adds 100 to exactly 100 of the 200
        assert sorted(outcomes.ok).count(101) == 100 and sorted(outcomes.ok).count(1) == 100, repetition
        with app.app_context():
            assert db.session.get(CampaignBudget, "budget_race").spent == 10_000
