"""The usage book's public methods: what an action needs, seeding it, and recording an award."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from points_rules import (
    Action,
    CampaignStops,
    Facts,
    Need,
    Period,
    Tally,
    Totals,
    UsageBook,
    evaluate,
    load_rulebook_file,
)

BEIJING = timezone(timedelta(hours=8))
RULEBOOK = load_rulebook_file(Path(__file__).resolve().parents[2] / "seeds" / "rulebook.yaml")
JUNE = datetime(2026, 6, 3, 9, 30, tzinfo=BEIJING)  # outside every campaign
LOW_CARBON_WEEK = datetime(2026, 6, 16, 9, 30, tzinfo=BEIJING)  # low_carbon_day_2026: × 2


def ride(when=JUNE, account=7, household=None):
    return Action(account, Facts("bus_ride", {"distance_km": 6.2}, "resident", when,
                                 in_household=household is not None), household)


def test_an_action_needs_its_caps_periods_its_year_and_its_campaigns():
    needs = set(UsageBook(RULEBOOK).needs(ride(LOW_CARBON_WEEK, household=70)))
    assert needs == {
        Need(Tally.ACCOUNT, 7, "bus_ride", Period.DAY, "2026-06-16"),  # the daily count cap
        Need(Tally.HOUSEHOLD, 70, "bus_ride", Period.DAY, "2026-06-16"),
        Need(Tally.YEAR, 7, None, Period.YEAR, "2026"),
        Need(Tally.PARTICIPANT, 7, "low_carbon_day_2026", Period.EVER, None),
    }


def test_seeded_figures_are_what_usage_reads():
    book = UsageBook(RULEBOOK)
    book.seed(Need(Tally.ACCOUNT, 7, "bus_ride", Period.DAY, "2026-06-16"), Totals(count=4, grams=664, points=132))
    book.seed(Need(Tally.YEAR, 7, None, Period.YEAR, "2026"), Totals(points=1_000))
    book.seed(Need(Tally.PARTICIPANT, 7, "low_carbon_day_2026", Period.EVER, None), Totals(count=3, points=99))
    book.seed_budget("low_carbon_day_2026", 5_000)
    usage = book.usage(ride(LOW_CARBON_WEEK))
    assert usage.account == {("bus_ride", Period.DAY): Totals(count=4, grams=664, points=132)}
    assert usage.account_year_points == 1_000
    week = usage.campaigns["low_carbon_day_2026"]
    assert (week.spent, week.participant_points, week.participant_actions) == (5_000, 99, 3)
    # The fifth ride of the day is capped: nothing credited, so no campaign extra either.
    assert evaluate(RULEBOOK, ride(LOW_CARBON_WEEK).facts, usage).points == 0


def test_recording_an_award_counts_it_for_the_next_action():
    book, first = UsageBook(RULEBOOK), ride(LOW_CARBON_WEEK)
    result = evaluate(RULEBOOK, first.facts, book.usage(first))
    assert (result.base_points, result.points) == (33, 66)  # 166 g → 33 points, doubled in the week
    book.record(first, result)
    usage = book.usage(ride(LOW_CARBON_WEEK + timedelta(hours=1)))
    assert usage.account[("bus_ride", Period.DAY)] == Totals(count=1, grams=166, points=33)  # base points
    assert usage.account_year_points == 66  # all points
    assert usage.campaigns["low_carbon_day_2026"].spent == 33


def test_a_stopped_campaign_is_neither_targeted_nor_paid():
    book = UsageBook(RULEBOOK, CampaignStops(paused=frozenset({"low_carbon_day_2026"})))
    assert book.targeted(ride(LOW_CARBON_WEEK)) == []
    action = ride(LOW_CARBON_WEEK)
    assert evaluate(RULEBOOK, action.facts, book.usage(action)).points == 33
