"""Campaigns in the console: drafted into a rulebook version, simulated, published by a second
administrator; paused, resumed and ended at once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, AuditEvent, Resident
from carbon_platform.services import audit, campaigns
from tests import factories as f
from tests.admin.helpers import console, csrf_token

BEIJING = timezone(timedelta(hours=8))


def post(client, path, data, page):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def form(campaign_id="bus_double", *, starts, days=7, budget=100, **over):
    fields = {"id": campaign_id, "name_zh": "公交双倍积分", "name_en": "Double points on buses",
              "starts_at": starts.strftime("%Y-%m-%dT%H:%M"), "ends_at": (starts + timedelta(days=days)).strftime(
                  "%Y-%m-%dT%H:%M"), "scenarios": "bus_ride", "districts": "", "account_types": "resident",
              "multiplier": "2", "fixed_bonus": "", "first_time_bonus": "", "streak_actions": "", "streak_per": "",
              "streak_points": "", "budget_points": str(budget), "per_participant_points": ""}
    return {**fields, **over}


ride = f.bus_ride


@pytest.fixture
def city(app):
    client = console(app, AdminRole.OPERATOR)
    with app.app_context():
        now = datetime.now(BEIJING)
        for n in range(10):  # ten rides in the last days, 80 g → 16 points each
            ride(f.resident(district_code="370902"), now - timedelta(days=n % 5, hours=3), f"ride-{n}")
        f.admin(AdminRole.SUPER_ADMIN, username="second")
        commit()
    return client


def publish(app, client, data):
    """Draft the campaign through the form, then submit it and have a second administrator approve it."""
    drafted = post(client, "/admin/campaigns/new", data, "/admin/campaigns/new")
    assert drafted.status_code == 302, drafted.get_data(as_text=True)[:800]
    page = drafted.headers["Location"].split("?")[0]
    post(client, f"{page}/submit", {"effective_from": ""}, page)
    second = console(app, AdminRole.SUPER_ADMIN)
    assert post(second, f"{page}/approve", {"note": ""}, page).status_code == 302
    return drafted.headers["Location"]


def test_a_new_campaign_is_simulated_on_recent_behaviour_and_published_with_a_second_administrator(app, city):
    tomorrow = (datetime.now(BEIJING) + timedelta(days=1)).replace(second=0, microsecond=0)
    drafted = post(city, "/admin/campaigns/new", form(starts=tomorrow), "/admin/campaigns/new")
    what_if = city.get(drafted.headers["Location"]).get_data(as_text=True)
    # the last 30 days replayed from tomorrow: 10 rides × 16 extra points = 160, i.e. 5.33 a day; the campaign
    # runs 7 days, so it would pay 7 × 5.33 = 37 (rounded down) of its budget of 100, which would last 18.8
    # days: longer than the campaign, so the page says it will not run out, 63 left (not "18.8 days").
    assert 'data-campaign="bus_double"' in what_if
    assert 'data-figure="extra_points">160<' in what_if
    assert 'data-figure="window_days">7.0 天<' in what_if
    assert re.search(r'data-figure="expected_points">37\s*\(剩余预算的 37%\)', what_if)
    assert 'data-figure="budget_outcome">活动结束前不会用完，预计剩余 63<' in what_if
    assert "18.8" not in what_if
    page = drafted.headers["Location"].split("?")[0]
    post(city, f"{page}/submit", {"effective_from": ""}, page)
    assert post(console(app, AdminRole.SUPER_ADMIN), f"{page}/approve", {"note": ""}, page).status_code == 302
    listed = city.get("/admin/campaigns").get_data(as_text=True)
    assert 'data-campaign="bus_double" data-state="scheduled"' in listed


def test_pause_resume_and_end_take_effect_at_once(app, city):
    started = (datetime.now(BEIJING) - timedelta(hours=1)).replace(second=0, microsecond=0)
    publish(app, city, form(starts=started, budget=10_000))
    with app.app_context():
        rider = f.resident(district_code="370902")
        commit()
        rider_id = rider.id

    def paid(key):
        """Points for a ride now (received a minute later, under the version just published)."""
        with app.app_context():
            action = ride(db.session.get(Resident, rider_id), datetime.now(BEIJING), key).action
            commit()
            return action.points

    assert paid("a") == 32  # 16 × 2 while running
    post(city, "/admin/campaigns/bus_double/pause", {}, "/admin/campaigns")
    assert paid("b") == 16
    post(city, "/admin/campaigns/bus_double/resume", {}, "/admin/campaigns")
    assert paid("c") == 32
    post(city, "/admin/campaigns/bus_double/end", {}, "/admin/campaigns")
    assert paid("d") == 16
    listed = city.get("/admin/campaigns").get_data(as_text=True)
    assert 'data-campaign="bus_double" data-state="ended"' in listed
    results = city.get("/admin/campaigns/bus_double").get_data(as_text=True)
    assert 'data-figure="paid">32<' in results and 'data-figure="participants">1<' in results
    with app.app_context():
        events = db.session.execute(sa.select(AuditEvent.action, AuditEvent.target_id).where(
            AuditEvent.action.startswith("campaign.")).order_by(AuditEvent.id)).all()
    assert events == [("campaign.pause", "bus_double"), ("campaign.resume", "bus_double"),
                      ("campaign.end", "bus_double")]


def test_an_ended_campaign_cannot_be_paused_again(app, city):
    started = (datetime.now(BEIJING) - timedelta(hours=1)).replace(second=0, microsecond=0)
    publish(app, city, form(starts=started))
    with app.app_context():
        campaigns.end("bus_double", admin_id=None, actor=audit.SYSTEM)
        commit()
        with pytest.raises(Exception, match="over"):
            campaigns.pause("bus_double", admin_id=None, actor=audit.SYSTEM)
    refused = post(city, "/admin/campaigns/bus_double/pause", {}, "/admin/campaigns")
    assert refused.status_code == 302  # back to the list, which says why in the console's language
    assert "这个活动已经结束" in city.get(refused.headers["Location"]).get_data(as_text=True)
