"""A campaign's forecast on the approval page never outruns the campaign: the payout it expects stops at the
campaign's end and at what is left of its budget, and a budget lasting longer than the campaign is not
reported as "lasting N days" (the page once said 5514.7 days of a week-long campaign)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carbon_platform.services.campaigns import Forecast

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def forecast(*, budget, spent=0, paid=300, days=30, starts=NOW + timedelta(days=1), length=7) -> Forecast:
    return Forecast("bus_double", budget, spent, paid, days, [], [], starts_at=starts,
                    ends_at=starts + timedelta(days=length), now=NOW)


def test_a_budget_that_outlasts_the_campaign_is_not_used_up_and_the_payout_stops_at_the_end():
    f = forecast(budget=1000)  # 300 points in 30 days: 10 a day, 70 in the week
    assert f.window_days == 7 and f.expected_points == 70 and not f.runs_out
    assert f.days_until_exhausted == 100.0  # the pace alone, which the page no longer shows when it outlasts


def test_a_budget_that_runs_out_first_caps_the_payout():
    f = forecast(budget=50, spent=10)  # 40 left at 10 a day: gone on the fourth day of seven
    assert f.runs_out and f.days_until_exhausted == 4.0 and f.expected_points == 40


def test_a_running_campaign_counts_only_what_is_left_of_its_window():
    f = forecast(budget=1000, starts=NOW - timedelta(days=5), length=7)  # two days left
    assert f.window_days == 2 and f.expected_points == 20


def test_a_campaign_that_pays_nothing_never_runs_out():
    f = forecast(budget=100, paid=0)
    assert f.days_until_exhausted is None and not f.runs_out and f.expected_points == 0
