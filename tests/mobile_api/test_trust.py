"""Self-reports under rulebook 2026.3's trust per channel: photos a scene needs, bounds per report and per day.

A report without the photos its app channel asks for is refused with a 422 and nothing is written; one beyond a
bound is computed but waits for a reviewer (``over_bound``), with the reason in both languages. The daily count is
read under the account's lock, so two reports racing for the last place under the bound cannot both get it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus
from carbon_platform.services import rulebooks
from tests import factories as f
from tests.mobile_api.helpers import assert_error, resident_headers
from tests.mobile_api.test_evidence import jpeg_with_gps, upload
from tests.serving import race, served

BEIJING = timezone(timedelta(hours=8))
REPETITIONS = 20


@pytest.fixture
def headers(app, client):
    """A logged-in resident with rulebook 2026.3 in force."""
    with app.app_context():
        seeding.load_reference()
        source = resources.files("seeds").joinpath("rulebook-2026.3.yaml").read_text("utf-8")
        document, _ = rulebooks.parse_source(source)
        rulebooks.publish(document, effective_from=utcnow() - timedelta(seconds=1), actor=f.TEST_ACTOR)
        commit()
    return resident_headers(client, app)


def when() -> str:
    # Two hours ago, the same instant for every report of a test: all on one Beijing day whatever the clock says.
    return (datetime.now(BEIJING) - timedelta(hours=2)).replace(microsecond=0).isoformat()


def report(client, headers, key, scenario, inputs, *, at=None, photos=()):
    return client.post("/api/v1/actions", headers={**headers, "Idempotency-Key": key},
                       json={"scenario": scenario, "occurred_at": at or when(), "inputs": inputs,
                             "evidence": list(photos)})


def actions(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Action))


def test_a_report_without_the_photo_its_scene_needs_is_refused_and_nothing_is_written(client, app, headers):
    bare = report(client, headers, "rec-0", "recyclables", {"clothes_kg": 2})
    body = assert_error(bare, 422, "evidence_required")
    assert body["details"] == {"needed": 1}
    assert actions(app) == 0
    photo = upload(client, headers, jpeg_with_gps()).json["id"]
    # The same photo twice is one photo: tree planting asks for two (the planting and its certificate).
    assert_error(report(client, headers, "tree-0", "tree_planting", {"trees": 3}, photos=[photo, photo]), 422,
                 "evidence_required")
    assert actions(app) == 0
    with_photo = report(client, headers, "rec-1", "recyclables", {"clothes_kg": 2}, photos=[photo])
    # 2 kg × 1,280 g/kg = 2,560 g → 512 points: within 3 kg, credited at once.
    assert with_photo.status_code == 201 and (with_photo.json["status"], with_photo.json["points"]) == ("credited", 512)
    second = upload(client, headers, jpeg_with_gps()).json["id"]
    third = upload(client, headers, jpeg_with_gps()).json["id"]
    trees = report(client, headers, "tree-1", "tree_planting", {"trees": 3}, photos=[second, third])
    assert trees.status_code == 201 and (trees.json["status"], trees.json["reason"]) == ("review", "review_required")


def test_the_third_bus_ride_of_a_day_and_a_long_one_wait_for_a_reviewer(client, app, headers):
    at = when()
    statuses = [report(client, headers, f"bus-{i}", "bus_ride", {"distance_km": 6.2}, at=at).json for i in range(3)]
    assert [s["status"] for s in statuses] == ["credited", "credited", "review"]
    held = statuses[2]
    assert (held["reason"], held["detail"], held["points"]) == ("over_bound", "count_per_day=3>2", 33)
    assert "今天第 3 次申报，每天凭申报可计 2 次" in held["reason_zh"]
    assert "report 3 of the day, 2 a day on the report alone" in held["reason_en"]
    receipt = client.get(f"/api/v1/me/actions/{held['id']}?lang=en", headers=headers).json
    assert receipt["receipt"]["status"] == "review" and "(beyond)" in receipt["receipt_text"]
    # A long ride, on another day (yesterday): the count is per Beijing day, so only the distance holds it.
    yesterday = (datetime.fromisoformat(at) - timedelta(days=1)).isoformat()
    long = report(client, headers, "bus-long", "bus_ride", {"distance_km": 22.5}, at=yesterday).json
    assert (long["status"], long["detail"]) == ("review", "distance_km=22.5>15")
    assert "乘车距离 22.5 km，凭申报最多 15 km" in long["reason_zh"]
    # Review never pays before a reviewer: the held actions have no journal.
    with app.app_context():
        held_rows = db.session.scalars(sa.select(Action).where(Action.status == ActionStatus.REVIEW)).all()
        assert len(held_rows) == 2 and all(a.journal_id is None for a in held_rows)


@pytest.mark.concurrency
def test_two_reports_racing_for_the_last_place_under_the_daily_bound_get_it_once(app, client, headers):
    """Bus rides: two a day on the report alone. One is counted; two more race for the second place, twenty times,
    each on its own connection: exactly one is credited and the other waits for a reviewer."""
    with served(app) as address:
        for repetition in range(REPETITIONS):
            resident = resident_headers(client, app)
            at = when()
            first = report(client, resident, f"first-{repetition}", "bus_ride", {"distance_km": 6.2}, at=at)
            assert first.json["status"] == "credited"
            results = race(address, [
                ("POST", "/api/v1/actions", {**resident, "Idempotency-Key": f"race-{repetition}-{i}"},
                 {"scenario": "bus_ride", "occurred_at": at, "inputs": {"distance_km": 6.2}}) for i in range(2)])
            assert [status for status, _ in results] == [201, 201], (repetition, results)
            outcomes = sorted(body["status"] for _, body in results)
            assert outcomes == ["credited", "review"], (repetition, outcomes)
