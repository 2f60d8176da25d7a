"""GET/PATCH /api/v1/me and the points history."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Resident
from carbon_platform.services import ledger
from tests import factories as f
from tests.mobile_api.helpers import assert_error, resident_headers


def resident_with_history(app, client):
    phone = f.phone()
    headers = resident_headers(client, app, phone)
    with app.app_context():
        account_id = db.session.execute(sa.select(Resident.account_id)).scalar_one()
        f.fund(account_id, 100, grams=2500, expires_in_days=10)
        f.fund(account_id, 40, grams=400, hold_days=2, expires_in_days=200)
        f.fund(account_id, 60, grams=600, expires_in_days=300)
        ledger.spend(account_id, points=30, idempotency_key=f.key())
        commit()
    return headers


def test_me_shows_balances_expiring_points_and_lifetime_reduction(client, app):
    headers = resident_with_history(app, client)
    me = client.get("/api/v1/me", headers=headers).json
    assert me["balances"].pop("next_release_at") is not None  # the 40 held points (see the test below)
    assert me["balances"] == {"available": 130, "pending": 40, "expiring_soon": 70, "expiring_within_days": 30}
    assert me["reduction"] == {"lifetime_grams": 3500}
    assert me["household"] is None and me["account_frozen"] is False


def test_profile_updates_and_real_name_can_be_removed(client, app):
    headers = resident_headers(client, app)
    with app.app_context():
        f.districts()
        commit()
    response = client.patch("/api/v1/me", headers=headers,
                            json={"display_name": "泰山脚下", "district": "370911", "real_name": "张三"})
    assert response.status_code == 200
    assert response.json["district"]["name_zh"] == "岱岳区" and response.json["real_name"] == "张三"
    cleared = client.patch("/api/v1/me", headers=headers, json={"real_name": None})
    assert cleared.json["real_name"] is None and cleared.json["display_name"] == "泰山脚下"
    assert_error(client.patch("/api/v1/me", headers=headers, json={"district": "999999"}), 422, "invalid_input")


def test_mass_assignment_is_refused_and_changes_nothing(client, app):
    headers = resident_headers(client, app)
    before = client.get("/api/v1/me", headers=headers).json
    for field, value in (("balance", 10**6), ("points_available", 5), ("role", "admin"), ("status", "active"),
                         ("owner_id", 1), ("account_frozen", True), ("phone", "13800000000"), ("id", 99)):
        body = assert_error(client.patch("/api/v1/me", headers=headers, json={"display_name": "x", field: value}),
                            422, "validation_error")
        assert field in body["details"]["json"]
    assert client.get("/api/v1/me", headers=headers).json == before


def test_points_history_is_paginated_newest_first(client, app):
    headers = resident_with_history(app, client)
    page = client.get("/api/v1/me/points/history?page=1&page_size=2", headers=headers)
    assert page.status_code == 200
    assert [m["kind"] for m in page.json] == ["spend", "earn"]
    assert page.json[0]["points"] == -30
    assert json.loads(page.headers["X-Pagination"]) == {
        "total": 4, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 1, "next_page": 2,
    }
    second = client.get("/api/v1/me/points/history?page=2&page_size=2", headers=headers).json
    assert [m["grams"] for m in second] == [400, 2500]
    assert_error(client.get("/api/v1/me/points/history?page_size=1000", headers=headers), 422)


def test_pending_points_say_when_they_become_spendable_in_balance_and_history(client, app):
    phone = f.phone()
    headers = resident_headers(client, app, phone)
    now = utcnow().replace(microsecond=0)
    with app.app_context():
        account_id = db.session.execute(sa.select(Resident.account_id)).scalar_one()
        f.fund(account_id, 100, now=now)  # spendable at once
        f.fund(account_id, 40, hold_days=5, now=now)
        f.fund(account_id, 25, hold_days=2, now=now)
        commit()
    balances = client.get("/api/v1/me", headers=headers).json["balances"]
    assert balances["pending"] == 65
    assert balances["next_release_at"] == (now + timedelta(days=2)).isoformat()  # the soonest lot, in UTC
    assert balances["next_release_at"].endswith("+00:00")
    history = client.get("/api/v1/me/points/history", headers=headers).json
    assert [(m["points"], m["release_at"]) for m in history] == [
        (25, (now + timedelta(days=2)).isoformat()), (40, (now + timedelta(days=5)).isoformat()),
        (100, now.isoformat())]
    with app.app_context():
        list(ledger.settle_due(now + timedelta(days=3)))
        ledger.spend(account_id, points=10, idempotency_key=f.key(), now=now + timedelta(days=3))
        commit()
    balances = client.get("/api/v1/me", headers=headers).json["balances"]
    assert (balances["pending"], balances["next_release_at"]) == (40, (now + timedelta(days=5)).isoformat())
    kinds = {m["kind"]: m["release_at"] for m in client.get("/api/v1/me/points/history", headers=headers).json}
    assert kinds["spend"] is None and kinds["release"] is None
    with app.app_context():
        list(ledger.settle_due(now + timedelta(days=6)))
        commit()
    assert client.get("/api/v1/me", headers=headers).json["balances"]["next_release_at"] is None
